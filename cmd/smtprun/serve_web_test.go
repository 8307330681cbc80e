package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/smtprun/smtprun/internal/testenv"
	"github.com/smtprun/smtprun/sandbox"
)

// startWeb runs `smtprun serve --web` on ephemeral loopback ports and
// returns the submission address and the view's base URL.
func startWeb(t *testing.T, args ...string) (sub, base string, out *syncBuffer) {
	t.Helper()
	sub, _, out = startServe(t, append([]string{"--web", "127.0.0.1:0"}, args...)...)
	m := regexp.MustCompile(`listening on (\S+): web view`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("serve did not say where the web view is:\n%s", out)
	}
	return sub, "http://" + m[1], out
}

// webClient calls the API and checks every JSON answer against the
// OpenAPI document the server serves.
type webClient struct {
	t     *testing.T
	base  string
	doc   *openAPI
	token string
}

func newWebClient(t *testing.T, base string) *webClient {
	c := &webClient{t: t, base: base, doc: &openAPI{}}
	code, body, _ := c.raw("GET", "/api/v1/openapi.json", "", nil)
	if code != 200 || json.Unmarshal(body, c.doc) != nil || len(c.doc.Paths) == 0 {
		t.Fatalf("GET /api/v1/openapi.json: %d %s", code, body)
	}
	var tok struct{ Token string }
	c.call("GET", "/api/v1/token", "/api/v1/token", nil, 200, &tok)
	c.token = tok.Token
	return c
}

func (c *webClient) raw(method, path, body string, hdr map[string]string) (int, []byte, http.Header) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, data, resp.Header
}

// call sends a request (with the token on a changing one), wants code,
// validates the answer against the document's operation at tmpl and
// decodes it into into (if not nil).
func (c *webClient) call(method, path, tmpl string, body any, code int, into any) []byte {
	c.t.Helper()
	hdr := map[string]string{}
	if method != "GET" {
		hdr["X-Smtprun-Token"] = c.token
	}
	var text string
	if body != nil {
		b, _ := json.Marshal(body)
		text = string(b)
		hdr["Content-Type"] = "application/json"
	}
	got, data, _ := c.raw(method, path, text, hdr)
	if got != code {
		c.t.Fatalf("%s %s: %d, want %d: %s", method, path, got, code, data)
	}
	if got != http.StatusNoContent {
		if err := c.doc.checkResponse(method, tmpl, got, data); err != nil {
			c.t.Errorf("%s %s does not match the OpenAPI document: %v\n%s", method, path, err, data)
		}
	}
	if into != nil {
		if err := json.Unmarshal(data, into); err != nil {
			c.t.Fatalf("%s %s: %v", method, path, err)
		}
	}
	return data
}

// webMessage is a multipart message with a text part, an HTML part
// whose script would mark the page it ran in, and an attachment.
const webMessage = "From: Student <student@example.edu>\r\nTo: <friend@example.edu>\r\nDate: Mon, 27 Mar 2023 18:17:53 +0000\r\nMessage-ID: <web-1@example.edu>\r\nSubject: =?UTF-8?Q?web_api_=E2=9C=93?=\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n" +
	"--b1\r\nContent-Type: multipart/alternative; boundary=\"b2\"\r\n\r\n" +
	"--b2\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello in text.\r\n" +
	"--b2\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p id=\"hello\">Hello in <b>HTML</b></p><script>try{parent.document.body.dataset.pwned='parent'}catch(e){}try{top.document.body.dataset.pwned='top'}catch(e){}document.title='ran'</script>\r\n" +
	"--b2--\r\n" +
	"--b1\r\nContent-Type: text/plain; name=\"notes.txt\"\r\nContent-Disposition: attachment; filename=\"notes.txt\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" + "bm90ZXMgZm9yIHRoZSB0ZXN0Cg==\r\n" +
	"--b1--\r\n"

// sendSMTPLib sends msg with Python's smtplib over STARTTLS and AUTH,
// to rcpts; it returns smtplib's error text, "" when all was accepted.
func sendSMTPLib(t *testing.T, sub, ca, subject string, rcpts ...string) string {
	t.Helper()
	python := lookPython()
	if python == "" {
		testenv.Missing(t, "python3 is not installed")
	}
	user, pass := sandbox.PracticeCredentials("postfix")
	host, port, _ := net.SplitHostPort(sub)
	msg := strings.Replace(webMessage, "=?UTF-8?Q?web_api_=E2=9C=93?=", subject, 1)
	script := fmt.Sprintf(`
import smtplib, ssl, sys
ctx = ssl.create_default_context(cafile=%q)
ctx.check_hostname = False
with smtplib.SMTP(%q, %s, timeout=10) as s:
    s.starttls(context=ctx)
    s.login(%q, %q)
    try:
        s.sendmail(%q, %s, %q.encode())
    except smtplib.SMTPException as e:
        print("refused:", e)
`, ca, host, port, user, pass, user, pyList(rcpts), msg)
	got, err := exec.Command(python, "-c", script).CombinedOutput()
	if err != nil {
		t.Fatalf("smtplib: %v\n%s", err, got)
	}
	return strings.TrimSpace(string(got))
}

