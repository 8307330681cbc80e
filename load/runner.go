package load

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/smtprun/smtprun/dsl"
	"github.com/smtprun/smtprun/engine"
	"github.com/smtprun/smtprun/internal/smtp"
)

// Config is one load run.
type Config struct {
	Program *dsl.Program
	// Engine are the options every conversation runs with (variables,
	// CAs, timeout, the sandbox's dialer); Run adds lean mode, its
	// observer and a shared TLS session cache.
	Engine []engine.Option
	// Connections is how many conversations run at once (at least 1).
	Connections int
	// Iterations bounds the whole runs of the script (0: no bound, then
	// Duration must be set); with Shards, the whole run's count.
	Iterations int
	// Duration stops starting iterations after this long (0: no bound).
	Duration time.Duration
	// Rate starts this many iterations per second (open model); 0 starts
	// one as soon as a connection is free (closed model).
	Rate float64
	// MaxErrors stops starting iterations once this many failed (0: never).
	MaxErrors int
	// Shard and Shards run the Shard-th (from 0) of Shards equal parts of
	// the iterations; Shards 0 or 1 is the whole run.
	Shard, Shards int
}

// Progress is a snapshot of a running load, for a display.
type Progress struct {
	Done, OK, Failed, Messages int64
	Planned                    int // 0 when bounded by time only
	Elapsed                    time.Duration
	Duration                   time.Duration // the --duration, or 0
}

// Runner is a load run; Progress may be called from any goroutine while
// Run runs.
type Runner struct {
	cfg   Config
	rec   recorder
	start time.Time
	// started is start for Progress, which another goroutine calls while
	// Run sets start.
	started  atomic.Pointer[time.Time]
	ok       atomic.Int64
	failed   atomic.Int64
	messages atomic.Int64
	hands    atomic.Int64
	resumed  atomic.Int64
	planned  int
	// first is ${ITERATION} of this shard's first iteration, step the
	// distance between its iterations' numbers.
	first, step int

	mu       sync.Mutex
	failures map[string]*Failure
	order    []*Failure
	stopped  string
	stopFn   func()
}

// New checks the configuration and prepares a run.
func New(cfg Config) (*Runner, error) {
	switch {
	case cfg.Program == nil:
		return nil, errors.New("no program")
	case cfg.Connections < 1:
		return nil, fmt.Errorf("connections must be at least 1, not %d", cfg.Connections)
	case cfg.Iterations < 0:
		return nil, fmt.Errorf("iterations must not be negative")
	case cfg.Iterations == 0 && cfg.Duration <= 0:
		return nil, errors.New("give a number of iterations or a duration, or both")
	case cfg.Rate < 0:
		return nil, fmt.Errorf("rate must not be negative")
	case cfg.Shards > 1 && (cfg.Shard < 0 || cfg.Shard >= cfg.Shards):
		return nil, fmt.Errorf("shard %d is not from 0 to %d", cfg.Shard, cfg.Shards-1)
	}
	r := &Runner{cfg: cfg, failures: map[string]*Failure{}, first: 1, step: 1}
	r.planned = cfg.Iterations
	if n := cfg.Shards; n > 1 {
		if cfg.Iterations > 0 {
			// Contiguous parts, the first ones one longer: shard i of n
			// numbers its iterations from the end of the parts before it.
			base, extra := cfg.Iterations/n, cfg.Iterations%n
			r.planned = base
			if cfg.Shard < extra {
				r.planned++
			}
			r.first = 1 + cfg.Shard*base + min(cfg.Shard, extra)
		} else {
			// Bounded by time only: shards interleave their numbers.
			r.first, r.step = 1+cfg.Shard, n
		}
	}
	return r, nil
}

// Planned is the number of iterations this run (or shard) is to run; 0
// when it is bounded by time only.
func (r *Runner) Planned() int { return r.planned }

// Progress is a snapshot of the counters.
func (r *Runner) Progress() Progress {
	p := Progress{OK: r.ok.Load(), Failed: r.failed.Load(), Messages: r.messages.Load(), Planned: r.planned, Duration: r.cfg.Duration}
	p.Done = p.OK + p.Failed
	if t := r.started.Load(); t != nil {
		p.Elapsed = time.Since(*t)
	}
	return p
}

