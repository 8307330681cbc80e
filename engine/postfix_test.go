package engine_test

// Integration tests against a real Postfix on loopback, configured by
// .ci/setup-postfix (STARTTLS submission on 587, implicit TLS on 465,
// Cyrus SASL PLAIN/LOGIN/CRAM-MD5, local delivery to a Maildir).
//
// Without /etc/smtprun-test/postfix.env the tests skip (fail in CI, where
// SMTPRUN_REQUIRE_INTEGRATION=1; see internal/testenv). With it, Postfix
// must be reachable: a configured but dead server is a failure, not a skip.
// SMTPRUN_POSTFIX_ENV names another env file.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/smtprun/smtprun/dsl"
	"github.com/smtprun/smtprun/engine"
	"github.com/smtprun/smtprun/internal/testenv"
)

const defaultPostfixEnv = "/etc/smtprun-test/postfix.env"

type postfixEnv struct {
	Submission string // 127.0.0.1:587
	SMTPS      string // 127.0.0.1:465
	User, Pass string // SASL login
	Rcpt       string // local recipient whose mail lands in Maildir
	Maildir    string
	CAFile     string
	IPv6       bool
	Pool       *x509.CertPool
}

// loadPostfixEnv reads the env file written by .ci/setup-postfix, skipping
// the test when it is absent and failing when Postfix is not reachable.
func loadPostfixEnv(t testing.TB) *postfixEnv {
	t.Helper()
	path := os.Getenv("SMTPRUN_POSTFIX_ENV")
	if path == "" {
		path = defaultPostfixEnv
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		testenv.Missing(t, fmt.Sprintf("Postfix test setup not found (%s); run `sudo .ci/setup-postfix` to enable", path))
	}
	if err != nil {
		t.Fatalf("reading Postfix test setup: %v", err)
	}
	kv := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("%s: malformed line %q", path, line)
		}
		v = strings.TrimSpace(v)
		if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
			v = v[1 : len(v)-1]
		}
		kv[strings.TrimPrefix(strings.TrimSpace(k), "export ")] = v
	}
	get := func(k string) string {
		v := kv[k]
		if v == "" {
			t.Fatalf("%s: %s is missing; re-run `sudo .ci/setup-postfix`", path, k)
		}
		return v
	}
	env := &postfixEnv{
		Submission: get("SMTPRUN_POSTFIX_SUBMISSION"),
		SMTPS:      get("SMTPRUN_POSTFIX_SMTPS"),
		User:       get("SMTPRUN_POSTFIX_USER"),
		Pass:       get("SMTPRUN_POSTFIX_PASS"),
		Rcpt:       get("SMTPRUN_POSTFIX_RCPT"),
		Maildir:    get("SMTPRUN_POSTFIX_MAILDIR"),
		CAFile:     get("SMTPRUN_POSTFIX_CA"),
		IPv6:       kv["SMTPRUN_POSTFIX_IPV6"] == "yes",
	}
	pem, err := os.ReadFile(env.CAFile)
	if err != nil {
		t.Fatalf("reading the test CA: %v", err)
	}
	env.Pool = x509.NewCertPool()
	if !env.Pool.AppendCertsFromPEM(pem) {
		t.Fatalf("%s: no PEM certificate in it", env.CAFile)
	}
	for _, addr := range []string{env.Submission, env.SMTPS} {
		c, err := net.DialTimeout("tcp", addr, 3*time.Second)
		if err != nil {
			t.Fatalf("Postfix is configured (%s) but not reachable at %s: %v; start it with `sudo .ci/setup-postfix`", path, addr, err)
		}
		c.Close()
	}
	if _, err := os.ReadDir(filepath.Join(env.Maildir, "new")); err != nil {
		t.Fatalf("cannot read the test Maildir: %v; Postfix writes it as its owner with mode 0600, so run the tests as root "+
			"or as that user (re-run `sudo SMTPRUN_MAILBOX_USER=$(id -un) .ci/setup-postfix` to receive the test mail yourself)", err)
	}
	return env
}

