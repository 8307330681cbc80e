package main

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/smtprun/smtprun/internal/testenv"
	"github.com/smtprun/smtprun/sandbox"
)

// Real clients in their default modes against `smtprun serve --explain`:
// no diagnoses (a coach that cries wolf teaches nothing), the .eml byte
// for byte what the client sent, no secret in the transcript, and each
// recorded session replaying with exit 0 under --sandbox.

// coachMessage is what every client sends: CRLF line endings, a dotted
// line, every header a mail provider wants.
const coachMessage = "From: <student@example.edu>\r\nTo: <friend@example.edu>\r\nDate: Mon, 27 Mar 2023 18:17:53 +0000\r\nMessage-ID: <coach-1@example.edu>\r\nSubject: practice\r\n\r\nHello from a real client.\r\n.A line that starts with a dot.\r\nBye.\r\n"

func TestServeExplainRealClients(t *testing.T) {
	user, pass := sandbox.PracticeCredentials("postfix")
	python := lookPython()
	for _, tc := range []struct {
		name string
		// run sends coachMessage through serve's submission port (sub)
		// with STARTTLS, verifying the certificate with ca.
		run func(t *testing.T, dir, sub, ca string) *exec.Cmd
		// extra: what the client adds to the message: swaks ends the
		// data with a CRLF of its own before the final dot.
		extra string
		// noQuit: the client closes after the confirmed message without
		// QUIT (nodemailer's default transport), which is no mistake.
		noQuit bool
	}{
		{"swaks", func(t *testing.T, dir, sub, ca string) *exec.Cmd {
			bin := need(t, "swaks", "`apt-get install swaks` (or .ci/setup-postfix)")
			return exec.Command(bin, "--server", sub, "--tls", "--tls-verify", "--tls-ca-path", ca,
				"--auth", "LOGIN", "--auth-user", user, "--auth-password", pass,
				"--from", user, "--to", "friend@example.edu", "--data", messageFile(t, dir))
		}, "\r\n", false},
		{"python-smtplib", func(t *testing.T, dir, sub, ca string) *exec.Cmd {
			if python == "" {
				testenv.Missing(t, "python3 is not installed")
			}
			host, port, _ := net.SplitHostPort(sub)
			script := fmt.Sprintf(`
import smtplib, ssl, sys
ctx = ssl.create_default_context(cafile=%q)
ctx.check_hostname = False
with smtplib.SMTP(%q, %s, timeout=10) as s:
    s.starttls(context=ctx)
    s.login(%q, %q)
    s.sendmail(%q, ["friend@example.edu"], open(%q, "rb").read())
`, ca, host, port, user, pass, user, messageFile(t, dir))
			return exec.Command(python, "-c", script)
		}, "", false},
		{"curl", func(t *testing.T, dir, sub, ca string) *exec.Cmd {
			bin := need(t, "curl", "`apt-get install curl` (.ci/run installs it)")
			return exec.Command(bin, "-sS", "--url", "smtp://"+sub, "--ssl-reqd", "--cacert", ca,
				"--resolve", "mail.example.edu:"+portOf(sub)+":127.0.0.1",
				"--user", user+":"+pass, "--mail-from", user, "--mail-rcpt", "friend@example.edu",
				"-T", messageFile(t, dir))
		}, "", false},
		{"msmtp", func(t *testing.T, dir, sub, ca string) *exec.Cmd {
			bin := need(t, "msmtp", "`apt-get install msmtp` (.ci/run installs it)")
			host, port, _ := net.SplitHostPort(sub)
			cmd := exec.Command(bin, "--host="+host, "--port="+port, "--tls=on", "--tls-starttls=on",
				"--tls-trust-file="+ca, "--tls-host-override=mail.example.edu", "--auth=on", "--user="+user,
				"--passwordeval=echo "+pass, "--from="+user, "friend@example.edu")
			cmd.Stdin = strings.NewReader(coachMessage)
			cmd.Env = append(os.Environ(), "HOME="+dir) // no ~/.msmtprc
			return cmd
		}, "", false},
		{"nodemailer", func(t *testing.T, dir, sub, ca string) *exec.Cmd {
			bin := need(t, "node", "`apt-get install nodejs node-nodemailer` (.ci/run installs them)")
			host, port, _ := net.SplitHostPort(sub)
			// Debian's node-nodemailer lives in /usr/share/nodejs, which
			// Debian's node searches and other builds of node do not. The
			// script ends on its own, not with process.exit, which would
			// cut nodemailer's QUIT off (and the coach would say so).
			script := fmt.Sprintf(`
const fs = require("fs");
const nodemailer = require("nodemailer");
const t = nodemailer.createTransport({host: %q, port: %s, secure: false, requireTLS: true,
  tls: {ca: [fs.readFileSync(%q)], servername: "mail.example.edu"},
  auth: {user: %q, pass: %q}});
t.sendMail({envelope: {from: %q, to: ["friend@example.edu"]}, raw: fs.readFileSync(%q)})
  .catch(e => { console.error(e); process.exitCode = 1; });
`, host, port, ca, user, pass, user, messageFile(t, dir))
			cmd := exec.Command(bin, "-e", script)
			cmd.Env = append(os.Environ(), "NODE_PATH=/usr/share/nodejs")
			if out, err := exec.Command(bin, "-e", `require("nodemailer")`).CombinedOutput(); err != nil {
				if !strings.Contains(string(out), "Cannot find module") {
					t.Fatalf("node: %v\n%s", err, out)
				}
				probe := exec.Command(bin, "-e", `require("nodemailer")`)
				probe.Env = cmd.Env
				if probe.Run() != nil {
					testenv.Missing(t, "nodemailer is not installed; `apt-get install node-nodemailer` (.ci/run installs it) enables this test")
				}
			}
			return cmd
		}, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			ca, save, rec := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "saved"), filepath.Join(dir, "recorded")
			sub, _, out := startServe(t, "--explain", "--ca-out", ca, "--save", save, "--record", rec)
			cmd := tc.run(t, dir, sub, ca)
			if got, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("%s failed: %v\n%s\nserver:\n%s", tc.name, err, got, out)
			}
			transcript := waitFor(t, out, "] closed")
			if strings.Contains(transcript, "!!") || !strings.Contains(transcript, "mistakes: none") {
				t.Errorf("%s got diagnoses:\n%s", tc.name, transcript)
			}
			right := "done right: STARTTLS, EHLO again after STARTTLS, AUTH, message delivered"
			if !tc.noQuit {
				right += ", QUIT"
			}
			if !strings.Contains(transcript, right+"\n") {
				t.Errorf("report card:\n%s", transcript)
			}
			emls, _ := filepath.Glob(filepath.Join(save, "*.eml"))
			if len(emls) != 1 {
				t.Fatalf("%d messages saved, want 1", len(emls))
			}
			eml, _ := os.ReadFile(emls[0])
			if string(eml) != coachMessage+tc.extra {
				t.Errorf("saved message differs from what %s sent:\n%q", tc.name, eml)
			}
			secretSweep(t, transcript, user, pass)
			replayRecorded(t, rec, pass)
		})
	}
}

