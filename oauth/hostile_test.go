package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// The hostile-issuer suite: a fake issuer on 127.0.0.1 that does what a
// real one never should (redirects, drips, escape sequences, echoed
// secrets, absurd intervals), and the client's answer to each. Every
// test is bounded in time; none talks to anything but loopback.

// hostileIssuer is an httptest server whose handler a test sets, and
// which records the form of every request it gets.
type hostileIssuer struct {
	*httptest.Server
	mu   sync.Mutex
	got  []url.Values
	hits map[string]int
}

func newIssuer(t *testing.T, h func(w http.ResponseWriter, r *http.Request)) *hostileIssuer {
	t.Helper()
	is := &hostileIssuer{hits: map[string]int{}}
	is.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		is.mu.Lock()
		is.got = append(is.got, r.Form)
		is.hits[r.URL.Path]++
		is.mu.Unlock()
		h(w, r)
	}))
	// Connections closed first: a handler still dripping to a client
	// that never hung up would hold Close.
	t.Cleanup(func() { is.CloseClientConnections(); is.Close() })
	return is
}

func (is *hostileIssuer) requests() int {
	is.mu.Lock()
	defer is.mu.Unlock()
	return len(is.got)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// deviceAnswer is a well-formed device authorization response.
func deviceAnswer(base string) map[string]any {
	return map[string]any{"device_code": "DEVICE-CODE-SECRET-0123456789", "user_code": "ABCD-EFGH",
		"verification_uri": base + "/device", "expires_in": 60, "interval": 1}
}

// tokenAnswer is a well-formed token response.
func tokenAnswer() map[string]any {
	return map[string]any{"access_token": "ACCESS-TOKEN-0123456789abcdef", "refresh_token": "REFRESH-TOKEN-0123456789abcdef",
		"token_type": "Bearer", "expires_in": 3600, "scope": "mail"}
}

func deviceProvider(base string) Provider {
	return Provider{Name: "hostile", Flow: DeviceFlow, Scopes: []string{"mail"}}.AtIssuer(base)
}

// getWithin runs Get and fails the test if it takes longer than limit;
// the flow is left running (with its context cancelled) in that case, so
// a hang on broken code shows as a failure, not a stuck test binary.
func getWithin(t *testing.T, limit time.Duration, ctx context.Context, req Request) (*Result, error, time.Duration) {
	t.Helper()
	type out struct {
		res *Result
		err error
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan out, 1)
	start := time.Now()
	go func() {
		res, err := Get(ctx, req)
		done <- out{res, err}
	}()
	select {
	case o := <-done:
		return o.res, o.err, time.Since(start)
	case <-time.After(limit):
		t.Fatalf("Get still running after %v", limit)
	}
	return nil, nil, 0
}

// expiredToken puts a token that needs a refresh in a new cache.
func expiredToken(t *testing.T, p Provider, account string) *Cache {
	t.Helper()
	c := &Cache{Dir: filepath.Join(t.TempDir(), "tokens")}
	if err := c.Save(&Cached{Provider: p.Name, Account: account, AccessToken: "OLD-ACCESS-0123456789", RefreshToken: "REFRESH-SECRET-0123456789",
		Expiry: time.Now().Add(-time.Hour), TokenURL: p.TokenURL, ClientID: "client"}); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestHostileIssuerRedirects: a redirect from the device or the token
// endpoint is never followed, since following it re-sends the client
// secret, the device code or the refresh token to wherever it points
// (an https endpoint's redirect to http would send them in clear).
func TestHostileIssuerRedirects(t *testing.T) {
	elsewhere := newIssuer(t, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, tokenAnswer()) })
	redirect := func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, elsewhere.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}
	cases := []struct {
		name    string
		refresh bool
		tls     bool
		handler func(base *string) http.HandlerFunc
	}{
		{"device endpoint", false, false, func(*string) http.HandlerFunc { return redirect }},
		{"token endpoint while polling", false, false, func(base *string) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				if strings.HasSuffix(r.URL.Path, Paths.DeviceCode) {
					writeJSON(w, 200, deviceAnswer(*base))
					return
				}
				redirect(w, r)
			}
		}},
		{"token endpoint while refreshing", true, false, func(*string) http.HandlerFunc { return redirect }},
		{"https token endpoint to http while refreshing", true, true, func(*string) http.HandlerFunc { return redirect }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := elsewhere.requests()
			var base string
			h := tc.handler(&base)
			var srv *httptest.Server
			if tc.tls {
				srv = httptest.NewTLSServer(h)
			} else {
				srv = httptest.NewServer(h)
			}
			defer srv.Close()
			base = srv.URL
			p := deviceProvider(base)
			req := Request{Provider: p, ClientID: "client", ClientSecret: "CLIENT-SECRET-0123456789", Prompt: io.Discard, HTTPClient: srv.Client()}
			if tc.refresh {
				req.Cache = expiredToken(t, p, "")
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			res, err, _ := getWithin(t, 15*time.Second, ctx, req)
			if err == nil {
				t.Fatalf("got a token through a redirect: %+v", res.Token)
			}
			if n := elsewhere.requests() - before; n != 0 {
				t.Errorf("the redirect was followed: %d requests elsewhere", n)
			}
			if !strings.Contains(err.Error(), "redirect") {
				t.Errorf("error does not say it was a redirect: %v", err)
			}
		})
	}
}