// vars are the variables every script here may use.
func (env *postfixEnv) vars(extra ...string) dsl.MapVars {
	v := dsl.MapVars{
		"SUBMISSION": env.Submission,
		"SMTPS":      env.SMTPS,
		"SMTP_USER":  env.User,
		"SMTP_PASS":  env.Pass,
		"RCPT":       env.Rcpt,
	}
	for i := 0; i+1 < len(extra); i += 2 {
		v[extra[i]] = extra[i+1]
	}
	return v
}

// run is the outcome of one script: the error from Run and every event.
type run struct {
	res    engine.Result
	err    error
	events []engine.Event
}

// replies returns the replies received, in order.
func (r *run) replies() []engine.Received {
	var out []engine.Received
	for _, ev := range r.events {
		if rc, ok := ev.(engine.Received); ok {
			out = append(out, rc)
		}
	}
	return out
}

// replyTo returns the reply read right after the n-th (0-based) sent line
// equal to cmd, or nil.
func (r *run) replyTo(cmd string, n int) *engine.Reply {
	seen := -1
	for i, ev := range r.events {
		s, ok := ev.(engine.Sent)
		if !ok || s.Line != cmd {
			continue
		}
		if seen++; seen != n {
			continue
		}
		for _, ev := range r.events[i+1:] {
			if rc, ok := ev.(engine.Received); ok {
				return rc.Reply
			}
		}
	}
	return nil
}

func (r *run) tls() []engine.TLSEstablished {
	var out []engine.TLSEstablished
	for _, ev := range r.events {
		if e, ok := ev.(engine.TLSEstablished); ok {
			out = append(out, e)
		}
	}
	return out
}

// transcript renders the events for failure messages.
func (r *run) transcript() string {
	var b strings.Builder
	for _, ev := range r.events {
		switch e := ev.(type) {
		case engine.Connected:
			fmt.Fprintf(&b, "** connected to %s (%s)\n", e.Address, e.Remote)
		case engine.Sent:
			fmt.Fprintf(&b, "C: %s", e.Line)
			if e.Role != engine.RoleCommand {
				fmt.Fprintf(&b, "   [%s]", e.Role)
			}
			b.WriteString("\n")
		case engine.Received:
			for _, l := range e.Reply.Lines {
				fmt.Fprintf(&b, "S: %s\n", l)
			}
		case engine.TLSEstablished:
			fmt.Fprintf(&b, "** %s %s server=%s verified=%v implicit=%v\n", e.Version, e.CipherSuite, e.ServerName, e.Verified, e.Implicit)
		case engine.Notice:
			fmt.Fprintf(&b, "** %s\n", e.Code)
		case engine.Closed:
			fmt.Fprintf(&b, "** closed (by server: %v)\n", e.ByServer)
		}
	}
	return b.String()
}

// runScript parses, checks and runs src. Parse and check errors
// are test bugs and fail at once; the run's own error is returned.
func runScript(t *testing.T, name, src string, opts ...engine.Option) *run {
	t.Helper()
	script, err := dsl.Parse(name, []byte(src))
	if err != nil {
		t.Fatalf("parse %s: %v\n%s", name, err, src)
	}
	prog, err := dsl.Check(script)
	if err != nil {
		t.Fatalf("check %s: %v\n%s", name, err, src)
	}
	r := &run{}
	opts = append([]engine.Option{engine.WithTimeout(10 * time.Second)}, opts...)
	opts = append(opts, engine.WithObserver(engine.ObserverFunc(func(ev engine.Event) {
		r.events = append(r.events, ev)
	})))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	r.res, r.err = engine.New(opts...).Run(ctx, prog)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("transcript of %s (error: %v):\n%s", name, r.err, r.transcript())
		}
	})
	return r
}

// assertNoSecret checks that no event shows the password, plain or in the
// base64 forms AUTH PLAIN and AUTH LOGIN put on the wire.
func assertNoSecret(t *testing.T, r *run, env *postfixEnv) {
	t.Helper()
	forms := []string{
		env.Pass,
		base64.StdEncoding.EncodeToString([]byte(env.Pass)),
		base64.StdEncoding.EncodeToString([]byte("\x00" + env.User + "\x00" + env.Pass)),
	}
	for _, ev := range r.events {
		var texts []string
		switch e := ev.(type) {
		case engine.Sent:
			texts = []string{e.Line}
		case engine.Received:
			texts = e.Reply.Lines
		case engine.Narration:
			texts = []string{e.Text}
		}
		for _, s := range texts {
			for _, f := range forms {
				if strings.Contains(s, f) {
					t.Errorf("an event shows the password (form %q): %q", f, s)
				}
			}
		}
	}
}

