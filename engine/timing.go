package engine

import (
	"context"
	"io"
	"time"
)

// arrivals sits between the connection and the reply parser's buffer and
// notes when each read returned, so a reply is timed by when its bytes
// came off the connection rather than by when the script got round to
// parsing it (a pipelined reply may wait in the buffer for several steps).
type arrivals struct {
	r     io.Reader
	total int64  // bytes read so far
	marks []mark // one per read, oldest first, dropped once parsed
}

type mark struct {
	end int64 // offset just past the read's last byte
	at  time.Time
}

func (a *arrivals) Read(p []byte) (int, error) {
	n, err := a.r.Read(p)
	if n > 0 {
		a.total += int64(n)
		a.marks = append(a.marks, mark{end: a.total, at: time.Now()})
	}
	return n, err
}

// at is when the byte at offset off was read. Marks for earlier bytes are
// dropped: replies are parsed in order.
func (a *arrivals) at(off int64) time.Time {
	i := 0
	for i < len(a.marks)-1 && a.marks[i].end <= off {
		i++
	}
	a.marks = a.marks[i:]
	if len(a.marks) == 0 {
		return time.Now()
	}
	return a.marks[0].at
}

// pause runs the WithBeforeStep function. While it blocks (a --step prompt
// waiting for Enter), replies still owed keep arriving: they are read into
// the buffer as they come, so their times are not inflated by the pause.
// The step is shown masked, as everything leaving the engine is.
func (ss *session) pause(ctx context.Context, next StepStarted) error {
	stop := ss.watchArrivals()
	err := ss.e.beforeStep(ctx, next.redact(&ss.red).(StepStarted))
	stop()
	return err
}

// watchArrivals reads ahead in the background until stopped, when a reply
// is owed to a command already on the wire. Nothing is parsed; the reader
// only fills the buffer, which the next step parses as usual.
func (ss *session) watchArrivals() (stop func()) {
	owed := false
	for _, p := range ss.asked {
		owed = owed || !p.sent.IsZero()
	}
	if ss.conn == nil || !owed {
		return func() {}
	}
	conn, r := ss.conn, ss.r
	conn.SetReadDeadline(time.Time{}) // a pause may last
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		for n := r.Buffered() + 1; n <= r.Size(); n = r.Buffered() + 1 {
			if _, err := r.Peek(n); err != nil {
				// A timeout is the stop below; EOF and other errors are
				// met again by the next read, which reports them.
				return
			}
		}
	}()
	return func() {
		conn.SetReadDeadline(time.Unix(1, 0))
		<-exited
		conn.SetReadDeadline(time.Time{})
	}
}