// Run runs the load until its iterations are done, its duration is over,
// MaxErrors iterations failed, or ctx is cancelled (Ctrl-C): then no new
// iteration starts, the conversations under way say QUIT, and the report
// covers what ran, marked Interrupted.
func (r *Runner) Run(ctx context.Context) (*Report, error) {
	cfg := r.cfg
	start := time.Now()
	r.started.Store(&start)
	// stop ends the starting of iterations; ctx's cancellation also ends
	// the conversations under way.
	startCtx, stop := context.WithCancel(ctx)
	defer stop()
	if cfg.Duration > 0 {
		t := time.AfterFunc(cfg.Duration, stop)
		defer t.Stop()
	}
	r.stopFn = stop
	sessions := tls.NewLRUClientSessionCache(max(64, cfg.Connections))
	var next atomic.Int64 // index of the next iteration, from 0
	take := func() (int, bool) {
		if startCtx.Err() != nil {
			return 0, false
		}
		k := int(next.Add(1) - 1)
		if r.planned > 0 && k >= r.planned {
			return 0, false
		}
		return k, true
	}
	// due carries, in the open model, when each iteration was due.
	var due chan dueIteration
	if cfg.Rate > 0 {
		due = make(chan dueIteration, cfg.Connections)
		go r.schedule(startCtx, due, take)
	}
	var wg sync.WaitGroup
	for range cfg.Connections {
		w := &worker{r: r, batch: make([]sample, 0, batchSize)}
		// Keep-alive probes are for idle connections that live long; these
		// live milliseconds, and setting them up costs three system calls
		// a connection. A dialer in cfg.Engine (the sandbox's) wins.
		opts := append([]engine.Option{engine.WithDialer(&net.Dialer{KeepAlive: -1})}, cfg.Engine...)
		opts = append(opts,
			engine.WithLean(true), engine.WithObserver(w), engine.WithTLSSessionCache(sessions))
		w.eng = engine.New(opts...)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer w.flush()
			for {
				var k int
				var at time.Time
				if due != nil {
					d, ok := <-due
					if !ok {
						return
					}
					k, at = d.k, d.at
				} else {
					var ok bool
					if k, ok = take(); !ok {
						return
					}
					at = time.Now()
				}
				w.iterate(ctx, k, at)
			}
		}()
	}
	wg.Wait()
	rep := &Report{Script: cfg.Program.File(), Connections: cfg.Connections, Rate: cfg.Rate, Started: start,
		Duration: time.Since(start), Planned: r.planned, OK: r.ok.Load(), Failed: r.failed.Load(),
		Messages: r.messages.Load(), Handshakes: r.hands.Load(), Resumed: r.resumed.Load(), Interrupted: ctx.Err() != nil}
	if cfg.Shards > 1 {
		rep.Shard = fmt.Sprintf("%d/%d", cfg.Shard, cfg.Shards)
	}
	r.mu.Lock()
	rep.Stopped = r.stopped
	rep.Failures = append(rep.Failures, r.order...)
	r.mu.Unlock()
	sortFailures(rep.Failures)
	var err error
	rep.Latencies, err = r.rec.latencies()
	return rep, err
}

// schedule sends the time each iteration is due, Rate per second from the
// start. When every connection is busy the send waits, but the times stay
// those of the schedule: the wait counts in the conversation's latency.
func (r *Runner) schedule(ctx context.Context, due chan<- dueIteration, take func() (int, bool)) {
	defer close(due)
	interval := time.Duration(float64(time.Second) / r.cfg.Rate)
	for {
		k, ok := take()
		if !ok {
			return
		}
		at := r.started.Load().Add(time.Duration(k) * interval)
		if d := time.Until(at); d > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(d):
			}
		}
		select {
		case <-ctx.Done():
			return
		case due <- dueIteration{k, at}:
		}
	}
}

// dueIteration is an iteration of the open model and when it was due.
type dueIteration struct {
	k  int
	at time.Time
}

// batchSize is how many samples a worker keeps before it hands them over.
const batchSize = 256

// worker runs iterations one after another on its own Engine, whose
// observer it is.
type worker struct {
	r     *Runner
	eng   *engine.Engine
	batch []sample
	// lastVerb is the verb of the last reply's command, so that the
	// replies to a SASL exchange's response lines count as AUTH.
	lastVerb string
	// authTook adds up the replies of the AUTH exchange under way: the
	// AUTH row times whole exchanges, one per login, however many 334
	// challenges each took (those have their own row).
	authTook time.Duration
}