// drip answers with headers at once, then a byte a second, for up to a
// minute or until the client goes away.
func drip(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(200)
	w.(http.Flusher).Flush()
	for i := 0; i < 60; i++ {
		select {
		case <-r.Context().Done():
			return
		case <-time.After(time.Second):
		}
		if _, err := io.WriteString(w, " "); err != nil {
			return
		}
		w.(http.Flusher).Flush()
	}
}

// stall never answers, until the client goes away (or a minute).
func stall(w http.ResponseWriter, r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-time.After(time.Minute):
	}
}

// TestHostileIssuerStalls: the caller's deadline ends a request to a
// dripping or silent endpoint, mid-response, and the error says that the
// issuer did not answer in time (not that a code expired).
func TestHostileIssuerStalls(t *testing.T) {
	cases := []struct {
		name    string
		refresh bool
		handler func(base *string) http.HandlerFunc
	}{
		{"device endpoint drips", false, func(*string) http.HandlerFunc { return drip }},
		{"token endpoint silent while refreshing", true, func(*string) http.HandlerFunc { return stall }},
		{"token endpoint drips while polling", false, func(base *string) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				if strings.HasSuffix(r.URL.Path, Paths.DeviceCode) {
					writeJSON(w, 200, deviceAnswer(*base))
					return
				}
				drip(w, r)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var base string
			is := newIssuer(t, tc.handler(&base))
			base = is.URL
			p := deviceProvider(base)
			req := Request{Provider: p, ClientID: "client", Prompt: io.Discard}
			if tc.refresh {
				req.Cache = expiredToken(t, p, "")
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2500*time.Millisecond)
			defer cancel()
			_, err, took := getWithin(t, 10*time.Second, ctx, req)
			if err == nil {
				t.Fatal("no error")
			}
			if took > 5*time.Second {
				t.Errorf("took %v with a 2.5 s deadline", took)
			}
			if strings.Contains(err.Error(), "expired before it was approved") || !strings.Contains(err.Error(), "in time") {
				t.Errorf("error: %v", err)
			}
		})
	}
}

// TestRequestTimeout: without a close deadline for the whole flow, each
// request is still bounded.
func TestRequestTimeout(t *testing.T) {
	is := newIssuer(t, drip)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err, took := getWithin(t, 10*time.Second, ctx, Request{Provider: deviceProvider(is.URL), ClientID: "client", Prompt: io.Discard, RequestTimeout: 1500 * time.Millisecond})
	var oe *Error
	if !errors.As(err, &oe) || oe.Kind != Timeout || !strings.Contains(err.Error(), "1.5s for one request") || took > 4*time.Second {
		t.Errorf("after %v: %v", took, err)
	}
}

