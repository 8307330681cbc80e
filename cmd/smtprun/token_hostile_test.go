package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/smtprun/smtprun/oauth"
	"github.com/smtprun/smtprun/sandbox"
	"github.com/smtprun/smtprun/sandbox/oauthsim"
)

// The command's side of the hostile-issuer suite (the flows themselves
// are in oauth's): deadlines and signals through a real process, the
// cache key through the command's naming, and a restarted serve.

// fakeIssuer serves h on 127.0.0.1 and tells got about each request.
func fakeIssuer(t *testing.T, h http.HandlerFunc) (base string, got chan string) {
	t.Helper()
	got = make(chan string, 100)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case got <- r.URL.Path:
		default:
		}
		h(w, r)
	}))
	t.Cleanup(func() { srv.CloseClientConnections(); srv.Close() })
	return srv.URL, got
}

// dripping answers 200 and then a byte a second, for up to a minute.
func dripping(w http.ResponseWriter, r *http.Request) {
	w.WriteHeader(200)
	w.(http.Flusher).Flush()
	for i := 0; i < 60; i++ {
		select {
		case <-r.Context().Done():
			return
		case <-time.After(time.Second):
		}
		if _, err := w.Write([]byte(" ")); err != nil {
			return
		}
		w.(http.Flusher).Flush()
	}
}

// TestTokenTimeoutAndSignals: `smtprun token` against a device endpoint
// dripping a byte a second ends at --timeout, and at once on SIGINT or
// SIGTERM (exit 130), in a real process.
func TestTokenTimeoutAndSignals(t *testing.T) {
	base, got := fakeIssuer(t, dripping)
	cases := []struct {
		name     string
		timeout  string
		signal   os.Signal
		wantExit int
		atMost   time.Duration
	}{
		{"--timeout 2s", "2s", nil, exitRuntime, 5 * time.Second},
		{"SIGINT", "60s", syscall.SIGINT, exitInterrupted, 3 * time.Second},
		{"SIGTERM", "60s", syscall.SIGTERM, exitInterrupted, 3 * time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "token", "other", "--issuer", base, "--client-id", "x", "--no-cache", "--scope", "mail", "--timeout", tc.timeout)
			cmd.Env = append(os.Environ(), "SMTPRUN_TEST_MAIN=1")
			errOut := &syncBuffer{}
			cmd.Stderr = errOut
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			select {
			case <-got:
			case <-time.After(10 * time.Second):
				cmd.Process.Kill()
				t.Fatal("the command never reached the issuer")
			}
			start := time.Now()
			if tc.signal != nil {
				time.Sleep(200 * time.Millisecond) // into the drip
				cmd.Process.Signal(tc.signal)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			var err error
			select {
			case err = <-done:
			case <-time.After(15 * time.Second):
				cmd.Process.Kill()
				<-done
				t.Fatalf("still running 15 s later:\n%s", errOut)
			}
			code := 0
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				code = ee.ExitCode()
			}
			if took := time.Since(start); code != tc.wantExit || took > tc.atMost {
				t.Errorf("exit %d after %v, want %d within %v\n%s", code, took, tc.wantExit, tc.atMost, errOut)
			}
		})
	}
}

// plantToken caches a token for p's endpoints under XDG_CONFIG_HOME, as
// `smtprun token` would have.
func plantToken(t *testing.T, p oauth.Provider, account string, expiry time.Time, access string) {
	t.Helper()
	c, err := oauth.DefaultCache()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Save(&oauth.Cached{Provider: p.Name, Account: account, AccessToken: access, RefreshToken: "REFRESH-0123456789abcdef",
		Expiry: expiry, TokenURL: p.TokenURL, ClientID: "client"}); err != nil {
		t.Fatal(err)
	}
}

// TestOAuthFlagTimeout: --oauth refreshing at a silent token endpoint
// gives up at --timeout, not after a quarter of an hour.
func TestOAuthFlagTimeout(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	quit := make(chan struct{})
	base, _ := fakeIssuer(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-quit:
		case <-time.After(time.Minute):
		}
	})
	t.Cleanup(func() { close(quit) }) // before the server's Close, which waits for this handler
	hostport := strings.TrimPrefix(base, "http://")
	p, _ := oauth.Lookup("office365")
	p = p.AtIssuer(base + "/office365")
	p.Name = "office365@" + hostport
	plantToken(t, p, "", time.Now().Add(-time.Hour), "OLD-0123456789")
	type out struct {
		code   int
		errOut string
	}
	done := make(chan out, 1)
	start := time.Now()
	go func() {
		code, _, errOut := cli(t, "--oauth", "office365@"+hostport, "--timeout", "2s", "--var", "ADDR=127.0.0.1:9", "../../scripts/utep-oauth.smtp")
		done <- out{code, errOut}
	}()
	select {
	case o := <-done:
		if took := time.Since(start); o.code != exitRuntime || took > 5*time.Second || !strings.Contains(o.errOut, "did not answer in time") {
			t.Errorf("exit %d after %v\n%s", o.code, took, o.errOut)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("--oauth still waiting 20 s later")
	}
}