func (w *worker) iterate(ctx context.Context, k int, due time.Time) {
	r := w.r
	n := r.first + k*r.step
	_, err := w.eng.Run(engine.WithIteration(ctx, n), r.cfg.Program)
	took := time.Since(due)
	w.lastVerb, w.authTook = "", 0
	switch {
	case err == nil:
		r.ok.Add(1)
		w.add(Conversation, took)
	case ctx.Err() != nil:
		// Interrupted by Ctrl-C: neither passed nor failed.
	default:
		failed := r.failed.Add(1)
		r.fail(err, n)
		if m := r.cfg.MaxErrors; m > 0 && failed >= int64(m) {
			r.stop("max-errors")
		}
	}
	if len(w.batch) >= batchSize-16 {
		w.flush()
	}
}

// Event records the times a lean run reports.
func (w *worker) Event(ev engine.Event) {
	switch e := ev.(type) {
	case engine.Connected:
		w.add(Connect, e.Took)
	case engine.TLSEstablished:
		w.add(TLSHandshake, e.Took)
		w.r.hands.Add(1)
		if e.Resumed {
			w.r.resumed.Add(1)
		}
	case engine.ReplyTime:
		w.ReplyTime(e)
	}
}

// ReplyTime records one reply's time; the engine calls it directly, as
// an engine.ReplyTimer, so the one event per reply is not boxed.
func (w *worker) ReplyTime(e engine.ReplyTime) {
	name := e.Verb
	switch {
	case name == "":
		return // after raw bytes nobody knows which command it answers
	case name == smtp.CmdAUTH || !hasRow(name) && w.lastVerb == smtp.CmdAUTH:
		// AUTH itself, or a response line of its SASL exchange.
		w.authTook += e.Took
		if e.Code == 334 {
			w.lastVerb = smtp.CmdAUTH
			w.add(AuthChallenge, e.Took)
			return
		}
		w.add(smtp.CmdAUTH, w.authTook)
		w.lastVerb, w.authTook = "", 0
		return
	case hasRow(name):
		if name == smtp.Message && e.Code >= 200 && e.Code < 300 {
			w.r.messages.Add(1)
		}
		name = rowName(name)
	default:
		name = "other"
	}
	w.lastVerb = name
	w.add(name, e.Took)
}

func (w *worker) add(name string, d time.Duration) {
	w.batch = append(w.batch, sample{name, d.Microseconds()})
	if len(w.batch) == cap(w.batch) {
		w.flush()
	}
}

func (w *worker) flush() {
	if len(w.batch) > 0 {
		w.r.rec.add(w.batch)
		w.batch = w.batch[:0]
	}
}

// maxGroups bounds the failure groups: replies that quote an address or
// a queue id would otherwise each be a group of one.
const maxGroups = 50

// fail counts a failed iteration in its group.
func (r *Runner) fail(err error, iteration int) {
	f := describe(err, r.cfg.Program)
	r.mu.Lock()
	defer r.mu.Unlock()
	g := r.failures[f.Reason]
	if g == nil && len(r.order) >= maxGroups {
		f = &Failure{Reason: "(other failures: more than 50 kinds)", File: f.File}
		g = r.failures[f.Reason]
	}
	if g == nil {
		f.Iteration = iteration
		r.failures[f.Reason] = f
		r.order = append(r.order, f)
		g = f
	}
	g.Count++
	if iteration < g.Iteration {
		g.Iteration = iteration
	}
}

func (r *Runner) stop(why string) {
	r.mu.Lock()
	if r.stopped == "" {
		r.stopped = why
	}
	r.mu.Unlock()
	r.stopFn()
}

// describe groups an error: by the server's reply when an expectation
// failed on one, else by the kind of error; with the script line.
func describe(err error, p *dsl.Program) *Failure {
	f := &Failure{File: p.File()}
	var d *dsl.Error
	if ds := dsl.Diagnostics(err); len(ds) > 0 {
		d = ds[0]
	}
	var ae *engine.AssertError
	switch {
	case errors.As(err, &ae) && ae.Got != nil && len(ae.Got.Lines) > 0:
		f.Code = ae.Got.Code
		f.Reason = ae.Got.Lines[0]
		if len(ae.Got.Lines) > 1 {
			f.Reason += " ..."
		}
	case d != nil:
		f.Reason = d.Title
		if d.Label != "" {
			f.Reason += ": " + d.Label
		}
	default:
		f.Reason = err.Error()
	}
	if d != nil {
		f.Line = d.Pos.Line
		line, _ := dsl.SourceLine(p.Source(), d.Pos.Line)
		f.Source = strings.TrimSpace(line)
	}
	return f
}
