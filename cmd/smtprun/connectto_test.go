package main

import (
	"bufio"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/smtprun/smtprun/internal/testenv"
)

// TestConnectToServe: the shipped scripts/gmail.smtp, unchanged, runs
// against `smtprun serve` on a loopback port. TLS verifies serve's
// certificate for smtp.gmail.com (the script's name, sent as SNI) with the
// --ca-out file alone, and the transcript says where the connection went.
func TestConnectToServe(t *testing.T) {
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	sub, _, out := startServe(t, "--profile", "gmail", "--ca-out", ca)
	rule := "smtp.gmail.com:587:" + sub
	user := "--var=SMTP_USER=smtprun.student@gmail.com"
	code, stdout, stderr := cli(t, "run", "--no-color", "--connect-to", rule, "--ca", ca, user,
		"--var=SMTP_PASS=practice-password", "../../scripts/gmail.smtp")
	if code != exitOK {
		t.Fatalf("exit %d\n%s\n%s\nserver:\n%s", code, stdout, stderr, out)
	}
	for _, want := range []string{
		"connected to smtp.gmail.com:587 via " + sub,
		"235 2.7.0 Accepted",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("transcript lacks %q:\n%s", want, stdout)
		}
	}
	if !strings.Contains(out.String(), "certificate for smtp.gmail.com") {
		t.Errorf("serve was not asked for smtp.gmail.com's certificate (SNI):\n%s", out)
	}
	// test and load take the rule too; load then runs against serve
	// although the script names a public provider's host.
	code, stdout, stderr = cli(t, "test", "--no-color", "--connect-to", rule, "--ca", ca, user,
		"--var=SMTP_PASS=practice-password", "../../scripts/gmail.smtp")
	if code != exitOK {
		t.Errorf("test: exit %d\n%s\n%s", code, stdout, stderr)
	}
	code, stdout, stderr = cli(t, "load", "--no-color", "-q", "-c", "2", "-n", "4", "--connect-to", rule, "--ca", ca, user,
		"--var=SMTP_PASS=practice-password", "../../load/testdata/sandbox-submit.smtp")
	if code != exitOK || !strings.Contains(stdout, "iterations  4 ok, 0 failed") {
		t.Errorf("load: exit %d\n%s\n%s", code, stdout, stderr)
	}
	// Verification is real: without serve's CA the same run fails.
	code, stdout, stderr = cli(t, "run", "--no-color", "--connect-to", rule, user,
		"--var=SMTP_PASS=practice-password", "../../scripts/gmail.smtp")
	if code != exitRuntime || !strings.Contains(stdout+stderr, "certificate") {
		t.Errorf("without --ca: exit %d, want %d and a certificate error\n%s\n%s", code, exitRuntime, stdout, stderr)
	}
}

// TestConnectToPostfix: the local Postfix's certificate names localhost.
// A script that says localhost, sent to Postfix's port by a rule, verifies
// and delivers; one that says another name fails verification for that
// name, though it reaches the same server.
func TestConnectToPostfix(t *testing.T) {
	env := readPostfixEnv(t)
	_, port, _ := net.SplitHostPort(env["SMTPRUN_POSTFIX_SUBMISSION"])
	script := writeFile(t, t.TempDir(), "postfix.smtp", `connect "${HOST}:2587"
expect 220
send "EHLO client.example"
expect 250
starttls
send "EHLO client.example"
expect 250 "AUTH"
auth plain "${SMTP_USER}" "${SMTP_PASS}"
expect 235
send "MAIL FROM:<${SMTP_USER}>"
expect 250
send "RCPT TO:<${RCPT}>"
expect 250
send "DATA"
expect 354
message """
From: <${SMTP_USER}>
To: <${RCPT}>
Subject: connect-to

Sent to Postfix by --connect-to.
"""
expect 250
quit
`)
	args := func(host string) []string {
		return []string{"run", "--no-color", "--ca", env["SMTPRUN_POSTFIX_CA"],
			"--connect-to", host + ":2587:127.0.0.1:" + port, "--connect-to", "::127.0.0.1:1",
			"--var", "HOST=" + host, "--var", "SMTP_USER=" + env["SMTPRUN_POSTFIX_USER"],
			"--var", "SMTP_PASS=" + env["SMTPRUN_POSTFIX_PASS"], "--var", "RCPT=" + env["SMTPRUN_POSTFIX_RCPT"], script}
	}
	code, stdout, stderr := cli(t, args("localhost")...)
	if code != exitOK {
		t.Fatalf("localhost: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if want := "connected to localhost:2587 via 127.0.0.1:" + port; !strings.Contains(stdout, want) {
		t.Errorf("transcript lacks %q:\n%s", want, stdout)
	}
	if strings.Contains(stdout+stderr, env["SMTPRUN_POSTFIX_PASS"]) {
		t.Errorf("the password appears in the output")
	}
	code, stdout, stderr = cli(t, args("mail.smtprun.test")...)
	if code != exitRuntime {
		t.Fatalf("mail.smtprun.test: exit %d, want %d\n%s\n%s", code, exitRuntime, stdout, stderr)
	}
	if !strings.Contains(stdout+stderr, "mail.smtprun.test") || !strings.Contains(stdout+stderr, "certificate") {
		t.Errorf("the failure does not name the certificate and the script's host:\n%s\n%s", stdout, stderr)
	}
}

// readPostfixEnv reads the settings .ci/setup-postfix writes; the test is
// skipped without them (and fails in CI, by testenv).
func readPostfixEnv(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open("/etc/smtprun-test/postfix.env")
	if errors.Is(err, os.ErrNotExist) {
		testenv.Missing(t, "Postfix test setup not found; run `sudo .ci/setup-postfix` to enable")
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	kv := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "="); ok && !strings.HasPrefix(k, "#") {
			kv[k] = v
		}
	}
	return kv
}
