package main

import (
	"fmt"
	"io"
	"net"
	"strings"
	"text/tabwriter"

	"github.com/smtprun/smtprun/dsl"
	"github.com/smtprun/smtprun/engine"
	"github.com/smtprun/smtprun/sandbox"
)

// sandboxRun prepares a run against the built-in emulations: the sandbox
// itself (closed by the caller), the engine options that route every
// connect to it and trust its CA, and the variables with practice
// credentials filled in where the script's are unset.
type sandboxRun struct {
	sb       *sandbox.Sandbox
	opts     []engine.Option
	vars     dsl.Vars
	scenario string
	notes    []string
}

// sandboxTestHook lets tests fix the sandbox's clock and randomness, so
// golden transcripts are stable. Nil outside tests.
var sandboxTestHook func(*sandbox.Options)

func setupSandbox(o *options, script *dsl.Program, userVars dsl.Vars) (*sandboxRun, error) {
	scenario := o.scenario
	if scenario == "" {
		scenario = script.Header("scenario")
	}
	profile := firstProfile(script, userVars)
	practiceUser, practicePass := sandbox.PracticeCredentials(profile)
	practice := dsl.MapVars{}
	creds := map[string]string{}
	var filled []string
	for _, st := range script.Steps() {
		a, ok := st.(*dsl.Auth)
		if !ok {
			continue
		}
		for _, p := range a.User.Variables() {
			if v, ok := userVars.Lookup(p.Var); ok {
				// Any user name logs in with the practice password.
				creds[v] = ""
			} else if p.Default == nil && practice[p.Var] == "" {
				practice[p.Var] = practiceUser
				filled = append(filled, p.Var)
			}
		}
		for _, p := range a.Secret.Variables() {
			if _, ok := userVars.Lookup(p.Var); !ok && p.Default == nil && practice[p.Var] == "" {
				practice[p.Var] = practicePass
				filled = append(filled, p.Var)
			}
		}
	}
	sbOpts := sandbox.Options{Scenario: scenario, Credentials: creds}
	if sandboxTestHook != nil {
		sandboxTestHook(&sbOpts)
	}
	sb, err := sandbox.New(sbOpts)
	if err != nil {
		return nil, err
	}
	r := &sandboxRun{
		sb:       sb,
		vars:     dsl.Chain{userVars, practice},
		scenario: scenario,
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
	r.notes = append(r.notes, what+"; TLS certificates come from an in-memory CA trusted only here")
	if len(filled) > 0 {
		r.notes = append(r.notes, fmt.Sprintf("sandbox: %s not set: using the practice account %s and its practice password",
			joinAnd(filled), practiceUser))
	}
	return r, nil
}

// firstProfile names the emulation the script's first connect reaches.
func firstProfile(script *dsl.Program, vars dsl.Vars) string {
	for _, st := range script.Steps() {
		c, ok := st.(*dsl.Connect)
		if !ok {
			continue
		}
		addr, err := c.Address.Expand(vars)
		if err != nil {
			return ""
		}
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			return ""
		}
		return sandbox.ProfileForHost(host)
	}
	return ""
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

// runScenarios lists the emulated providers and the scenarios.
func runScenarios(stdout io.Writer) int {
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "Profiles (chosen by the host name in connect; ports 587 STARTTLS, 465 implicit TLS, 25 relay):")
	for _, p := range sandbox.Profiles() {
		hosts := strings.Join(p.Hosts, ", ")
		if p.Generic {
			hosts = "any other host"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", p.Name, hosts, p.Description)
	}
	tw.Flush()
	fmt.Fprintln(stdout, "\nScenarios (--scenario NAME, or a '# scenario: NAME' line at the top of a script):")
	for _, s := range sandbox.Scenarios() {
		applies := "all"
		if len(s.Profiles) > 0 {
			applies = strings.Join(s.Profiles, ",")
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", s.Name, applies, s.Description)
	}
	tw.Flush()
	return exitOK
}