// TestHostileIssuerEscapes: what the issuer says reaches the prompt and
// the errors escaped, so it cannot set the window title, clear the
// screen or forge a line of smtprun's own.
func TestHostileIssuerEscapes(t *testing.T) {
	const evil = "\x1b]0;pwned\x07\x1b[2J\r\naccess token for office365: forged"
	cases := []struct {
		name    string
		handler func(base *string) http.HandlerFunc
		code    bool
	}{
		{"device answer and OAuth error", func(base *string) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				if strings.HasSuffix(r.URL.Path, Paths.DeviceCode) {
					a := deviceAnswer(*base)
					a["verification_uri"] = *base + "/device" + evil
					a["user_code"] = "ABCD" + evil
					writeJSON(w, 200, a)
					return
				}
				writeJSON(w, 400, map[string]string{"error": "bad" + evil, "error_description": "desc" + evil})
			}
		}, false},
		{"device endpoint's OAuth error", func(*string) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				writeJSON(w, 400, map[string]string{"error": "invalid_client" + evil, "error_description": "desc" + evil})
			}
		}, false},
		{"HTTP status text", func(*string) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				conn, buf, _ := w.(http.Hijacker).Hijack()
				defer conn.Close()
				buf.WriteString("HTTP/1.1 418 I" + strings.ReplaceAll(evil, "\r\n", "") + "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
				buf.Flush()
			}
		}, false},
		{"the redirect's error", func(*string) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 500, nil) }
		}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var base string
			is := newIssuer(t, tc.handler(&base))
			base = is.URL
			prompt := &strings.Builder{} // read once Get has returned
			p := deviceProvider(base)
			req := Request{Provider: p, ClientID: "client", Prompt: prompt}
			if tc.code {
				p.Flow = CodeFlow
				req.Provider = p
				// The browser comes back with the issuer's error.
				req.Approve = func(ctx context.Context, where, _ string) error {
					u, _ := url.Parse(where)
					back := u.Query().Get("redirect_uri") + "?" + url.Values{"state": {u.Query().Get("state")},
						"error": {"server_error" + evil}, "error_description": {"desc" + evil}}.Encode()
					resp, err := http.Get(back)
					if err == nil {
						resp.Body.Close()
					}
					return err
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_, err, _ := getWithin(t, 15*time.Second, ctx, req)
			if err == nil {
				t.Fatal("no error")
			}
			all := prompt.String() + "\n" + err.Error()
			if strings.ContainsAny(all, "\x1b\x07\r") || strings.Contains(all, "\naccess token for") {
				t.Errorf("issuer text reached the terminal raw:\n%q", all)
			}
			if !strings.Contains(all, `\x1b]0;pwned`) {
				t.Errorf("the issuer's text is not shown escaped:\n%q", all)
			}
		})
	}
}

// noNetwork is an HTTP client that fails the test on any request.
func noNetwork(t *testing.T) *http.Client {
	return &http.Client{Transport: roundTrip(func(r *http.Request) (*http.Response, error) {
		t.Errorf("a request was sent to %s", r.URL)
		return nil, errors.New("no network in this test")
	})}
}

type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestPlainHTTPOnlyOnLoopback: an issuer reached by plain http on a host
// that is not loopback would get the client secret and the device code
// in clear: refused before any request, as plaintext AUTH is.
func TestPlainHTTPOnlyOnLoopback(t *testing.T) {
	for _, base := range []string{"http://login.example.com/tenant", "http://192.0.2.1/x", "http://[2001:db8::1]/x", "http://127.0.0.1.example.com/x"} {
		p := deviceProvider(base)
		_, err := Get(context.Background(), Request{Provider: p, ClientID: "client", ClientSecret: "CLIENT-SECRET-0123456789", Prompt: io.Discard, HTTPClient: noNetwork(t)})
		var oe *Error
		if !errors.As(err, &oe) || oe.Kind != Setup || !strings.Contains(err.Error(), "https") {
			t.Errorf("%s: %v", base, err)
		}
	}
	// Loopback is fine: the secret never leaves the machine.
	for _, base := range []string{"http://127.0.0.1:9/x", "http://[::1]:9/x", "http://localhost:9/x"} {
		if err := checkEndpoints(deviceProvider(base)); err != nil {
			t.Errorf("%s: %v", base, err)
		}
	}
}

// TestHostileIntervals: an interval of -1 (or 0) is RFC 8628's default
// of 5 s, one too large for a duration is clamped, and the wait never
// outlasts the code's lifetime.
func TestHostileIntervals(t *testing.T) {
	cases := []struct {
		name            string
		interval        any
		expiresIn       any
		wantToken       bool
		atLeast, atMost time.Duration
		wantErr         string
	}{
		{"interval -1", -1, 60, true, 4 * time.Second, 8 * time.Second, ""},
		{"interval 9223372037 within a 2 s lifetime", int64(9223372037), 2, false, time.Second, 5 * time.Second, "expired"},
		{"expires_in 9223372037", 1, int64(9223372037), true, 0, 4 * time.Second, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var base string
			is := newIssuer(t, func(w http.ResponseWriter, r *http.Request) {
				if strings.HasSuffix(r.URL.Path, Paths.DeviceCode) {
					a := deviceAnswer(base)
					a["interval"], a["expires_in"] = tc.interval, tc.expiresIn
					writeJSON(w, 200, a)
					return
				}
				writeJSON(w, 200, tokenAnswer())
			})
			base = is.URL
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			res, err, took := getWithin(t, 25*time.Second, ctx, Request{Provider: deviceProvider(base), ClientID: "client", Prompt: io.Discard})
			if tc.wantToken && (err != nil || res.Token.AccessToken == "") {
				t.Fatalf("no token: %v", err)
			}
			if !tc.wantToken && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("error %v, want %q", err, tc.wantErr)
			}
			if took < tc.atLeast || took > tc.atMost {
				t.Errorf("took %v, want %v to %v", took, tc.atLeast, tc.atMost)
			}
		})
	}
}

