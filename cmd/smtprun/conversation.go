package main

import (
	"crypto/x509"
	"slices"

	"github.com/smtprun/smtprun/dsl"
	"github.com/smtprun/smtprun/engine"
)

// conversation is a script's run as the conversation flags set it up:
// the engine options, the variables, and under --sandbox the emulated
// servers and what the sandbox supplied.
type conversation struct {
	opts  []engine.Option
	vars  dsl.Vars
	notes []string
	close func()
}

// newConversation prepares a run of prog with vars for every command that
// holds conversations (run, test, load), so that they take the flags the
// same way; pool is --ca's, nil for the system's. The caller adds its
// observer and calls close.
func (o *options) newConversation(prog *dsl.Program, vars dsl.Vars, pool *x509.CertPool) (*conversation, error) {
	c := &conversation{
		opts: []engine.Option{
			engine.WithTimeout(o.timeout),
			engine.WithInsecure(o.insecure),
			engine.WithPlaintextAuth(o.plaintextAuth),
			engine.WithConnectTo(o.connectTo...),
		},
		vars:  vars,
		close: func() {},
	}
	if o.sandbox {
		sr, err := setupSandbox(o, prog, vars)
		if err != nil {
			return nil, err
		}
		c.close = func() { sr.sb.Close() }
		c.vars = sr.vars
		c.opts = append(c.opts, sr.opts...)
		c.notes = sr.notes
	} else if pool != nil {
		c.opts = append(c.opts, engine.WithRootCAs(pool))
	}
	return c, nil
}

// engineOptions are the options for the conversation's engine, with
// observer obs (nil for none) and its variables.
func (c *conversation) engineOptions(obs engine.Observer) []engine.Option {
	opts := append(slices.Clip(c.opts), engine.WithVars(c.vars))
	if obs != nil {
		opts = append(opts, engine.WithObserver(obs))
	}
	return opts
}
