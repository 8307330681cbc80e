package main

import (
	"bytes"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/smtprun/smtprun/sandbox"
)

// oauthServe runs `smtprun serve` with its OAuth endpoints on an ephemeral
// loopback port and quick device-flow timings; it returns the submission
// address, the OAuth base URL and the CA file.
func oauthServe(t *testing.T, opts sandbox.Options, args ...string) (sub, base, ca string, out *syncBuffer) {
	t.Helper()
	serveTestHook = func(o *sandbox.Options) {
		o.PollInterval = time.Second
		if opts.DeviceCodeTTL > 0 {
			o.DeviceCodeTTL = opts.DeviceCodeTTL
		}
	}
	t.Cleanup(func() { serveTestHook = nil })
	ca = filepath.Join(t.TempDir(), "ca.pem")
	sub, _, out = startServe(t, append([]string{"--ca-out", ca}, args...)...)
	m := regexp.MustCompile(`listening on (\S+): OAuth endpoints`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("serve printed no OAuth address:\n%s", out)
	}
	return sub, "http://" + m[1], ca, out
}

// tokenRun is `smtprun token ...` running in the background.
type tokenRun struct {
	stdout, stderr *syncBuffer
	done           chan int
}

func startToken(t *testing.T, args ...string) *tokenRun {
	t.Helper()
	r := &tokenRun{stdout: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan int, 1)}
	go func() { r.done <- run(append([]string{"token"}, args...), strings.NewReader(""), r.stdout, r.stderr) }()
	return r
}