// TestSecretsMaskedInIssuerErrors: an issuer that echoes the refresh
// token, the device code or the client secret (even a 3-character one)
// in its error gets them masked in the error the user sees.
func TestSecretsMaskedInIssuerErrors(t *testing.T) {
	const refresh = "REFRESH-SECRET-0123456789"
	for _, secret := range []string{"abc", "CLIENT-SECRET-0123456789"} {
		t.Run("refresh, secret "+secret, func(t *testing.T) {
			is := newIssuer(t, func(w http.ResponseWriter, r *http.Request) {
				writeJSON(w, 400, map[string]string{"error": "invalid_request",
					"error_description": fmt.Sprintf("refresh_token %s (%s) for client_secret=%s is not valid; secret: %q", r.Form.Get("refresh_token"),
						url.QueryEscape(r.Form.Get("refresh_token")), r.Form.Get("client_secret"), r.Form.Get("client_secret"))})
			})
			p := deviceProvider(is.URL)
			_, err := Get(context.Background(), Request{Provider: p, ClientID: "client", ClientSecret: secret, Prompt: io.Discard, Cache: expiredToken(t, p, "")})
			if err == nil {
				t.Fatal("no error")
			}
			if msg := err.Error(); strings.Contains(msg, refresh) || strings.Contains(msg, "="+secret) || strings.Contains(msg, `"`+secret+`"`) || !strings.Contains(msg, "invalid_request") {
				t.Errorf("error shows a secret: %s", msg)
			}
		})
	}
	t.Run("device code", func(t *testing.T) {
		var base string
		is := newIssuer(t, func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, Paths.DeviceCode) {
				writeJSON(w, 200, deviceAnswer(base))
				return
			}
			writeJSON(w, 400, map[string]string{"error": "invalid_grant", "error_description": "device_code " + r.Form.Get("device_code") + " unknown"})
		})
		base = is.URL
		_, err := Get(context.Background(), Request{Provider: deviceProvider(base), ClientID: "client", Prompt: io.Discard})
		if err == nil || strings.Contains(err.Error(), "DEVICE-CODE-SECRET") {
			t.Errorf("error: %v", err)
		}
	})
}

// TestIssuerAnswersSmallerMatters: a scope other than the one asked for
// is said; a token without expires_in is not cached forever; an OAuth
// error from the device endpoint is reported as one.
func TestIssuerAnswersSmallerMatters(t *testing.T) {
	var base string
	answer := tokenAnswer()
	is := newIssuer(t, func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, Paths.DeviceCode) {
			writeJSON(w, 200, deviceAnswer(base))
			return
		}
		writeJSON(w, 200, answer)
	})
	base = is.URL
	answer["scope"] = "openid"
	delete(answer, "expires_in")
	prompt := &strings.Builder{} // read once Get has returned
	c := &Cache{Dir: filepath.Join(t.TempDir(), "tokens")}
	res, err := Get(context.Background(), Request{Provider: deviceProvider(base), ClientID: "client", Prompt: prompt, Cache: c})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(prompt.String(), `granted the scope "openid", not the "mail" asked for`) {
		t.Errorf("a different scope is not said:\n%s", prompt)
	}
	if res.Token.Expiry.IsZero() || res.Token.Expiry.After(time.Now().Add(time.Hour+time.Minute)) {
		t.Errorf("a token without expires_in expires %v", res.Token.Expiry)
	}

	refusing := newIssuer(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 400, map[string]string{"error": "invalid_client", "error_description": "AADSTS7000218: the request body must contain client_secret"})
	})
	_, err = Get(context.Background(), Request{Provider: deviceProvider(refusing.URL), ClientID: "client", Prompt: io.Discard})
	if err == nil || !strings.Contains(err.Error(), "refused: invalid_client (AADSTS7000218") {
		t.Errorf("device endpoint's error: %v", err)
	}
}
