package oauthsim

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// Two providers as the sandbox's profiles have them: Google's tokens
// look like "ya29.", Microsoft's like "EwB".
var (
	gmail     = &Provider{Name: "gmail", Scope: "https://mail.google.com/", TokenPrefix: "ya29.a0AfB_", RefreshPrefix: "1//0g", Challenge: true, Title: "Google Account"}
	office365 = &Provider{Name: "office365", Scope: "https://outlook.office.com/SMTP.Send", TokenPrefix: "EwBwA8l6BAAU", RefreshPrefix: "M.C5_BAY.", Title: "Microsoft identity platform"}
)

// oauthServer serves an issuer's endpoints on loopback.
func oauthServer(t *testing.T, c Config) (*Issuer, string) {
	t.Helper()
	is := NewIssuer(c)
	srv := httptest.NewServer(is.Handler([]*Provider{gmail, office365}, nil))
	t.Cleanup(srv.Close)
	return is, srv.URL
}

func postJSON(t *testing.T, u string, form url.Values) (int, map[string]any) {
	t.Helper()
	resp, err := http.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: not JSON: %s", u, b)
	}
	return resp.StatusCode, m
}

// The code grant checks what RFC 7636 and RFC 8252 require: a loopback
// redirect, an S256 challenge, the verifier that matches it, a code used
// once.
func TestAuthorizationCodeChecks(t *testing.T) {
	_, base := oauthServer(t, Config{})
	verifier := "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk" // RFC 7636 appendix B
	if s256(verifier) != "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM" {
		t.Fatalf("s256 = %s", s256(verifier))
	}
	q := url.Values{"response_type": {"code"}, "client_id": {"c"}, "redirect_uri": {"http://127.0.0.1:9/cb"},
		"scope": {"https://mail.google.com/"}, "state": {"s1"}, "code_challenge": {s256(verifier)}, "code_challenge_method": {"S256"}}
	for name, bad := range map[string]url.Values{
		"remote redirect": {"redirect_uri": {"https://evil.example/cb"}},
		"no PKCE":         {"code_challenge": {""}},
		"plain PKCE":      {"code_challenge_method": {"plain"}},
	} {
		b := url.Values{}
		for k, v := range q {
			b[k] = v
		}
		for k, v := range bad {
			b[k] = v
		}
		resp, err := http.Get(base + "/gmail/authorize?" + b.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: %s, want 400 and no redirect", name, resp.Status)
		}
	}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	approve := func() string {
		f := url.Values{"action": {"approve"}}
		for k, v := range q {
			f[k] = v
		}
		resp, err := noRedirect.PostForm(base+"/gmail/authorize", f)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc, _ := url.Parse(resp.Header.Get("Location"))
		if loc.Query().Get("state") != "s1" || loc.Query().Get("code") == "" {
			t.Fatalf("redirect %s", loc)
		}
		return loc.Query().Get("code")
	}
	exchange := func(code, v string) (int, map[string]any) {
		return postJSON(t, base+"/gmail/token", url.Values{"grant_type": {"authorization_code"}, "client_id": {"c"},
			"code": {code}, "redirect_uri": {"http://127.0.0.1:9/cb"}, "code_verifier": {v}})
	}
	if status, m := exchange(approve(), "wrong-verifier-wrong-verifier-wrong-verifier"); status != 400 || m["error"] != "invalid_grant" {
		t.Errorf("wrong verifier: %d %v", status, m)
	}
	code := approve()
	if status, m := exchange(code, verifier); status != 200 || !strings.HasPrefix(m["access_token"].(string), "ya29.") || m["refresh_token"] == nil {
		t.Errorf("exchange: %d %v", status, m)
	}
	if status, m := exchange(code, verifier); status != 400 || m["error"] != "invalid_grant" {
		t.Errorf("code reused: %d %v", status, m)
	}
}

// The verification page escapes what it echoes, and an unknown code is
// refused.
func TestDevicePage(t *testing.T) {
	_, base := oauthServer(t, Config{DeviceCodeTTL: time.Minute})
	resp, err := http.Get(base + "/office365/device?user_code=" + url.QueryEscape(`"><script>x</script>`))
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.Contains(string(page), "<script>") {
		t.Errorf("page echoes markup:\n%s", page)
	}
	resp, err = http.PostForm(base+"/office365/device", url.Values{"user_code": {"NOPE-NOPE"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown code: %s", resp.Status)
	}
	if status, m := postJSON(t, base+"/office365/devicecode", url.Values{"scope": {"x"}}); status != 400 || m["error"] != "invalid_request" {
		t.Errorf("no client_id: %d %v", status, m)
	}
	if status, m := postJSON(t, base+"/office365/token", url.Values{"client_id": {"c"}, "grant_type": {"refresh_token"}, "refresh_token": {"forged"}}); status != 400 || m["error"] != "invalid_grant" {
		t.Errorf("forged refresh token: %d %v", status, m)
	}
}

// A token issued without the mail scope is refused, as a real provider
// refuses one requested with the wrong --scope; the sandbox's SMTP side
// asks Check (oauth_test.go in package sandbox runs it over SMTP).
func TestTokenScopeChecked(t *testing.T) {
	is, base := oauthServer(t, Config{})
	_, dc := postJSON(t, base+"/office365/devicecode", url.Values{"client_id": {"c"}, "scope": {"openid offline_access"}})
	resp, err := http.PostForm(base+"/office365/device", url.Values{"user_code": {dc["user_code"].(string)}, "account": {"me@contoso.com"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	status, tok := postJSON(t, base+"/office365/token", url.Values{"client_id": {"c"}, "device_code": {dc["device_code"].(string)},
		"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}})
	if status != 200 {
		t.Fatalf("token: %d %v", status, tok)
	}
	access := tok["access_token"].(string)
	for _, c := range []struct {
		p    *Provider
		user string
		want Verdict
	}{
		{office365, "me@contoso.com", WrongScope},
		{gmail, "me@contoso.com", Unknown},
	} {
		if v := is.Check(c.p, c.user, access); v != c.want {
			t.Errorf("%s %s: verdict %d, want %d", c.p.Name, c.user, v, c.want)
		}
	}
}
