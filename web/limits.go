package web

import "time"

// Limits bound what the view keeps and serves. The zero value of a field
// means its default (DefaultLimits).
type Limits struct {
	Sessions       int // most recent sessions kept
	Messages       int // most recent messages kept
	SessionEvents  int // transcript entries (and diagnoses) kept per session; later ones are counted
	PageSize       int // most items one list request returns
	SSEClients     int // live event streams at once
	SSEBacklog     int // events queued for one slow stream before it is dropped
	BodyBytes      int64
	ParseBytes     int64         // most of one .eml read to show it
	MaxWait        time.Duration // longest /messages/wait
	MaxConnections int
}

// DefaultLimits are the bounds `smtprun serve --web` uses (docs/web.md).
var DefaultLimits = Limits{
	Sessions:       500,
	Messages:       1000,
	SessionEvents:  500,
	PageSize:       200,
	SSEClients:     16,
	SSEBacklog:     256,
	BodyBytes:      64 << 10,
	ParseBytes:     32 << 20,
	MaxWait:        60 * time.Second,
	MaxConnections: 64,
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits
	pick := func(v *int, def int) {
		if *v <= 0 {
			*v = def
		}
	}
	pick(&l.Sessions, d.Sessions)
	pick(&l.Messages, d.Messages)
	pick(&l.SessionEvents, d.SessionEvents)
	pick(&l.PageSize, d.PageSize)
	pick(&l.SSEClients, d.SSEClients)
	pick(&l.SSEBacklog, d.SSEBacklog)
	pick(&l.MaxConnections, d.MaxConnections)
	if l.BodyBytes <= 0 {
		l.BodyBytes = d.BodyBytes
	}
	if l.ParseBytes <= 0 {
		l.ParseBytes = d.ParseBytes
	}
	if l.MaxWait <= 0 {
		l.MaxWait = d.MaxWait
	}
	return l
}
