package load

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Report is what a load run measured; Merge adds several together.
type Report struct {
	Script      string `json:"script"`
	Connections int    `json:"connections"`
	// Shard is "I/N" for one shard's report, "" for a whole run or a merge.
	Shard  string   `json:"shard,omitempty"`
	Shards []string `json:"merged_shards,omitempty"`
	// Threads says how many CPU threads ran the conversations and why
	// (empty in a merge, whose shards may have chosen differently).
	Threads string `json:"threads,omitempty"`
	// Rate is the --rate of an open-model run, zero otherwise.
	Rate float64 `json:"rate,omitempty"`

	Started  time.Time     `json:"started"`
	Duration time.Duration `json:"duration_ns"`

	// Planned is the number of iterations asked for (0 for a run bounded
	// by time only).
	Planned    int   `json:"planned"`
	OK         int64 `json:"ok"`
	Failed     int64 `json:"failed"`
	Messages   int64 `json:"messages_accepted"`
	Handshakes int64 `json:"tls_handshakes"`
	Resumed    int64 `json:"tls_resumed"`
	// Interrupted: Ctrl-C stopped the run; Stopped names another early
	// stop ("max-errors").
	Interrupted bool   `json:"interrupted,omitempty"`
	Stopped     string `json:"stopped,omitempty"`

	Latencies []*Latency `json:"latencies"`
	Failures  []*Failure `json:"failures,omitempty"`
}

// Failure is a group of failed iterations with the same cause: a reply's
// code and text, or an error's kind, and the script line where the first
// of them failed.
type Failure struct {
	Reason string `json:"reason"`
	Code   int    `json:"code,omitempty"`
	Count  int64  `json:"count"`
	File   string `json:"file"`
	Line   int    `json:"line"`
	Source string `json:"source"`
	// Iteration is the first failed iteration of the group.
	Iteration int `json:"first_iteration"`
}

// Iterations is how many ran to an end, passed or failed.
func (r *Report) Iterations() int64 { return r.OK + r.Failed }

// MessagesPerSecond and ConversationsPerSecond are the throughput.
func (r *Report) MessagesPerSecond() float64      { return perSecond(r.Messages, r.Duration) }
func (r *Report) ConversationsPerSecond() float64 { return perSecond(r.Iterations(), r.Duration) }