// waitFor returns the submatches of re once the command's stderr has them.
func (r *tokenRun) waitFor(t *testing.T, re string) []string {
	t.Helper()
	x := regexp.MustCompile(re)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if m := x.FindStringSubmatch(r.stderr.String()); m != nil {
			return m
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no %s in stderr:\n%s", re, r.stderr)
	return nil
}

func (r *tokenRun) exit(t *testing.T) int {
	t.Helper()
	select {
	case code := <-r.done:
		return code
	case <-time.After(30 * time.Second):
		t.Fatalf("smtprun token did not finish:\n%s", r.stderr)
	}
	return -1
}

const deviceRe = `open (http://\S+) and enter the code ([A-Z]{4}-[A-Z]{4})`

// approveDevice plays the user at the verification page: it must show the
// code and an Approve and a Deny button; the form POST decides.
func approveDevice(t *testing.T, verify, code, action string) {
	t.Helper()
	resp, err := http.Get(verify + "?user_code=" + url.QueryEscape(code))
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{code, `value="approve">Approve</button>`, `value="deny">Deny</button>`, `method="post"`} {
		if !strings.Contains(string(page), want) {
			t.Errorf("verification page lacks %q:\n%s", want, page)
		}
	}
	form := url.Values{"user_code": {code}}
	if action != "" {
		form.Set("action", action)
	}
	resp, err = http.PostForm(verify, form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("POST %s: %s", verify, resp.Status)
	}
}

// loginScript authenticates with XOAUTH2 at a serve's submission port.
const loginScript = `connect "${ADDR}"
expect 220
send "EHLO me"
expect 250
starttls
send "EHLO me"
expect 250 "XOAUTH2"
auth xoauth2 "${SMTP_USER}" "${SMTP_TOKEN}"
expect 235
quit
`

// TestTokenDeviceFlowOverHTTP: `smtprun token office365 --issuer` against
// serve's endpoints, approved at the verification page; the token works
// on the same serve's SMTP port, is cached 0600 in a 0700 directory, and
// comes back from the cache without a prompt.
func TestTokenDeviceFlowOverHTTP(t *testing.T) {
	cfg := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", cfg)
	t.Setenv("HOME", cfg)
	sub, base, ca, serveOut := oauthServe(t, sandbox.Options{}, "--profile", "office365")
	issuer := base + "/office365"

	r := startToken(t, "office365", "--issuer", issuer, "--client-id", "my-app-id", "--print")
	m := r.waitFor(t, deviceRe)
	if m[1] != issuer+"/device" {
		t.Errorf("verification URL %s", m[1])
	}
	approveDevice(t, m[1], m[2], "")
	if code := r.exit(t); code != 0 {
		t.Fatalf("exit %d\n%s", code, r.stderr)
	}
	token := strings.TrimSuffix(r.stdout.String(), "\n")
	if !strings.HasPrefix(token, "EwB") || strings.ContainsAny(token, " \n") {
		t.Fatalf("--print wrote %q, want the token alone", r.stdout)
	}
	if strings.Contains(r.stderr.String(), token) {
		t.Errorf("token on stderr:\n%s", r.stderr)
	}

	// The cache: 0600 file in a 0700 directory under XDG_CONFIG_HOME.
	dir := filepath.Join(cfg, "smtprun", "tokens")
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	if len(files) != 1 {
		t.Fatalf("cache files %q", files)
	}
	if fi, _ := os.Stat(files[0]); fi.Mode().Perm() != 0o600 {
		t.Errorf("cache file mode %v", fi.Mode().Perm())
	}
	if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o700 {
		t.Errorf("cache directory mode %v", fi.Mode().Perm())
	}
	cached, _ := os.ReadFile(files[0])
	refresh := regexp.MustCompile(`"refresh_token": "([^"]+)"`).FindSubmatch(cached)
	if refresh == nil {
		t.Fatalf("no refresh token cached:\n%s", cached)
	}

	// A cached, valid token: no prompt, the same token.
	again := startToken(t, "office365", "--issuer", issuer, "--print")
	if code := again.exit(t); code != 0 || strings.TrimSpace(again.stdout.String()) != token || again.stderr.String() != "" {
		t.Errorf("second run: exit %d, stdout %q, stderr %q", code, again.stdout, again.stderr)
	}
	// Without --print the token is described, never shown.
	desc := startToken(t, "office365", "--issuer", issuer)
	if code := desc.exit(t); code != 0 || strings.Contains(desc.stdout.String()+desc.stderr.String(), token) ||
		strings.Contains(desc.stdout.String()+desc.stderr.String(), string(refresh[1])) || !strings.Contains(desc.stdout.String(), "not shown") {
		t.Errorf("summary: exit %d\n%s%s", code, desc.stdout, desc.stderr)
	}

	// The token opens the same serve's SMTP port, and never shows.
	script := writeFile(t, t.TempDir(), "login.smtp", loginScript)
	for _, mode := range [][]string{nil, {"-q"}, {"--explain"}} {
		args := append([]string{"--ca", ca, "--var", "ADDR=" + sub, "--var", "SMTP_USER=me@contoso.com", "--var", "SMTP_TOKEN=" + token}, mode...)
		code, out, errOut := cli(t, append(args, script)...)
		if code != 0 {
			t.Fatalf("login with the token: exit %d\n%s%s", code, out, errOut)
		}
		for name, form := range leakForms("me@contoso.com", token) {
			if strings.Contains(out+errOut, form) {
				t.Errorf("mode %v: output has the token's %s form", mode, name)
			}
		}
		if xo := b64xoauth2("me@contoso.com", token); strings.Contains(out+errOut, xo) {
			t.Errorf("mode %v: output has the XOAUTH2 blob", mode)
		}
	}

	// --oauth fills SMTP_TOKEN from that cache.
	code, out, errOut := cli(t, "--oauth", "office365@"+strings.TrimPrefix(base, "http://"), "--ca", ca,
		"--var", "ADDR="+sub, "--var", "SMTP_USER=me@contoso.com", script)
	if code != 0 || !strings.Contains(out, "SMTP_TOKEN is the cached access token") || strings.Contains(out+errOut, token) {
		t.Errorf("--oauth: exit %d\n%s%s", code, out, errOut)
	}

	// serve's transcript tells what its endpoints did, never a token.
	for _, want := range []string{"oauth office365: device code issued; user code " + m[2], "oauth office365: tokens issued (device_code grant)"} {
		if !strings.Contains(serveOut.String(), want) {
			t.Errorf("serve output lacks %q:\n%s", want, serveOut)
		}
	}
	if strings.Contains(serveOut.String(), token) || strings.Contains(serveOut.String(), string(refresh[1])) || strings.Contains(serveOut.String(), b64xoauth2("me@contoso.com", token)) {
		t.Errorf("serve output shows a token")
	}

	// --forget removes it.
	forget := startToken(t, "office365", "--issuer", issuer, "--forget")
	if code := forget.exit(t); code != 0 {
		t.Errorf("--forget: exit %d %s", code, forget.stderr)
	}
	if files, _ := filepath.Glob(filepath.Join(dir, "*.json")); len(files) != 0 {
		t.Errorf("still cached: %q", files)
	}
}

func b64xoauth2(user, token string) string {
	return b64("user=" + user + "\x01auth=Bearer " + token + "\x01\x01")
}

// TestTokenDeviceFlowFailures: the user declines, or the code expires;
// each is a clear error and exit 3.
func TestTokenDeviceFlowFailures(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	_, base, _, _ := oauthServe(t, sandbox.Options{DeviceCodeTTL: 2 * time.Second}, "--profile", "office365")
	issuer := base + "/office365"

	r := startToken(t, "office365", "--issuer", issuer, "--client-id", "x", "--print")
	m := r.waitFor(t, deviceRe)
	approveDevice(t, m[1], m[2], "deny")
	if code := r.exit(t); code != exitRuntime || !strings.Contains(r.stderr.String(), "you declined") || r.stdout.String() != "" {
		t.Errorf("deny: exit %d, stdout %q\n%s", code, r.stdout, r.stderr)
	}

	start := time.Now()
	r = startToken(t, "office365", "--issuer", issuer, "--client-id", "x", "--print")
	r.waitFor(t, deviceRe)
	if code := r.exit(t); code != exitRuntime || !strings.Contains(r.stderr.String(), "expired") {
		t.Errorf("expiry: exit %d\n%s", code, r.stderr)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("expiry took %v", d)
	}

	// An issuer nobody listens on, and one that answers with no token.
	r = startToken(t, "office365", "--issuer", "http://127.0.0.1:1/office365", "--client-id", "x", "--no-cache")
	if code := r.exit(t); code != exitRuntime || !strings.Contains(r.stderr.String(), "cannot reach the issuer") {
		t.Errorf("unreachable: exit %d\n%s", code, r.stderr)
	}
	bad := startHTTP(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"device_code":"d","user_code":"ABCD-EFGH","verification_uri":"http://x/","interval":1,"expires_in":60,"access_token":`)
	}))
	r = startToken(t, "other", "--issuer", bad, "--client-id", "x", "--no-cache", "--scope", "mail")
	if code := r.exit(t); code != exitRuntime || !strings.Contains(r.stderr.String(), "not a valid") {
		t.Errorf("malformed: exit %d\n%s", code, r.stderr)
	}
	// No client ID: the user's own registration is needed.
	t.Setenv("SMTPRUN_OAUTH_CLIENT_ID", "")
	r = startToken(t, "office365", "--no-cache")
	if code := r.exit(t); code != exitUsage || !strings.Contains(r.stderr.String(), "--client-id") {
		t.Errorf("no client id: exit %d\n%s", code, r.stderr)
	}
}

// TestTokenSlowDown: polling faster than the interval gets slow_down
// (RFC 8628 3.5), and the interval grows by 5 seconds, over real HTTP.
func TestTokenSlowDown(t *testing.T) {
	_, base, _, _ := oauthServe(t, sandbox.Options{}, "--profile", "office365")
	resp, err := http.PostForm(base+"/office365/devicecode", url.Values{"client_id": {"x"}, "scope": {"https://outlook.office.com/SMTP.Send"}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	dc := regexp.MustCompile(`"device_code":"([^"]+)"`).FindSubmatch(body)
	if dc == nil {
		t.Fatalf("device authorization: %s", body)
	}
	poll := func() string {
		resp, err := http.PostForm(base+"/office365/token", url.Values{"client_id": {"x"}, "device_code": {string(dc[1])},
			"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}})
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	if got := poll(); !strings.Contains(got, `"authorization_pending"`) {
		t.Errorf("first poll: %s", got)
	}
	if got := poll(); !strings.Contains(got, `"slow_down"`) {
		t.Errorf("second poll at once: %s", got)
	}
	time.Sleep(1500 * time.Millisecond) // past the 1 s interval, not the 6 s it became
	if got := poll(); !strings.Contains(got, `"slow_down"`) {
		t.Errorf("poll after 1.5 s: %s", got)
	}
}

// TestTokenPKCEOverHTTP: gmail's authorization code flow with PKCE
// against serve's endpoints; the browser's part (the page's Approve form,
// then the redirect to the loopback listener) is done with net/http.
func TestTokenPKCEOverHTTP(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	sub, base, ca, _ := oauthServe(t, sandbox.Options{}, "--profile", "gmail")
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	browse := func(r *tokenRun, action string) {
		t.Helper()
		authURL := r.waitFor(t, `\n  (http://\S+/authorize\?\S+)\n`)[1]
		u, _ := url.Parse(authURL)
		q := u.Query()
		if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || !strings.HasPrefix(q.Get("redirect_uri"), "http://127.0.0.1:") {
			t.Errorf("authorization URL %s", authURL)
		}
		resp, err := http.Get(authURL)
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !bytes.Contains(page, []byte("https://mail.google.com/")) || !bytes.Contains(page, []byte(">Approve<")) {
			t.Errorf("authorization page:\n%s", page)
		}
		q.Set("action", action)
		resp, err = noRedirect.PostForm(base+"/gmail/authorize", q)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc := resp.Header.Get("Location")
		if resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc, q.Get("redirect_uri")) {
			t.Fatalf("authorize: %s, Location %q", resp.Status, loc)
		}
		resp, err = http.Get(loc) // the browser follows to the loopback listener
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}

	r := startToken(t, "gmail", "--issuer", base+"/gmail", "--client-id", "my-desktop-client", "--print")
	browse(r, "approve")
	if code := r.exit(t); code != 0 {
		t.Fatalf("exit %d\n%s", code, r.stderr)
	}
	token := strings.TrimSpace(r.stdout.String())
	if !strings.HasPrefix(token, "ya29.") {
		t.Fatalf("token %q", token)
	}
	script := writeFile(t, t.TempDir(), "login.smtp", loginScript)
	code, out, errOut := cli(t, "--ca", ca, "--var", "ADDR="+sub, "--var", "SMTP_USER=me@gmail.com", "--var", "SMTP_TOKEN="+token, script)
	if code != 0 || strings.Contains(out+errOut, token) {
		t.Errorf("login: exit %d\n%s%s", code, out, errOut)
	}

	r = startToken(t, "gmail", "--issuer", base+"/gmail", "--client-id", "my-desktop-client", "--no-cache")
	browse(r, "deny")
	if code := r.exit(t); code != exitRuntime || !strings.Contains(r.stderr.String(), "you declined") {
		t.Errorf("deny: exit %d\n%s", code, r.stderr)
	}
}

// TestTokenRefreshAfterTTL: with --token-ttl 2s the cached token goes
// stale, the next `smtprun token` refreshes it without a prompt, and the
// server refuses the old token and takes the new one.
func TestTokenRefreshAfterTTL(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	sub, base, ca, _ := oauthServe(t, sandbox.Options{}, "--profile", "gmail", "--token-ttl", "2s")
	issuer := base + "/gmail"
	r := startToken(t, "gmail", "--issuer", issuer, "--client-id", "c", "--flow", "device", "--print")
	m := r.waitFor(t, deviceRe)
	approveDevice(t, m[1], m[2], "")
	if code := r.exit(t); code != 0 {
		t.Fatalf("exit %d\n%s", code, r.stderr)
	}
	old := strings.TrimSpace(r.stdout.String())
	time.Sleep(2100 * time.Millisecond)

	r = startToken(t, "gmail", "--issuer", issuer)
	if code := r.exit(t); code != 0 || !strings.Contains(r.stdout.String(), "(refresh)") || r.stderr.String() != "" {
		t.Fatalf("refresh: exit %d\n%s%s", code, r.stdout, r.stderr)
	}
	r = startToken(t, "gmail", "--issuer", issuer, "--print")
	if code := r.exit(t); code != 0 {
		t.Fatalf("print: exit %d\n%s", code, r.stderr)
	}
	fresh := strings.TrimSpace(r.stdout.String())
	if fresh == old || !strings.HasPrefix(fresh, "ya29.") {
		t.Fatalf("refreshed token %q, old %q", fresh, old)
	}

	script := writeFile(t, t.TempDir(), "login.smtp", loginScript)
	code, out, errOut := cli(t, "--ca", ca, "--var", "ADDR="+sub, "--var", "SMTP_USER=me@gmail.com", "--var", "SMTP_TOKEN="+old, script)
	if code != exitExpectation || !strings.Contains(errOut, "status 401") || !strings.Contains(errOut, "expired") || strings.Contains(out+errOut, old) {
		t.Errorf("old token: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, errOut := cli(t, "--ca", ca, "--var", "ADDR="+sub, "--var", "SMTP_USER=me@gmail.com", "--var", "SMTP_TOKEN="+fresh, script); code != 0 {
		t.Errorf("fresh token: exit %d\n%s%s", code, out, errOut)
	}
}

// TestTokenSandbox: `smtprun token PROVIDER --sandbox` runs the flows in
// process, approving in the user's place, and says so.
func TestTokenSandbox(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	for _, p := range []string{"office365", "gmail", "yahoo"} {
		r := startToken(t, p, "--sandbox", "--print")
		if code := r.exit(t); code != 0 || strings.Count(r.stdout.String(), "\n") != 1 || !strings.Contains(r.stderr.String(), "sandbox: approving") {
			t.Errorf("%s: exit %d, stdout %q\n%s", p, code, r.stdout, r.stderr)
		}
	}
	r := startToken(t, "postfix", "--sandbox")
	if code := r.exit(t); code != exitUsage {
		t.Errorf("postfix: exit %d\n%s", code, r.stderr)
	}
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// startHTTP serves h on a loopback port for a test: a tiny fake issuer
// for misbehaviour serve's endpoints never show.
func startHTTP(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

// An unset token variable says how to get a token for the provider the
// script talks to.
func TestUnsetTokenHelp(t *testing.T) {
	t.Setenv("SMTP_TOKEN", "") // restored after the test
	os.Unsetenv("SMTP_TOKEN")
	code, _, errOut := cli(t, "../../scripts/utep-oauth.smtp")
	if code != exitScript || !strings.Contains(errOut, "`smtprun token office365`, then run with --oauth office365") {
		t.Errorf("exit %d\n%s", code, errOut)
	}
	code, _, errOut = cli(t, "../../scripts/gmail-oauth.smtp")
	if code != exitScript || !strings.Contains(errOut, "`smtprun token gmail`") {
		t.Errorf("exit %d\n%s", code, errOut)
	}
}

// --oauth leaves a SMTP_TOKEN that is already set alone, and says so.
func TestOAuthFlagKeepsSetToken(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	code, out, errOut := cli(t, "--oauth", "office365", "--sandbox", "--var", "SMTP_TOKEN=EwB-typed-by-hand-0123", "../../scripts/utep-oauth.smtp")
	if code != exitExpectation || !strings.Contains(out, "--oauth office365: SMTP_TOKEN is already set; using it") ||
		!strings.Contains(errOut, "535 5.7.3") || strings.Contains(out+errOut, "EwB-typed-by-hand-0123") {
		t.Errorf("exit %d\n%s%s", code, out, errOut)
	}
	// Nothing cached and no client ID: a usage error that says what to do.
	t.Setenv("SMTPRUN_OAUTH_CLIENT_ID", "")
	t.Setenv("SMTP_TOKEN", "")
	os.Unsetenv("SMTP_TOKEN")
	code, _, errOut = cli(t, "--oauth", "office365", "../../scripts/utep-oauth.smtp")
	if code != exitUsage || !strings.Contains(errOut, "--oauth office365: no cached token: run `smtprun token office365` first") {
		t.Errorf("no client: exit %d\n%s", code, errOut)
	}
}

// A refused Gmail token's report names status and scope and what to do,
// in -q mode too.
func TestOAuthRefusalReport(t *testing.T) {
	for scenario, want := range map[string]string{
		"token-expired": "status 401, scope https://mail.google.com/\n   | hint: the access token has expired or was revoked: refresh it with `smtprun token gmail`",
		"wrong-scope":   "status 400, scope https://mail.google.com/\n   | hint: the token was refused (status 400); it must be a current access token issued with the scope https://mail.google.com/",
	} {
		code, _, errOut := cli(t, "--sandbox", "-q", "--scenario", scenario, "../../scripts/gmail-oauth.smtp")
		if code != exitExpectation || !strings.Contains(errOut, want) {
			t.Errorf("%s: exit %d\n%s", scenario, code, errOut)
		}
	}
}
