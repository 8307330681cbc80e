package main

import (
	"fmt"
	"net"
	"strings"

	"github.com/smtprun/smtprun/dsl"
	"github.com/smtprun/smtprun/engine"
	"github.com/smtprun/smtprun/internal/sasl"
	"github.com/smtprun/smtprun/sandbox"
	"github.com/smtprun/smtprun/sandbox/fault"
)

// sandboxRun prepares a run against the built-in emulations: the sandbox
// itself (closed by the caller), the engine options that route every
// connect to it and trust its CA, and the variables with practice
// credentials filled in where the script's are unset.
type sandboxRun struct {
	sb    *sandbox.Sandbox
	opts  []engine.Option
	vars  dsl.Vars
	notes []string
}

// sandboxTestHook lets tests fix the sandbox's clock and randomness, so
// golden transcripts are stable. Nil outside tests.
var sandboxTestHook func(*sandbox.Options)

// setupSandbox prepares the run with o's --scenario (or the one the
// script's header names), --fault plans (and the script's "# fault:"
// lines) and --no-limits.
func setupSandbox(o *options, script *dsl.Program, userVars dsl.Vars) (*sandboxRun, error) {
	scenario := o.scenario
	if scenario == "" {
		scenario = script.Header("scenario")
	}
	plans, err := parseFaults(o.faults, script)
	if err != nil {
		return nil, err
	}
	profile := firstProfile(script, userVars)
	practiceUser, practicePass := sandbox.PracticeCredentials(profile)
	practice := dsl.MapVars{}
	var unsetUser, unsetPass []string
	fill := func(s *dsl.String, value string, unset *[]string) {
		for _, p := range s.Variables() {
			if _, ok := userVars.Lookup(p.Var); !ok && p.Default == nil && practice[p.Var] == "" {
				practice[p.Var] = value
				*unset = append(*unset, p.Var)
			}
		}
	}
	dsl.Walk(script.Script(), func(n dsl.Node) bool {
		if a, ok := n.(*dsl.Auth); ok {
			fill(a.User, practiceUser, &unsetUser)
			if !isOAuth(a) {
				fill(a.Secret, practicePass, &unsetPass)
			}
		}
		return true
	})
	vars := dsl.Chain{userVars, practice}
	// The sandbox takes the practice password for any user name, so a
	// learner practises as themselves.
	sbOpts := sandbox.Options{Scenario: scenario, Faults: &fault.Plans{}, NoLimits: o.noLimits}
	sbOpts.Faults.Set(plans...)
	if sandboxTestHook != nil {
		sandboxTestHook(&sbOpts)
	}
	sb, err := sandbox.New(sbOpts)
	if err != nil {
		return nil, err
	}
	// A bearer token's variable gets a token the sandbox issued, so it
	// passes the same check a token from `smtprun token` does.
	var unsetToken []string
	for _, st := range script.Steps() {
		if a, ok := st.(*dsl.Auth); ok && isOAuth(a) {
			user, _ := a.User.Expand(vars)
			if tok := sb.PracticeToken(profile, user); tok != "" {
				fill(a.Secret, tok, &unsetToken)
			} else {
				fill(a.Secret, practicePass, &unsetPass)
			}
		}
	}
	r := &sandboxRun{
		sb:   sb,
		vars: vars,
		opts: []engine.Option{
			engine.WithDialer(sb),
			engine.WithRootCAs(sb.RootCAs()),
		},
	}
	what := "sandbox: every connect is served by smtprun's built-in emulation"
	if profile != "" {
		what += fmt.Sprintf(" (%s)", profile)
	}
	if scenario != "" {
		what += ", scenario " + scenario
	}
	for _, p := range plans {
		what += ", fault " + p.Source
	}
	if o.noLimits {
		what += ", no sending limits"
	}
	r.notes = append(r.notes, what+"; TLS certificates come from an in-memory CA trusted only here")
	if n := practiceNote(unsetUser, unsetPass, practiceUser); n != "" {
		r.notes = append(r.notes, n)
	}
	if len(unsetToken) > 0 {
		r.notes = append(r.notes, fmt.Sprintf("sandbox: %s unset: using a practice OAuth token the sandbox issued (as `smtprun token %s --sandbox` gets one)",
			joinAnd(unsetToken), profile))
	}
	return r, nil
}

// isOAuth reports an auth step whose secret is a bearer token.
func isOAuth(a *dsl.Auth) bool { return sasl.IsOAuth(a.Mechanism.Text) }

// practiceNote says which unset variables the sandbox fills in and with
// what. An unset password alone leaves the script's user name as it is:
// the sandbox takes the practice password for any user name.
func practiceNote(unsetUser, unsetPass []string, practiceUser string) string {
	switch {
	case len(unsetUser) > 0 && len(unsetPass) > 0:
		return fmt.Sprintf("sandbox: %s unset: using the practice account %s and the sandbox's practice password",
			joinAnd(append(unsetUser, unsetPass...)), practiceUser)
	case len(unsetUser) > 0:
		return fmt.Sprintf("sandbox: %s unset: using the practice account %s", joinAnd(unsetUser), practiceUser)
	case len(unsetPass) > 0:
		return fmt.Sprintf("sandbox: %s unset: using the sandbox's practice password, which it accepts for any user name",
			joinAnd(unsetPass))
	}
	return ""
}

// firstProfile names the emulation the script's first connect reaches.
func firstProfile(script *dsl.Program, vars dsl.Vars) string {
	profile, done := "", false
	dsl.Walk(script.Script(), func(n dsl.Node) bool {
		c, ok := n.(*dsl.Connect)
		if !ok || done {
			return true
		}
		done = true
		addr, err := c.Address.Expand(vars)
		if err != nil {
			return true
		}
		if host, _, err := net.SplitHostPort(addr); err == nil {
			profile = sandbox.ProfileForHost(host)
		}
		return true
	})
	return profile
}

func joinAnd(names []string) string {
	switch len(names) {
	case 0:
		return ""
	case 1:
		return names[0] + " is"
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1] + " are"
}