// secretSweep fails if the transcript (the lines of the sessions, not the
// banner, which states the public practice password) holds the password
// in any encoding.
func secretSweep(t *testing.T, transcript, user, pass string) {
	t.Helper()
	for _, s := range []string{pass, base64.StdEncoding.EncodeToString([]byte(pass)),
		base64.StdEncoding.EncodeToString([]byte("\x00" + user + "\x00" + pass))} {
		if strings.Contains(transcript, s) {
			t.Errorf("the transcript holds a secret (%q)", s)
		}
	}
}

// replayRecorded runs every recorded script with --sandbox: each must pass.
func replayRecorded(t *testing.T, dir, pass string) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.smtp"))
	if len(files) == 0 {
		t.Fatalf("no session recorded in %s", dir)
	}
	for _, f := range files {
		src, _ := os.ReadFile(f)
		if bytes.Contains(src, []byte(pass)) {
			t.Errorf("%s holds the password", f)
		}
		code, stdout, stderr := cli(t, "--sandbox", f)
		if code != 0 {
			t.Errorf("replaying %s: exit %d\n%s\n%s\n%s", f, code, src, stdout, stderr)
		}
	}
}

// waitFor waits until the serve output holds want, and returns the
// session lines ("[N] ...").
func waitFor(t *testing.T, out *syncBuffer, want string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if strings.Contains(out.String(), want) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	var lines []string
	for _, l := range strings.Split(out.String(), "\n") {
		if l = unstamped(l); strings.HasPrefix(l, "[") {
			lines = append(lines, l)
		}
	}
	if !strings.Contains(out.String(), want) {
		t.Fatalf("serve never said %q:\n%s", want, out)
	}
	return strings.Join(lines, "\n")
}