func pyList(s []string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// sendBareLF is a student's socket client that ends its EHLO name with a
// bare LF, which the coach diagnoses.
func sendBareLF(t *testing.T, sub, name string) {
	t.Helper()
	python := lookPython()
	if python == "" {
		testenv.Missing(t, "python3 is not installed")
	}
	host, port, _ := net.SplitHostPort(sub)
	script := fmt.Sprintf(`
import socket
s = socket.create_connection((%q, %s), timeout=10)
f = s.makefile("rb")
f.readline()
s.sendall(b"EHLO " + %q.encode() + b"\n")
while True:
    l = f.readline()
    if not l or l[3:4] == b" ": break
s.sendall(b"QUIT\r\n")
f.readline()
s.close()
`, host, port, name)
	if got, err := exec.Command(python, "-c", script).CombinedOutput(); err != nil {
		t.Fatalf("socket client: %v\n%s", err, got)
	}
}

// TestServeWebAPI drives the API of a real `serve --web --explain` with
// real clients: every JSON answer matches the OpenAPI document; the
// long poll returns when the message arrives, not before; the message,
// its parts and its session read back; the coach's diagnosis of a
// mistaken client is in its session, and none in a correct client's;
// a fault plan set through the API refuses the next RCPT; changing
// requests from another origin or without the token are refused.
func TestServeWebAPI(t *testing.T) {
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	sub, base, out := startWeb(t, "--explain", "--ca-out", ca, "--record", filepath.Join(dir, "rec"))
	c := newWebClient(t, base)
	_, pass := sandbox.PracticeCredentials("postfix")

	// The long poll, before the message is sent.
	type waited struct {
		at   time.Time
		code int
		body []byte
	}
	done := make(chan waited, 1)
	go func() {
		resp, err := http.Get(base + "/api/v1/messages/wait?to=friend@example.edu&subject=web+api&timeout=20s")
		if err != nil {
			done <- waited{code: -1, body: []byte(err.Error())}
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		done <- waited{time.Now(), resp.StatusCode, b}
	}()
	select {
	case w := <-done:
		t.Fatalf("the long poll returned before any message was sent: %d %s", w.code, w.body)
	case <-time.After(300 * time.Millisecond):
	}
	sent := time.Now()
	if got := sendSMTPLib(t, sub, ca, "=?UTF-8?Q?web_api_=E2=9C=93?=", "friend@example.edu"); got != "" {
		t.Fatalf("smtplib: %s\n%s", got, out)
	}
	var w waited
	select {
	case w = <-done:
	case <-time.After(15 * time.Second):
		t.Fatalf("the long poll did not return after the message arrived\n%s", out)
	}
	if w.code != 200 || w.at.Before(sent) {
		t.Fatalf("long poll: %d at %v (sent at %v): %s", w.code, w.at, sent, w.body)
	}
	if err := c.doc.checkResponse("GET", "/api/v1/messages/wait", 200, w.body); err != nil {
		t.Errorf("wait: %v", err)
	}
	var hit struct {
		ID, Subject, From string
		RcptTo            []string `json:"rcpt_to"`
		Session           int64
	}
	json.Unmarshal(w.body, &hit)
	if hit.Subject != "web api ✓" || hit.From != "Student <student@example.edu>" || len(hit.RcptTo) != 1 {
		t.Errorf("waited for %+v", hit)
	}

	// Searches: each field narrows, a miss finds nothing.
	for _, tc := range []struct {
		q    string
		want int
	}{
		{"", 1}, {"?subject=WEB+API", 1}, {"?from=student@", 1}, {"?to=friend", 1},
		{"?subject=nothing", 0}, {"?to=nobody@", 0}, {"?limit=1&offset=1", 1},
	} {
		var l struct {
			Total int
			Items []json.RawMessage
		}
		c.call("GET", "/api/v1/messages"+tc.q, "/api/v1/messages", nil, 200, &l)
		if l.Total != tc.want {
			t.Errorf("messages%s: total %d, want %d", tc.q, l.Total, tc.want)
		}
	}
	c.call("GET", "/api/v1/messages?limit=0", "/api/v1/messages", nil, 400, nil)

	// The message opened.
	var m struct {
		Text        string
		HasHTML     bool `json:"has_html"`
		Attachments []struct {
			Index    int
			Filename string
		}
		AuthUser string `json:"auth_user"`
		TLS      string
	}
	c.call("GET", "/api/v1/messages/"+hit.ID, "/api/v1/messages/{id}", nil, 200, &m)
	if m.Text != "Hello in text." || !m.HasHTML || len(m.Attachments) != 1 || m.Attachments[0].Filename != "notes.txt" || m.TLS == "" {
		t.Errorf("message: %+v", m)
	}
	code, html, h := c.raw("GET", "/api/v1/messages/"+hit.ID+"/html", "", nil)
	if csp := h.Get("Content-Security-Policy"); code != 200 || !strings.Contains(string(html), `<p id="hello">`) ||
		!strings.HasPrefix(csp, "sandbox;") || !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "allow-scripts") {
		t.Errorf("html part: %d, CSP %q: %s", code, csp, html)
	}
	code, att, h := c.raw("GET", fmt.Sprintf("/api/v1/messages/%s/attachments/%d", hit.ID, m.Attachments[0].Index), "", nil)
	if code != 200 || string(att) != "notes for the test\n" || h.Get("Content-Disposition") != `attachment; filename="notes.txt"` || h.Get("Content-Type") != "application/octet-stream" {
		t.Errorf("attachment: %d %q %v", code, att, h)
	}
	code, raw, _ := c.raw("GET", "/api/v1/messages/"+hit.ID+"/raw", "", nil)
	if code != 200 || string(raw) != webMessage {
		t.Errorf("raw source: %d, differs from what was sent:\n%q", code, raw)
	}

	// The session: delivered, over TLS, no diagnosis, the password masked.
	var s struct {
		Outcome    string
		AuthUser   string `json:"auth_user"`
		TLS        string
		Diagnoses  int
		Messages   []string
		ReportCard *struct{ Good []string } `json:"report_card"`
	}
	body := c.call("GET", fmt.Sprint("/api/v1/sessions/", hit.Session), "/api/v1/sessions/{id}", nil, 200, &s)
	if s.Outcome != "delivered" || s.TLS == "" || s.Diagnoses != 0 || len(s.Messages) != 1 || s.ReportCard == nil || s.AuthUser == "" {
		t.Errorf("session: %+v", s)
	}
	for _, secret := range []string{pass, base64.StdEncoding.EncodeToString([]byte(pass)), base64.StdEncoding.EncodeToString([]byte("\x00" + s.AuthUser + "\x00" + pass))} {
		if strings.Contains(string(body), secret) {
			t.Errorf("the session's transcript holds the password (%q)", secret)
		}
	}
	if !strings.Contains(string(body), `"secret":true`) {
		t.Errorf("no line of the transcript is marked as credentials:\n%s", body)
	}
	code, script, _ := c.raw("GET", fmt.Sprint("/api/v1/sessions/", hit.Session, "/recording"), "", nil)
	if code != 200 || !strings.HasPrefix(string(script), "# Recorded by smtprun serve --record: connection 1") || strings.Contains(string(script), pass) {
		t.Errorf("the session's recording: %d\n%s", code, script)
	}

	// A client's mistake, diagnosed in its session.
	sendBareLF(t, sub, "student")
	waitFor(t, out, "[2] closed")
	var diags struct {
		Items []struct {
			Rule, Sentence, RFC, Severity string
			Line                          int
		}
	}
	c.call("GET", "/api/v1/sessions/2/diagnoses", "/api/v1/sessions/{id}/diagnoses", nil, 200, &diags)
	if len(diags.Items) == 0 || diags.Items[0].Rule != "bare_lf_command" || diags.Items[0].RFC == "" || diags.Items[0].Severity != "mistake" || diags.Items[0].Line != 1 {
		t.Errorf("diagnoses of the bare-LF client: %+v", diags.Items)
	}
	c.call("GET", "/api/v1/sessions/99", "/api/v1/sessions/{id}", nil, 404, nil)
	var sl struct{ Total int }
	c.call("GET", "/api/v1/sessions", "/api/v1/sessions", nil, 200, &sl)
	if sl.Total != 2 {
		t.Errorf("%d sessions, want 2", sl.Total)
	}

	// Changing requests from elsewhere, or without the token, are refused
	// before they change anything.
	for _, tc := range []struct {
		name, method string
		hdr          map[string]string
	}{
		{"form post from another site", "POST", map[string]string{"Origin": "http://evil.example", "Content-Type": "application/x-www-form-urlencoded"}},
		{"cross-site fetch", "PUT", map[string]string{"Sec-Fetch-Site": "cross-site", "X-Smtprun-Token": c.token}},
		{"other origin with the token", "PUT", map[string]string{"Origin": "http://evil.example", "X-Smtprun-Token": c.token}},
		{"no token", "PUT", nil},
		{"wrong token", "DELETE", map[string]string{"X-Smtprun-Token": "guess"}},
		{"rebound host name", "PUT", map[string]string{"Host": "evil.example", "X-Smtprun-Token": c.token}},
	} {
		req, _ := http.NewRequest(tc.method, base+"/api/v1/faults", strings.NewReader(`{"plans":["rcpt=550 5.1.1 planted"]}`))
		for k, v := range tc.hdr {
			req.Header.Set(k, v)
		}
		if tc.hdr["Host"] != "" {
			req.Host = tc.hdr["Host"]
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 403 {
			t.Errorf("%s: %d, want 403: %s", tc.name, resp.StatusCode, b)
		}
	}
	var fp struct{ Plans []struct{ Plan string } }
	c.call("GET", "/api/v1/faults", "/api/v1/faults", nil, 200, &fp)
	if len(fp.Plans) != 0 {
		t.Fatalf("a refused request set plans: %+v", fp)
	}

	// A fault plan through the API: the next RCPT is refused.
	c.call("PUT", "/api/v1/faults", "/api/v1/faults", map[string]any{"plans": []string{"rcpt#1=550 5.1.1 No such user here"}}, 200, &fp)
	c.call("PUT", "/api/v1/faults", "/api/v1/faults", map[string]any{"plans": []string{"rcpt#=550"}}, 400, nil)
	if got := sendSMTPLib(t, sub, ca, "second", "friend@example.edu"); !strings.Contains(got, "No such user here") {
		t.Errorf("with rcpt#1=550 set through the API, smtplib said %q\n%s", got, out)
	}
	var after struct {
		Plans []struct {
			Fired int
			Spent bool
		}
	}
	c.call("GET", "/api/v1/faults", "/api/v1/faults", nil, 200, &after)
	if len(after.Plans) != 1 || after.Plans[0].Fired != 1 || !after.Plans[0].Spent {
		t.Errorf("faults after the refused RCPT: %+v", after)
	}
	var s3 struct {
		Outcome   string
		LastError string `json:"last_error"`
	}
	c.call("GET", "/api/v1/sessions/3", "/api/v1/sessions/{id}", nil, 200, &s3)
	if s3.Outcome != "failed" || !strings.Contains(s3.LastError, "550") {
		t.Errorf("the refused session: %+v", s3)
	}
	c.call("DELETE", "/api/v1/faults", "/api/v1/faults", nil, 204, nil)

	// Deleting, and waiting in vain.
	c.call("DELETE", "/api/v1/messages/"+hit.ID, "/api/v1/messages/{id}", nil, 204, nil)
	c.call("GET", "/api/v1/messages/"+hit.ID, "/api/v1/messages/{id}", nil, 404, nil)
	start := time.Now()
	c.call("GET", "/api/v1/messages/wait?subject=never&timeout=300ms", "/api/v1/messages/wait", nil, 408, nil)
	if d := time.Since(start); d < 300*time.Millisecond || d > 5*time.Second {
		t.Errorf("a 300ms wait took %v", d)
	}
	c.call("GET", "/api/v1/messages/wait?timeout=soon", "/api/v1/messages/wait", nil, 400, nil)
}

// TestOpenAPICheckFails: the document check catches an undeclared
// property, a missing required one and a wrong type, so the API test's
// validation can fail.
func TestOpenAPICheckFails(t *testing.T) {
	_, base, _ := startWeb(t)
	c := newWebClient(t, base)
	for _, body := range []string{
		`{"plans":[{"plan":"x","fired":0,"spent":false,"extra":1}]}`,
		`{"plans":[{"plan":"x","fired":0}]}`,
		`{"plans":[{"plan":"x","fired":"0","spent":false}]}`,
		`{"plans":{}}`,
	} {
		if err := c.doc.checkResponse("GET", "/api/v1/faults", 200, []byte(body)); err == nil {
			t.Errorf("%s passed the check", body)
		}
	}
	if err := c.doc.checkResponse("GET", "/api/v1/faults", 200, []byte(`{"plans":[{"plan":"x","fired":0,"spent":false}]}`)); err != nil {
		t.Errorf("a valid body failed: %v", err)
	}
}

// TestServeWebLoopbackOnly: --web on an address beyond loopback is
// refused without --public, by the rule of the SMTP listeners.
func TestServeWebLoopbackOnly(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:8025", ":8025", "[::]:8025", "mail.example.com:8025"} {
		code, _, errOut := cli(t, "serve", "--listen", "127.0.0.1:0", "--listen-tls", "off", "--listen-oauth", "off", "--web", addr)
		if code != exitUsage || !strings.Contains(errOut, addr+" is not a loopback address") {
			t.Errorf("--web %s: exit %d: %s", addr, code, errOut)
		}
	}
}