func perSecond(n int64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// Latency returns the named histogram's summary, or nil.
func (r *Report) Latency(name string) *Latency {
	for _, l := range r.Latencies {
		if l.Name == name {
			return l
		}
	}
	return nil
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// ReadFile reads a report written by WriteJSON.
func ReadFile(path string) (*Report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Decode(path, b)
}

// Decode reads a report written by WriteJSON from b, read from path.
func Decode(path string, b []byte) (*Report, error) {
	var r Report
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: not a load report: %w", path, err)
	}
	return &r, nil
}

// Merge adds reports of shards run at the same time: counts are added,
// histograms merged, failure groups joined (the first line seen kept).
// The duration is the longest shard's, since they ran side by side.
func Merge(reports ...*Report) (*Report, error) {
	if len(reports) == 0 {
		return nil, fmt.Errorf("nothing to merge")
	}
	out := &Report{Script: reports[0].Script, Started: reports[0].Started, Rate: 0}
	hist := map[string]*hdrhistogram.Histogram{}
	groups := map[string]*Failure{}
	for _, r := range reports {
		if r.Script != out.Script {
			return nil, fmt.Errorf("reports of different scripts: %s and %s", out.Script, r.Script)
		}
		if r.Started.Before(out.Started) {
			out.Started = r.Started
		}
		out.Connections += r.Connections
		out.Rate += r.Rate
		out.Duration = max(out.Duration, r.Duration)
		out.Planned += r.Planned
		out.OK += r.OK
		out.Failed += r.Failed
		out.Messages += r.Messages
		out.Handshakes += r.Handshakes
		out.Resumed += r.Resumed
		out.Interrupted = out.Interrupted || r.Interrupted
		if out.Stopped == "" {
			out.Stopped = r.Stopped
		}
		if r.Shard != "" {
			out.Shards = append(out.Shards, r.Shard)
		}
		out.Shards = append(out.Shards, r.Shards...)
		for _, l := range r.Latencies {
			if l.h == nil {
				return nil, fmt.Errorf("histogram %q has no data", l.Name)
			}
			if h := hist[l.Name]; h != nil {
				h.Merge(l.h)
			} else {
				hist[l.Name] = hdrhistogram.Import(l.h.Export())
			}
		}
		for _, f := range r.Failures {
			if g := groups[f.Reason]; g != nil {
				g.Count += f.Count
				if f.Iteration < g.Iteration {
					g.Iteration = f.Iteration
				}
				continue
			}
			c := *f
			groups[f.Reason] = &c
			out.Failures = append(out.Failures, &c)
		}
	}
	if len(out.Shards) > 0 {
		if dup := duplicate(out.Shards); dup != "" {
			return nil, fmt.Errorf("shard %s is in more than one report", dup)
		}
	}
	sortFailures(out.Failures)
	var err error
	out.Latencies, err = sortedLatencies(hist)
	return out, err
}

func duplicate(s []string) string {
	seen := map[string]bool{}
	for _, x := range s {
		if seen[x] {
			return x
		}
		seen[x] = true
	}
	return ""
}

func sortFailures(f []*Failure) {
	slices.SortStableFunc(f, func(a, b *Failure) int {
		if a.Count != b.Count {
			if a.Count > b.Count {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Reason, b.Reason)
	})
}

// WriteSummary writes the report for a person: counts, throughput, the
// latency table in milliseconds, and the failure groups.
func (r *Report) WriteSummary(w io.Writer) {
	head := fmt.Sprintf("load: %s, %d connections", r.Script, r.Connections)
	if r.Rate > 0 {
		head += fmt.Sprintf(", %g iterations/s started", r.Rate)
	}
	if r.Shard != "" {
		head += ", shard " + r.Shard
	}
	if len(r.Shards) > 0 {
		head += fmt.Sprintf(", %d shards merged", len(r.Shards))
	}
	fmt.Fprintln(w, head)
	switch {
	case r.Interrupted:
		fmt.Fprintf(w, "interrupted: partial results after %s\n", round(r.Duration))
	case r.Stopped != "":
		fmt.Fprintf(w, "stopped early (%s) after %s\n", r.Stopped, round(r.Duration))
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	its := fmt.Sprintf("%d ok, %d failed", r.OK, r.Failed)
	if r.Planned > 0 {
		its += fmt.Sprintf(" (of %d)", r.Planned)
	}
	fmt.Fprintf(tw, "iterations\t%s\n", its)
	fmt.Fprintf(tw, "messages\t%d accepted\n", r.Messages)
	fmt.Fprintf(tw, "throughput\t%.1f messages/s, %.1f conversations/s over %s\n", r.MessagesPerSecond(), r.ConversationsPerSecond(), round(r.Duration))
	if r.Handshakes > 0 {
		fmt.Fprintf(tw, "TLS\t%d handshakes, %d resumed a session\n", r.Handshakes, r.Resumed)
	}
	if r.Threads != "" {
		fmt.Fprintf(tw, "threads\t%s\n", r.Threads)
	}
	tw.Flush()
	if len(r.Latencies) > 0 {
		fmt.Fprintln(w)
		width := len("latency (ms)")
		for _, l := range r.Latencies {
			width = max(width, len(l.Name))
		}
		// Names left, numbers right: tabwriter aligns every column one way.
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintf(tw, "%-*s\tcount\tp50\tp90\tp99\tp99.9\tmax\t\n", width, "latency (ms)")
		for _, l := range r.Latencies {
			fmt.Fprintf(tw, "%-*s\t%d\t%s\t%s\t%s\t%s\t%s\t\n", width, l.Name, l.Count, ms(l.P50), ms(l.P90), ms(l.P99), ms(l.P999), ms(l.Max))
		}
		tw.Flush()
	}
	if len(r.Failures) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "failures")
		for _, f := range r.Failures {
			fmt.Fprintf(w, "%8d  %s\n          first in iteration %d at %s:%d: %s\n", f.Count, f.Reason, f.Iteration, f.File, f.Line, f.Source)
		}
	}
}

func ms(us int64) string { return fmt.Sprintf("%.3f", float64(us)/1000) }

func round(d time.Duration) time.Duration {
	switch {
	case d > time.Second:
		return d.Round(10 * time.Millisecond)
	case d > time.Millisecond:
		return d.Round(10 * time.Microsecond)
	}
	return d
}
