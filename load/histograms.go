package load

import (
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/smtprun/smtprun/internal/smtp"
)

// Latencies are recorded in microseconds from 1 µs to one hour, to three
// significant digits: a reply on loopback and a repeat block of a
// thousand messages fit in the same histogram.
const (
	lowestMicros  = 1
	highestMicros = int64(time.Hour / time.Microsecond)
	sigFigs       = 3
)

func newHistogram() *hdrhistogram.Histogram {
	return hdrhistogram.New(lowestMicros, highestMicros, sigFigs)
}

// The names of the histograms that are not a command's verb.
const (
	Connect      = "connect"
	TLSHandshake = "TLS handshake"
	Greeting     = "greeting"
	MessageReply = "message" // the reply to the content: the message accepted or not
	// AuthChallenge times each 334 of a SASL exchange, from the line it
	// answers; the AUTH row times the whole exchange.
	AuthChallenge = "AUTH 334"
	Conversation  = "conversation"
)

// order is how the summary lists the histograms: the command table's
// rows in its order, the TLS handshake after STARTTLS and the challenges
// after AUTH; others follow by name.
var order = func() []string {
	o := []string{Connect}
	for _, c := range smtp.Table() {
		if !c.Histogram {
			continue
		}
		o = append(o, rowName(c.Verb))
		switch c.Verb {
		case smtp.CmdSTARTTLS:
			o = append(o, TLSHandshake)
		case smtp.CmdAUTH:
			o = append(o, AuthChallenge)
		}
	}
	return append(o, "other", Conversation)
}()

// rowName is the histogram of a command's replies: its verb, or a name
// for the pseudo-verbs.
func rowName(verb string) string {
	switch verb {
	case smtp.Greeting:
		return Greeting
	case smtp.Message:
		return MessageReply
	}
	return verb
}

// hasRow reports a command with a histogram of its own; the replies to
// other lines (an extension's command, a SASL response written by hand)
// go to "other", so a script cannot make the set grow without end.
func hasRow(verb string) bool {
	c, ok := smtp.Lookup(verb)
	return ok && c.Histogram
}

// Latency is one histogram in a Report: its percentiles for reading and
// its encoding (HdrHistogram's compressed V2, base64) for merging.
type Latency struct {
	Name    string `json:"name"`
	Count   int64  `json:"count"`
	P50     int64  `json:"p50_us"`
	P90     int64  `json:"p90_us"`
	P99     int64  `json:"p99_us"`
	P999    int64  `json:"p99_9_us"`
	Max     int64  `json:"max_us"`
	Encoded string `json:"hdr"`

	h *hdrhistogram.Histogram
}

// Histogram is the decoded histogram, in microseconds.
func (l *Latency) Histogram() *hdrhistogram.Histogram { return l.h }

func latencyOf(name string, h *hdrhistogram.Histogram) (*Latency, error) {
	enc, err := h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	if err != nil {
		return nil, fmt.Errorf("encoding the %s histogram: %w", name, err)
	}
	return &Latency{Name: name, Count: h.TotalCount(), P50: h.ValueAtQuantile(50), P90: h.ValueAtQuantile(90),
		P99: h.ValueAtQuantile(99), P999: h.ValueAtQuantile(99.9), Max: h.Max(), Encoded: string(enc), h: h}, nil
}

// UnmarshalJSON decodes the histogram too, so a Report read back can be
// merged.
func (l *Latency) UnmarshalJSON(b []byte) error {
	type plain Latency
	if err := json.Unmarshal(b, (*plain)(l)); err != nil {
		return err
	}
	h, err := hdrhistogram.Decode([]byte(l.Encoded))
	if err != nil {
		return fmt.Errorf("histogram %q: %w", l.Name, err)
	}
	l.h = h
	return nil
}

// recorder holds the run's histograms. Workers hand it samples in
// batches, so the lock is taken once per batch, not once per reply.
type recorder struct {
	mu sync.Mutex
	h  map[string]*hdrhistogram.Histogram
}

type sample struct {
	name string
	us   int64
}

func (r *recorder) add(batch []sample) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.h == nil {
		r.h = map[string]*hdrhistogram.Histogram{}
	}
	for _, s := range batch {
		h := r.h[s.name]
		if h == nil {
			h = newHistogram()
			r.h[s.name] = h
		}
		// A value past an hour is recorded as an hour rather than lost.
		h.RecordValue(min(max(s.us, lowestMicros), highestMicros))
	}
}

// latencies returns the histograms in the summary's order.
func (r *recorder) latencies() ([]*Latency, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return sortedLatencies(r.h)
}

func sortedLatencies(m map[string]*hdrhistogram.Histogram) ([]*Latency, error) {
	var names []string
	for n := range m {
		names = append(names, n)
	}
	slices.SortFunc(names, func(a, b string) int {
		ia, ib := slices.Index(order, a), slices.Index(order, b)
		switch {
		case ia >= 0 && ib >= 0:
			return ia - ib
		case ia >= 0:
			return -1
		case ib >= 0:
			return 1
		}
		if a < b {
			return -1
		}
		return 1
	})
	var out []*Latency
	for _, n := range names {
		l, err := latencyOf(n, m[n])
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, nil
}
