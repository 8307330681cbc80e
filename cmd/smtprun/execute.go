package main

import (
	"context"
	"crypto/x509"
	"io"

	"github.com/smtprun/smtprun/cmd/smtprun/internal/present"
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
	tr := present.NewTranscript(w, present.Plain(), false)
	tr.Main = prog.File()
	rec := &rpt.Recorder{File: prog.File()}
	if o.explain {
		tr.Teach = &present.Teacher{}
		rec.Explain = present.Explainer()
	}
	conv, err := o.newConversation(prog, scriptVars(o, files), pool)
	if err != nil {
		return execution{err: err, rec: rec}
	}
	defer conv.close()
	for _, n := range conv.notes {
		tr.Note(n)
	}
	ex := execution{notes: conv.notes}
	ex.res, ex.err = engine.New(conv.engineOptions(observers{tr, rec})...).Run(ctx, prog)
	tr.Finish(ex.res, ex.err)
	ex.rec, ex.host = rec, tr.Host
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