// testMessage returns message content lines that exercise dot-stuffing:
// lines starting with ".", a lone ".", a lone "..", and a lone "." as the
// last line, right before the terminating CRLF.CRLF. id makes the message
// findable in the Maildir; the script gets it through ${MSGID}.
func testMessage(subject string) []string {
	return []string{
		"X-Smtprun-Test: ${MSGID}",
		"Message-ID: <${MSGID}@smtprun.test>",
		"Date: Thu, 01 Jan 2026 00:00:00 +0000",
		"From: Student <student@smtprun.test>",
		"To: <smtprun@smtprun.test>",
		"Subject: " + subject,
		"MIME-Version: 1.0",
		"Content-Type: text/plain; charset=us-ascii",
		"",
		"First line of the body.",
		".hidden",
		".",
		"..",
		"...",
		". a dot and a space",
		"From the start of a line (a Maildir does not escape this)",
		"\tindented with a tab, and three trailing spaces   ",
		"",
		"The line above is empty; the last line is a lone dot.",
		".",
	}
}

// heredoc renders content lines as a message step.
func heredoc(lines []string) string {
	return "message \"\"\"\n" + strings.Join(lines, "\n") + "\n\"\"\"\n"
}

// delivered is what local delivery must store for content lines: the
// lines as written (the server undoes the dot-stuffing), each ended by LF
// (local(8) writes Maildir files with UNIX line ends instead of CRLF).
func delivered(lines []string, id string) []byte {
	s := strings.Join(lines, "\n") + "\n"
	return []byte(strings.ReplaceAll(s, "${MSGID}", id))
}

func uniqueID(t *testing.T) string {
	return fmt.Sprintf("smtprun-%s-%d", strings.NewReplacer("/", "-", " ", "_").Replace(t.Name()), time.Now().UnixNano())
}