// TestTokenCacheNames: the command's names for a token never find
// another's: another path on the same issuer host, or the built-in
// gmail for an account whose name runs into a custom provider's.
func TestTokenCacheNames(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("SMTPRUN_OAUTH_CLIENT_ID", "")
	t.Setenv("SMTPRUN_OAUTH_CLIENT_SECRET", "")
	base, _ := fakeIssuer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case strings.HasPrefix(r.URL.Path, "/ok/") && strings.HasSuffix(r.URL.Path, "/devicecode"):
			json.NewEncoder(w).Encode(map[string]any{"device_code": "d-0123456789", "user_code": "ABCD-EFGH",
				"verification_uri": "http://127.0.0.1/device", "expires_in": 60, "interval": 1})
		case strings.HasPrefix(r.URL.Path, "/ok/") || strings.HasPrefix(r.URL.Path, "/custom/"):
			json.NewEncoder(w).Encode(map[string]any{"access_token": "OK-TOKEN-0123456789", "token_type": "Bearer", "expires_in": 3600})
		default:
			w.WriteHeader(400)
			json.NewEncoder(w).Encode(map[string]string{"error": "invalid_client"})
		}
	})
	r := startToken(t, "office365", "--issuer", base+"/ok", "--client-id", "x", "--print")
	if code := r.exit(t); code != 0 || strings.TrimSpace(r.stdout.String()) != "OK-TOKEN-0123456789" {
		t.Fatalf("ok: exit %d %q\n%s", code, r.stdout, r.stderr)
	}
	r = startToken(t, "office365", "--issuer", base+"/other", "--client-id", "x", "--print")
	if code := r.exit(t); code == 0 || strings.Contains(r.stdout.String(), "OK-TOKEN") {
		t.Errorf("other got ok's token: exit %d %q\n%s", code, r.stdout, r.stderr)
	}

	r = startToken(t, "gmail-x", "--token-url", base+"/custom/token", "--device-url", base+"/ok/devicecode", "--client-id", "x", "--scope", "mail", "--print")
	if code := r.exit(t); code != 0 {
		t.Fatalf("custom: exit %d\n%s", code, r.stderr)
	}
	// gmail's own endpoints, which this test must not reach: with no
	// client ID, the command stops before any request.
	r = startToken(t, "gmail", "--account", "x", "--print")
	if code := r.exit(t); code != exitUsage || strings.Contains(r.stdout.String(), "OK-TOKEN") {
		t.Errorf("gmail --account x: exit %d %q\n%s", code, r.stdout, r.stderr)
	}
}

// TestTokenAfterServeRestart: serve forgets its tokens when it stops;
// the token cached from it is then refused with a hint that names what
// helps, and --refresh signs in again at the new serve.
func TestTokenAfterServeRestart(t *testing.T) {
	cfg := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", cfg)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	oauthAddr := ln.Addr().String()
	ln.Close()
	name := "office365@" + oauthAddr
	signIn := func(t *testing.T, args ...string) string {
		t.Helper()
		r := startToken(t, append([]string{name, "--print"}, args...)...)
		m := r.waitFor(t, deviceRe)
		approveDevice(t, m[1], m[2], "")
		if code := r.exit(t); code != 0 {
			t.Fatalf("exit %d\n%s", code, r.stderr)
		}
		return strings.TrimSpace(r.stdout.String())
	}
	var first string
	t.Run("first serve", func(t *testing.T) {
		_, base, _, _ := oauthServe(t, sandbox.Options{}, "--profile", "office365", "--listen-oauth", oauthAddr)
		if base != "http://"+oauthAddr {
			t.Fatalf("serve's OAuth endpoints at %s, want %s", base, oauthAddr)
		}
		first = signIn(t, "--client-id", "my-app")
	})
	t.Run("second serve", func(t *testing.T) {
		sub, _, ca, _ := oauthServe(t, sandbox.Options{}, "--profile", "office365", "--listen-oauth", oauthAddr)
		script := writeFile(t, t.TempDir(), "login.smtp", loginScript)
		code, out, errOut := cli(t, "--oauth", name, "--ca", ca, "--var", "ADDR="+sub, "--var", "SMTP_USER=me@contoso.com", script)
		want := fmt.Sprintf("`smtprun token %s --refresh` gets a new one", name)
		if code != exitExpectation || !strings.Contains(errOut, "535 5.7.3") || !strings.Contains(errOut, want) || strings.Contains(out+errOut, first) {
			t.Errorf("the dead token: exit %d\n%s%s", code, out, errOut)
		}
		// Asked as it is, the cache says what it cannot know.
		r := startToken(t, name)
		if code := r.exit(t); code != 0 || !strings.Contains(r.stdout.String(), "(cache)") ||
			!strings.Contains(r.stdout.String(), "if the issuer restarted since (smtprun serve), this token is dead: `smtprun token "+name+" --refresh`") {
			t.Errorf("cached token: exit %d\n%s%s", code, r.stdout, r.stderr)
		}
		fresh := signIn(t, "--refresh")
		if fresh == first || fresh == "" {
			t.Fatalf("--refresh kept the dead token")
		}
		if code, out, errOut := cli(t, "--oauth", name, "--ca", ca, "--var", "ADDR="+sub, "--var", "SMTP_USER=me@contoso.com", script); code != 0 {
			t.Errorf("the new token: exit %d\n%s%s", code, out, errOut)
		}
	})
}

// TestServeOAuthConnectionCap: serve's OAuth endpoints take
// oauthsim.DefaultLimits.MaxConns connections at once; the next is
// answered 503 and closed, not held.
func TestServeOAuthConnectionCap(t *testing.T) {
	_, base, _, _ := oauthServe(t, sandbox.Options{}, "--profile", "office365")
	addr := strings.TrimPrefix(base, "http://")
	n := oauthsim.DefaultLimits.MaxConns
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := 0; i < n; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	time.Sleep(200 * time.Millisecond)
	extra, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer extra.Close()
	extra.SetReadDeadline(time.Now().Add(5 * time.Second))
	b := make([]byte, 12)
	if _, err := io.ReadFull(extra, b); err != nil || string(b) != "HTTP/1.1 503" {
		t.Errorf("connection %d: %q %v", n+1, b, err)
	}
}
