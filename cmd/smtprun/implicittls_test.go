package main

import (
	"strings"
	"testing"
)

// A script that forgets `tls` on port 465 meets a server that waits for
// the TLS handshake and says nothing: after --timeout, the report must say
// that 465 is implicit TLS and what to write, not blame a slow server.
// Against the real Postfix's port 465, and the same port with `tls` as the
// case that must not get the hint.
func TestTimeoutOnImplicitTLSPortSaysWriteTLS(t *testing.T) {
	env := readPostfixEnv(t)
	dir := t.TempDir()
	forgot := writeFile(t, dir, "forgot.smtp", "connect \"${ADDR}\"\nexpect 220\nquit\n")
	right := writeFile(t, dir, "right.smtp", "connect \"${ADDR}\" tls\nexpect 220\nquit\n")
	addr := env["SMTPRUN_POSTFIX_SMTPS"]
	if !strings.HasSuffix(addr, ":465") {
		t.Fatalf("SMTPRUN_POSTFIX_SMTPS = %q: the test needs Postfix's implicit TLS on port 465", addr)
	}
	code, out, errOut := cli(t, "run", "--timeout", "1s", "--ca", env["SMTPRUN_POSTFIX_CA"], "--var", "ADDR="+addr, forgot)
	if code != exitRuntime {
		t.Fatalf("exit %d, want %d\n%s\n%s", code, exitRuntime, out, errOut)
	}
	report := out + errOut
	for _, want := range []string{"port 465 is implicit TLS", "connect \"HOST:465\" tls"} {
		if !strings.Contains(report, want) {
			t.Errorf("the report lacks %q:\n%s", want, report)
		}
	}
	if strings.Contains(report, "slow server") {
		t.Errorf("the report blames a slow server:\n%s", report)
	}
	if code, out, errOut := cli(t, "run", "--timeout", "5s", "--ca", env["SMTPRUN_POSTFIX_CA"], "--var", "ADDR=localhost:465", right); code != exitOK {
		t.Fatalf("with tls: exit %d\n%s\n%s", code, out, errOut)
	}
}