// waitForMessage polls Maildir/new until a file with the X-Smtprun-Test
// header for id appears, and removes it when the test ends.
func waitForMessage(t *testing.T, env *postfixEnv, id string) []byte {
	t.Helper()
	marker := []byte("\nX-Smtprun-Test: " + id + "\n")
	dir := filepath.Join(env.Maildir, "new")
	deadline := time.Now().Add(15 * time.Second)
	for {
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatalf("reading %s: %v", dir, err)
		}
		for _, e := range entries {
			p := filepath.Join(dir, e.Name())
			data, err := os.ReadFile(p)
			if err != nil {
				continue // moved away meanwhile
			}
			if bytes.Contains(data, marker) {
				t.Cleanup(func() { os.Remove(p) })
				return data
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("message %s was accepted but did not arrive in %s within 15s (see /var/log/postfix.log)", id, dir)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// The only header lines Postfix puts before the message: local(8) adds
// Return-Path, X-Original-To (enable_original_recipient) and Delivered-To,
// smtpd adds Received (folded over several lines).
var prependedHeader = regexp.MustCompile(`^(Return-Path|X-Original-To|Delivered-To|Received): |^[ \t]`)

// checkDelivered asserts that the stored file is exactly the prepended
// trace headers followed by want, byte for byte, and returns the headers.
func checkDelivered(t *testing.T, env *postfixEnv, file, want []byte) string {
	t.Helper()
	if !bytes.HasSuffix(file, want) {
		t.Fatalf("delivered message does not end with the content sent.\n--- want (suffix) ---\n%q\n--- got (whole file) ---\n%q", want, file)
	}
	prefix := string(file[:len(file)-len(want)])
	if !strings.HasSuffix(prefix, "\n") {
		t.Fatalf("content does not start at a line boundary; prefix:\n%q", prefix)
	}
	for _, l := range strings.Split(strings.TrimSuffix(prefix, "\n"), "\n") {
		if !prependedHeader.MatchString(l) {
			t.Fatalf("unexpected line before the content: %q\nprefix:\n%s", l, prefix)
		}
	}
	if bytes.Contains(file, []byte("\r")) {
		t.Errorf("delivered file contains CR; local delivery should store LF line ends")
	}
	for _, h := range []string{
		"Return-Path: <" + env.User + ">\n",
		"X-Original-To: " + env.Rcpt + "\n",
		"Delivered-To: " + env.Rcpt + "\n",
	} {
		if !strings.Contains(prefix, h) {
			t.Errorf("trace headers lack %q:\n%s", h, prefix)
		}
	}
	return prefix
}

// submissionScript: 587, STARTTLS, EHLO again, AUTH with mech, one message.
func submissionScript(mech string, lines []string) string {
	return `# Postfix submission: STARTTLS, then AUTH ` + mech + `, then one message
connect "${SUBMISSION}"
expect 220 "ESMTP"
send "EHLO client.test"
expect 250 "STARTTLS"
starttls
send "EHLO client.test"
expect 250 /AUTH .*` + strings.ToUpper(mech) + `/
auth ` + mech + ` "${SMTP_USER}" "${SMTP_PASS}"
expect 235 "2.7.0"
send "MAIL FROM:<${SMTP_USER}>"
expect 250
send "RCPT TO:<${RCPT}>"
expect 250
send "DATA"
expect 354
` + heredoc(lines) + `expect 250 /queued as [0-9A-F]+/
quit
`
}

// queueID returns the id from Postfix's "250 2.0.0 Ok: queued as ID".
var queuedAs = regexp.MustCompile(`queued as ([0-9A-Za-z]+)`)

func queueID(t *testing.T, r *run) string {
	t.Helper()
	reps := r.replies()
	for i := len(reps) - 1; i >= 0; i-- {
		if m := queuedAs.FindStringSubmatch(reps[i].Reply.String()); m != nil {
			return m[1]
		}
	}
	t.Fatalf("no \"queued as\" reply in the transcript")
	return ""
}

func TestPostfixSubmissionSTARTTLSAuthDelivery(t *testing.T) {
	env := loadPostfixEnv(t)
	for _, mech := range []string{"plain", "login", "cram-md5"} {
		t.Run(mech, func(t *testing.T) {
			id := uniqueID(t)
			lines := testMessage("smtprun integration test: 587 STARTTLS + AUTH " + strings.ToUpper(mech))
			r := runScript(t, "submission-"+mech+".smtp", submissionScript(mech, lines),
				engine.WithRootCAs(env.Pool), engine.WithVars(env.vars("MSGID", id)))
			if r.err != nil {
				t.Fatalf("Run: %v", r.err)
			}
			if r.res.Messages != 1 {
				t.Errorf("Result.Messages = %d, want 1", r.res.Messages)
			}

			// STARTTLS happened once, verified against the test CA, with
			// the host of the connect address as the server name.
			tl := r.tls()
			host, _, _ := net.SplitHostPort(env.Submission)
			if len(tl) != 1 || tl[0].Implicit || !tl[0].Verified || tl[0].ServerName != host {
				t.Errorf("TLS events = %+v, want one verified STARTTLS to %s", tl, host)
			}
			// Postfix hides AUTH until TLS (smtpd_tls_auth_only).
			before, after := r.replyTo("EHLO client.test", 0), r.replyTo("EHLO client.test", 1)
			if before == nil || after == nil {
				t.Fatalf("missing EHLO replies")
			}
			if strings.Contains(before.String(), "AUTH") {
				t.Errorf("EHLO before TLS advertises AUTH:\n%s", before)
			}
			if !strings.Contains(after.String(), "250-AUTH PLAIN LOGIN CRAM-MD5") {
				t.Errorf("EHLO after TLS does not advertise the SASL mechanisms:\n%s", after)
			}
			assertNoSecret(t, r, env)

			file := waitForMessage(t, env, id)
			trace := checkDelivered(t, env, file, delivered(lines, id))
			// ESMTPSA: ESMTP over TLS (S) with authentication (A), RFC 3848.
			if !strings.Contains(trace, "with ESMTPSA id "+queueID(t, r)) {
				t.Errorf("Received header does not record ESMTPSA with the queue id:\n%s", trace)
			}
		})
	}
}

func TestPostfixSMTPSImplicitTLSDelivery(t *testing.T) {
	env := loadPostfixEnv(t)
	id := uniqueID(t)
	lines := testMessage("smtprun integration test: 465 implicit TLS")
	src := `# Postfix submissions (RFC 8314): TLS from the first byte
connect "${SMTPS}" tls
expect 220 "ESMTP"
send "EHLO client.test"
expect 250 "AUTH"
auth plain "${SMTP_USER}" "${SMTP_PASS}"
expect 235
send "MAIL FROM:<${SMTP_USER}>"
expect 250
send "RCPT TO:<${RCPT}>"
expect 250
send "DATA"
expect 354
` + heredoc(lines) + `expect 250 "queued as"
quit
`
	r := runScript(t, "smtps.smtp", src, engine.WithRootCAs(env.Pool), engine.WithVars(env.vars("MSGID", id)))
	if r.err != nil {
		t.Fatalf("Run: %v", r.err)
	}
	tl := r.tls()
	if len(tl) != 1 || !tl[0].Implicit || !tl[0].Verified {
		t.Errorf("TLS events = %+v, want one verified implicit TLS handshake", tl)
	}
	if rep := r.replies(); len(rep) == 0 || !rep[0].TLS {
		t.Errorf("the greeting was not received over TLS")
	}
	assertNoSecret(t, r, env)
	file := waitForMessage(t, env, id)
	trace := checkDelivered(t, env, file, delivered(lines, id))
	if !strings.Contains(trace, "with ESMTPSA id "+queueID(t, r)) {
		t.Errorf("Received header does not record ESMTPSA with the queue id:\n%s", trace)
	}
}

// TestPostfixServerNames: the TLS server name is the host of the connect
// address, brackets stripped for IPv6; the certificate covers localhost,
// 127.0.0.1 and ::1.
func TestPostfixServerNames(t *testing.T) {
	env := loadPostfixEnv(t)
	_, port, _ := net.SplitHostPort(env.SMTPS)
	addrs := []string{net.JoinHostPort("localhost", port)}
	if env.IPv6 {
		addrs = append(addrs, net.JoinHostPort("::1", port))
	}
	for _, addr := range addrs {
		t.Run(addr, func(t *testing.T) {
			src := `connect "${ADDR}" tls
expect 220
send "EHLO client.test"
expect 250
quit
`
			r := runScript(t, "names.smtp", src, engine.WithRootCAs(env.Pool), engine.WithVars(dsl.MapVars{"ADDR": addr}))
			if r.err != nil {
				t.Fatalf("Run: %v", r.err)
			}
			host, _, _ := net.SplitHostPort(addr)
			if tl := r.tls(); len(tl) != 1 || tl[0].ServerName != host {
				t.Errorf("TLS events = %+v, want server name %q", tl, host)
			}
		})
	}
}

func TestPostfixWrongPassword(t *testing.T) {
	env := loadPostfixEnv(t)
	script := func(mech, want string) string {
		return `connect "${SUBMISSION}"
expect 220
send "EHLO client.test"
expect 250
starttls
send "EHLO client.test"
expect 250 "AUTH"
auth ` + mech + ` "${SMTP_USER}" "${WRONG_PASS}"
expect ` + want + `
quit
`
	}
	for _, mech := range []string{"plain", "login", "cram-md5"} {
		t.Run(mech, func(t *testing.T) {
			vars := engine.WithVars(env.vars("WRONG_PASS", "not-"+env.Pass))

			// Expecting the failure passes; Postfix says 535 5.7.8.
			r := runScript(t, "wrong-pass-535.smtp", script(mech, `535 "5.7.8"`), engine.WithRootCAs(env.Pool), vars)
			if r.err != nil {
				t.Fatalf("expect 535: Run: %v", r.err)
			}

			// Expecting success is an AssertError carrying the 535.
			r = runScript(t, "wrong-pass-235.smtp", script(mech, `235`), engine.WithRootCAs(env.Pool), vars)
			var ae *engine.AssertError
			if !errors.As(r.err, &ae) {
				t.Fatalf("expect 235: Run error = %T %v, want *engine.AssertError", r.err, r.err)
			}
			if ae.Got == nil || ae.Got.Code != 535 || ae.Reason != "code" || ae.Want != "235" {
				t.Errorf("AssertError = {Want:%q Reason:%q Got:%v}, want Want 235, Reason code, Got 535", ae.Want, ae.Reason, ae.Got)
			}
			if ae.Pos.Line != 9 {
				t.Errorf("AssertError at line %d, want 9 (the expect after auth)", ae.Pos.Line)
			}
		})
	}
}

// TestPostfixAuthBeforeSTARTTLS: on 587 Postfix neither advertises nor
// accepts AUTH before TLS (smtpd_tls_security_level=encrypt answers every
// command but EHLO/HELO/STARTTLS/NOOP/QUIT/RSET with 530 5.7.0).
func TestPostfixAuthBeforeSTARTTLS(t *testing.T) {
	env := loadPostfixEnv(t)
	cases := []struct {
		name, step string
	}{
		// Written by hand: nothing else is sent with it.
		{"send", `send "AUTH PLAIN"`},
		// The auth step: the engine allows plaintext auth to a loopback
		// peer, so it sends AUTH PLAIN with an initial response; Postfix
		// refuses it just the same, and the 530 is left for the expect.
		{"auth-step", `auth plain "${SMTP_USER}" "${SMTP_PASS}"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := `connect "${SUBMISSION}"
expect 220
send "EHLO client.test"
expect 250 "STARTTLS"
` + c.step + `
expect 530 "Must issue a STARTTLS command first"
starttls
send "EHLO client.test"
expect 250 "AUTH"
quit
`
			r := runScript(t, "auth-before-tls-"+c.name+".smtp", src, engine.WithRootCAs(env.Pool), engine.WithVars(env.vars()))
			if r.err != nil {
				t.Fatalf("Run: %v", r.err)
			}
			ehlo := r.replyTo("EHLO client.test", 0)
			if ehlo == nil || strings.Contains(ehlo.String(), "AUTH") {
				t.Errorf("EHLO before TLS advertises AUTH:\n%v", ehlo)
			}
			reps := r.replies()
			if len(reps) < 3 || reps[2].Reply.Code != 530 || reps[2].Reply.EnhancedCode() != "5.7.0" || reps[2].TLS {
				t.Errorf("reply to AUTH before TLS: %+v, want a plaintext 530 5.7.0", reps)
			}
			assertNoSecret(t, r, env)
		})
	}
}

// TestPostfixUntrustedCA: without the test CA in the pool (the system roots
// are used), the handshake fails verification and nothing more is sent.
func TestPostfixUntrustedCA(t *testing.T) {
	env := loadPostfixEnv(t)
	cases := []struct{ name, src string }{
		{"starttls", `connect "${SUBMISSION}"
expect 220
send "EHLO client.test"
expect 250
starttls
send "EHLO client.test"
expect 250
quit
`},
		{"implicit", `connect "${SMTPS}" tls
expect 220
quit
`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := runScript(t, "untrusted-"+c.name+".smtp", c.src, engine.WithVars(env.vars()))
			var ne *engine.NetError
			if !errors.As(r.err, &ne) {
				t.Fatalf("Run error = %T %v, want *engine.NetError", r.err, r.err)
			}
			msg := r.err.Error()
			if !strings.Contains(msg, "certificate") || !strings.Contains(msg, "unknown authority") {
				t.Errorf("NetError %q does not say the certificate is from an unknown authority", msg)
			}
			var ua x509.UnknownAuthorityError
			if !errors.As(r.err, &ua) {
				t.Errorf("NetError does not wrap x509.UnknownAuthorityError: %#v", ne.Err)
			}
			if len(r.tls()) != 0 {
				t.Errorf("a TLSEstablished event was reported for a failed handshake")
			}
			// Nothing is sent after the failed handshake.
			var sent []string
			for _, ev := range r.events {
				if s, ok := ev.(engine.Sent); ok {
					sent = append(sent, s.Line)
				}
			}
			if c.name == "starttls" && (len(sent) == 0 || sent[len(sent)-1] != "STARTTLS") ||
				c.name == "implicit" && len(sent) != 0 {
				t.Errorf("lines sent: %q; want nothing after STARTTLS / the failed handshake", sent)
			}
		})
	}
}
