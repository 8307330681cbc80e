package main

import (
	"context"
	"crypto/x509"
	"io"

	"github.com/smtprun/smtprun/dsl"
	"github.com/smtprun/smtprun/engine"
	rpt "github.com/smtprun/smtprun/report"
)

// execution is one script's run in test mode: what the engine returned,
// the recorded steps for the reports, and what the transcript learned.
type execution struct {
	res   engine.Result
	err   error
	rec   *rpt.Recorder
	host  string
	notes []string
}

// execute runs prog as `smtprun SCRIPT` would, with its own engine and,
// under --sandbox, its own emulated servers, writing the plain transcript
// to w. Nothing is shared with other scripts running at the same time.
func execute(ctx context.Context, o *options, files []*variablesFile, pool *x509.CertPool, prog *dsl.Program, w io.Writer) execution {
	var vars dsl.Vars = scriptVars(o, files)
	engOpts := []engine.Option{
		engine.WithTimeout(o.timeout),
		engine.WithInsecure(o.insecure),
		engine.WithPlaintextAuth(o.plaintextAuth),
		engine.WithConnectTo(o.connectTo...),
	}
	tr := newTranscript(w, plainStyle(), false)
	tr.main = prog.File()
	rec := &rpt.Recorder{File: prog.File()}
	if o.explain {
		tr.teach = &teacher{}
		rec.Explain = explainer(&teacher{})
	}
	var ex execution
	if o.sandbox {
		sr, err := setupSandbox(o, prog, vars)
		if err != nil {
			return execution{err: err, rec: rec}
		}
		defer sr.sb.Close()
		vars = sr.vars
		engOpts = append(engOpts, sr.opts...)
		for _, n := range sr.notes {
			tr.note(n)
		}
		ex.notes = sr.notes
	} else if pool != nil {
		engOpts = append(engOpts, engine.WithRootCAs(pool))
	}
	engOpts = append(engOpts, engine.WithObserver(observers{tr, rec}), engine.WithVars(vars))
	ex.res, ex.err = engine.New(engOpts...).Run(ctx, prog)
	tr.finish(ex.res, ex.err)
	ex.rec, ex.host = rec, tr.host
	return ex
}

// observers hands every event to each observer in turn.
type observers []engine.Observer

// Event implements engine.Observer.
func (os observers) Event(ev engine.Event) {
	for _, o := range os {
		o.Event(ev)
	}
}

// explainer gives a Recorder the --explain lines of each event, from its
// own teacher (which remembers the host connected to).
func explainer(t *teacher) func(engine.Event) []string {
	return func(ev engine.Event) []string {
		switch ev := ev.(type) {
		case engine.Connected:
			t.host = hostOf(ev.Address)
			return helpLines("explain-connected")
		case engine.Sent:
			return t.sent(ev)
		case engine.Received:
			return t.received(ev)
		case engine.TLSEstablished:
			if !ev.Implicit {
				return helpLines("explain-ehlo-again")
			}
		}
		return nil
	}
}

// plainStyle is a style without colour, for reports and captured text.
func plainStyle() style { return newStyle(io.Discard, true) }
