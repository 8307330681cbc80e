package sandbox

import (
	"bytes"
	_ "embed"
	"fmt"
	"strings"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"
)

//go:embed limits.yaml
var limitsFile []byte

// limit is one entry of limits.yaml.
type limit struct {
	Max    int    `yaml:"max"`
	Reply  string `yaml:"reply"`
	Source string `yaml:"source"`
	reply  replyTemplate
}

// limits are one provider's sending limits; nil means none.
type limits struct {
	ConcurrentConnections *limit `yaml:"concurrent_connections"`
	MessagesPerMinute     *limit `yaml:"messages_per_minute"`
	RecipientsPerDay      *limit `yaml:"recipients_per_day"`
}

// parseLimits reads limits.yaml and checks it against the profiles: each
// limit has a count and a source, and a reply (none for the throttle) that
// uses only its profile's placeholders.
func parseLimits(data []byte, c *catalog) (map[string]*limits, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var out map[string]*limits
	if err := dec.Decode(&out); err != nil {
		return nil, fmt.Errorf("limits.yaml: %w", err)
	}
	for name, ls := range out {
		p, ok := c.byName[name]
		if !ok {
			return nil, fmt.Errorf("limits.yaml: unknown profile %q", name)
		}
		for what, l := range map[string]*limit{"concurrent_connections": ls.ConcurrentConnections,
			"messages_per_minute": ls.MessagesPerMinute, "recipients_per_day": ls.RecipientsPerDay} {
			if l == nil {
				continue
			}
			if l.Max <= 0 || strings.TrimSpace(l.Source) == "" {
				return nil, fmt.Errorf("limits.yaml: %s %s: max and source are required", name, what)
			}
			if (l.Reply == "") != (what == "messages_per_minute") {
				return nil, fmt.Errorf("limits.yaml: %s %s: a reply is required, except for the throttle", name, what)
			}
			if l.Reply == "" {
				continue
			}
			r, err := parseReply(l.Reply)
			if err == nil {
				err = checkPlaceholders(l.Reply, profileKnows(p))
			}
			if err != nil {
				return nil, fmt.Errorf("limits.yaml: %s %s: %w", name, what, err)
			}
			l.reply = r
		}
	}
	return out, nil
}

var loadLimits = sync.OnceValues(func() (map[string]*limits, error) {
	c, err := loadCatalog()
	if err != nil {
		return nil, err
	}
	return parseLimits(limitsFile, c)
})

// quotaBook is what the limits count, for the whole sandbox: each
// account's authenticated connections and the messages it sent.
type quotaBook struct {
	mu     sync.Mutex
	active map[string]int
	sent   map[string][]sending // oldest first
}

type sending struct {
	at    time.Time
	rcpts int
}

// account is the key limits count under: one provider's user.
func (ss *session) account() string {
	return ss.p.Name + "\x00" + strings.ToLower(ss.authUser)
}

func (ss *session) limits() *limits {
	ls, _ := loadLimits()
	if l := ls[ss.p.Name]; l != nil && ss.authUser != "" && !ss.sb.opts.NoLimits {
		return l
	}
	return &limits{}
}

// takeSlot counts an authenticated connection against the account's
// concurrency limit; a connection that finds the limit reached stays
// over it (overLimit) until it closes.
func (ss *session) takeSlot() {
	l := ss.limits().ConcurrentConnections
	if l == nil || ss.slot != "" {
		return
	}
	q := &ss.sb.quota
	q.mu.Lock()
	defer q.mu.Unlock()
	key := ss.account()
	if q.active[key] >= l.Max {
		ss.overLimit = true
		return
	}
	q.active[key]++
	ss.slot = key
}

// releaseSlot gives the connection's place back, when it closes.
func (ss *session) releaseSlot() {
	if ss.slot == "" {
		return
	}
	q := &ss.sb.quota
	q.mu.Lock()
	if q.active[ss.slot]--; q.active[ss.slot] <= 0 {
		delete(q.active, ss.slot)
	}
	q.mu.Unlock()
	ss.slot = ""
}

// refusedByConcurrency answers MAIL on a connection over the account's
// concurrency limit; true if it did. A connection over it gets a place
// once another closes, as a retry does at Exchange Online.
func (ss *session) refusedByConcurrency() bool {
	l := ss.limits().ConcurrentConnections
	if l == nil || !ss.overLimit {
		return false
	}
	ss.overLimit = false
	ss.takeSlot()
	if !ss.overLimit {
		return false
	}
	ss.emit(Note, fmt.Sprintf("limit: %d connections of %s already send at once (concurrent_connections)", l.Max, ss.authUser))
	ss.send(l.reply, "concurrent_connections")
	return true
}

// refusedByQuota answers the end of a message that would take the account
// over its daily recipients; true if it did. Otherwise the message is
// counted, and a message over the per-minute rate waits, as Exchange
// Online throttles it.
func (ss *session) refusedByQuota(rcpts int) bool {
	ls := ss.limits()
	if ls.RecipientsPerDay == nil && ls.MessagesPerMinute == nil {
		return false
	}
	q := &ss.sb.quota
	q.mu.Lock()
	now := ss.sb.clock()
	key := ss.account()
	list := q.sent[key]
	for len(list) > 0 && now.Sub(list[0].at) >= 24*time.Hour {
		list = list[1:]
	}
	if l := ls.RecipientsPerDay; l != nil {
		total := 0
		for _, s := range list {
			total += s.rcpts
		}
		if total+rcpts > l.Max {
			q.sent[key] = list
			q.mu.Unlock()
			ss.emit(Note, fmt.Sprintf("limit: %s sent to %d recipients in the last 24 hours; %d more would pass %d (recipients_per_day)", ss.authUser, total, rcpts, l.Max))
			ss.send(l.reply, "recipients_per_day")
			return true
		}
	}
	var wait time.Duration
	if l := ls.MessagesPerMinute; l != nil {
		var window []time.Time // the last minute's messages (and those already throttled past now), oldest first
		for _, s := range list {
			if now.Sub(s.at) < time.Minute {
				window = append(window, s.at)
			}
		}
		if len(window) >= l.Max {
			// Max a minute: this one goes when the one Max places before
			// it is a minute old.
			wait = window[len(window)-l.Max].Add(time.Minute).Sub(now)
		}
	}
	q.sent[key] = append(list, sending{at: now.Add(wait), rcpts: rcpts})
	q.mu.Unlock()
	if wait > 0 {
		ss.emit(Note, fmt.Sprintf("limit: %d messages from %s in the last minute; the reply waits %s (messages_per_minute, throttled)", ls.MessagesPerMinute.Max, ss.authUser, wait))
		ss.sb.wait(wait)
	}
	return false
}

// wait passes d by the sandbox's clock: Options.Sleep if set (a test's
// clock moves on at once), otherwise in real time, or less if the
// sandbox closes.
func (s *Sandbox) wait(d time.Duration) {
	if s.opts.Sleep != nil {
		s.opts.Sleep(d)
		return
	}
	s.sleep(d)
}
