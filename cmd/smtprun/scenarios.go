package main

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/smtprun/smtprun/sandbox"
)

const scenariosUsage = `Usage:
  smtprun scenarios [--sources]

Lists the providers the sandbox emulates (chosen by the host name a
script connects to) and the failure scenarios (--scenario NAME, or a
'# scenario: NAME' line at the top of a script). With --sources, the
replies the sandbox sends and where each text comes from.

Example:
  smtprun --sandbox --scenario greylisted scripts/gmail.smtp
`

// runScenarios lists the emulated providers and the scenarios.
func runScenarios(inv *invocation, args []string) int {
	fs := newFlagSet(inv.cmd.label())
	sources := fs.Bool("sources", false, "")
	rest, err := parseInterspersed(fs, args)
	if err == nil && len(rest) > 0 {
		err = fmt.Errorf("unexpected argument %q: smtprun scenarios takes none", rest[0])
	}
	if code, ok := inv.parsed(err); !ok {
		return code
	}
	stdout := inv.stdout
	if *sources {
		return runScenarioSources(stdout)
	}
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