func need(t *testing.T, name, how string) string {
	t.Helper()
	bin, err := exec.LookPath(name)
	if err != nil {
		testenv.Missing(t, name+" is not installed; "+how+" enables this test")
	}
	return bin
}

func lookPython() string {
	bin, _ := exec.LookPath("python3")
	return bin
}

func messageFile(t *testing.T, dir string) string {
	name, content := "msg.eml", coachMessage
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func portOf(addr string) string {
	_, port, _ := net.SplitHostPort(addr)
	return port
}

// TestServeExplainDiagnosis: a student's client that ends its lines with
// a bare LF and closes without QUIT; serve --explain says what is wrong,
// the RFC section, what a correct client sends, and sums up.
func TestServeExplainDiagnosis(t *testing.T) {
	sub, _, out := startServe(t, "--explain")
	c, err := net.DialTimeout("tcp", sub, 3*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 4096)
	c.Read(buf) // the greeting
	fmt.Fprint(c, "EHLO student\n")
	c.Read(buf)
	c.Close()
	transcript := waitFor(t, out, "] closed")
	for _, want := range []string{
		"[1] !! Line 1 ended with a bare LF (\\n), not CR LF: SMTP lines end with \\r\\n",
		"[1]    RFC 5321 2.3.8; a correct client: end every command with \\r\\n",
		"[1] !! The connection closed without QUIT.",
		"[1] report card:",
		"[1]   done right: nothing yet",
		"[1]   mistake: bare_lf_command, once (RFC 5321 2.3.8)",
		"[1]   mistake: no_quit, once (RFC 5321 4.1.1.10)",
		"[1]    ; Extended hello:",
	} {
		if !strings.Contains(transcript, want) {
			t.Errorf("transcript lacks %q:\n%s", want, transcript)
		}
	}
}

// TestServeRecordStudentSession: a student's session full of mistakes is
// recorded too, without its credentials, and replays under --sandbox.
func TestServeRecordStudentSession(t *testing.T) {
	dir := t.TempDir()
	ca, rec := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "recorded")
	sub, _, out := startServe(t, "--profile", "office365", "--explain", "--ca-out", ca, "--record", rec)
	user, pass := sandbox.PracticeCredentials("office365")
	c, err := net.DialTimeout("tcp", sub, 3*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	r := bufio.NewReader(c)
	reply := func() {
		for {
			l, err := r.ReadString('\n')
			if err != nil || len(l) < 4 || l[3] != '-' {
				return
			}
		}
	}
	reply()
	fmt.Fprint(c, "EHLO laptop\r\n")
	reply()
	fmt.Fprint(c, "STARTTLS\r\n")
	reply()
	pem, _ := os.ReadFile(ca)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	tc := tls.Client(c, &tls.Config{ServerName: "smtp.office365.com", RootCAs: pool})
	r = bufio.NewReader(tc)
	c2 := net.Conn(tc)
	for _, line := range []string{"AUTH LOGIN", user, base64.StdEncoding.EncodeToString([]byte(pass)), "QUIT"} {
		fmt.Fprint(c2, line+"\r\n")
		reply()
	}
	transcript := waitFor(t, out, "] closed")
	for _, want := range []string{"[no_ehlo_after_starttls]", "[auth_answer_after_refusal]", "mistake: no_ehlo_after_starttls, once"} {
		if !strings.Contains(transcript, want) {
			t.Errorf("transcript lacks %q:\n%s", want, transcript)
		}
	}
	secretSweep(t, transcript, user, pass)
	replayRecorded(t, rec, pass)
}
