package main

import (
	"strings"
	"testing"

	"github.com/smtprun/smtprun/explain"
	"github.com/smtprun/smtprun/internal/smtptest"
)

// Script errors found only at run time get their help from the knowledge
// base too, and keep exit code 2.
func TestRunTimeScriptErrorHelp(t *testing.T) {
	dir := t.TempDir()
	script := writeFile(t, dir, "s.smtp", "connect \"${ADDR}\"\nexpect 220\n")
	code, _, errOut := cli(t, "--var", "ADDR=127.0.0.1", script)
	want, _ := explain.Help("address-without-port")
	if code != exitScript || !strings.Contains(errOut, "help: "+want) {
		t.Errorf("exit %d, want %d and the help %q:\n%s", code, exitScript, want, errOut)
	}
	g := smtptest.Start(t, false)
	script = writeFile(t, dir, "b.smtp", "connect \"${ADDR}\"\nexpect 220\nsend \"${CMD}\"\n")
	code, _, errOut = cli(t, "--var", "ADDR="+g.Addr, "--var", "CMD=NOOP\r\nQUIT", script)
	want, _ = explain.Help("line-break-in-command")
	if code != exitScript || !strings.Contains(errOut, "help: "+want) {
		t.Errorf("exit %d, want %d and the help %q:\n%s", code, exitScript, want, errOut)
	}
}
