package sandbox

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
)

func xoauth2(user, token string) string {
	return b64("user=" + user + "\x01auth=Bearer " + token + "\x01\x01")
}

// decodeChallenge returns the JSON of Google's 334 error challenge.
func decodeChallenge(t *testing.T, line string) string {
	t.Helper()
	js, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(line, "334 "))
	if err != nil {
		t.Fatalf("challenge %q: %v", line, err)
	}
	return string(js)
}

// Tokens the sandbox issued pass; any other is refused with the
// provider's own replies: Microsoft's 535 5.7.3 at once, Google's JSON
// challenge, then 535-5.7.8 after the client's empty answer.
func TestBearerTokens(t *testing.T) {
	sb := newTestSandbox(t, Options{})
	user := "me@contoso.com"
	good := sb.PracticeToken("office365", user)
	if !strings.HasPrefix(good, "EwB") {
		t.Errorf("token %q does not look like Microsoft's", good)
	}
	c := tlsReady(t, sb, "smtp.office365.com")
	c.send("AUTH XOAUTH2 " + xoauth2(user, good+"x"))
	c.matchReply(`535 5\.7\.3 Authentication unsuccessful ` + o365Track)
	// A token issued for another account is refused too.
	c.cmd("AUTH XOAUTH2 "+xoauth2("other@contoso.com", good), "535")
	c.cmd("AUTH XOAUTH2 "+xoauth2(user, good), "235")

	g := tlsReady(t, sb, "smtp.gmail.com")
	lines := g.cmd("AUTH XOAUTH2 "+xoauth2("me@gmail.com", "ya29.forged"), "334")
	if js := decodeChallenge(t, lines[0]); js != `{"status":"400","schemes":"Bearer","scope":"https://mail.google.com/"}` {
		t.Errorf("challenge %s", js)
	}
	g.send("")
	g.matchReply(`535-5\.7\.8 Username and Password not accepted\. For more information, go to`, `535 5\.7\.8  https://support\.google\.com/mail/\?p=BadCredentials `+gmailID+` - gsmtp`)
	// OAUTHBEARER: ^A answers the challenge (RFC 7628 3.2.3).
	g.cmd("AUTH OAUTHBEARER "+b64("n,a=me@gmail.com,\x01host=smtp.gmail.com\x01port=587\x01auth=Bearer bad\x01\x01"), "334")
	g.cmd(b64("\x01"), "535")
	tok := sb.PracticeToken("gmail", "me@gmail.com")
	g.cmd("AUTH OAUTHBEARER "+b64("n,a=me@gmail.com,\x01host=smtp.gmail.com\x01port=587\x01auth=Bearer "+tok+"\x01\x01"), "235")

	// A profile without OAuth endpoints has no tokens to give.
	if sb.PracticeToken("postfix", user) != "" {
		t.Error("postfix issued a token")
	}
}

func TestScenarioBasicAuthRetired(t *testing.T) {
	sb := newTestSandbox(t, Options{Scenario: "basic-auth-retired"})
	user, pass := PracticeCredentials("office365")
	c := tlsReady(t, sb, "smtp.office365.com")
	c.authLogin(user, pass)
	c.matchReply(`550 5\.7\.30 Basic authentication is not supported for Client Submission\. ` + o365Track)
	c.cmd("AUTH XOAUTH2 "+xoauth2(user, sb.PracticeToken("office365", user)), "235")

	d := tlsReady(t, sb, "smtp-mail.outlook.com")
	d.authLogin("me@outlook.com", pass)
	d.matchReply(`535 5\.7\.139 Authentication unsuccessful, basic authentication is disabled\. ` + o365Track)
}

func TestScenarioTokenExpired(t *testing.T) {
	sb := newTestSandbox(t, Options{Scenario: "token-expired"})
	g := tlsReady(t, sb, "smtp.gmail.com")
	lines := g.cmd("AUTH XOAUTH2 "+xoauth2("me@gmail.com", sb.PracticeToken("gmail", "me@gmail.com")), "334")
	if js := decodeChallenge(t, lines[0]); !strings.Contains(js, `"status":"401"`) {
		t.Errorf("challenge %s, want status 401", js)
	}
	g.cmd("", "535")
	c := tlsReady(t, sb, "smtp.office365.com")
	c.cmd("AUTH XOAUTH2 "+xoauth2("me@contoso.com", sb.PracticeToken("office365", "me@contoso.com")), "535 5.7.3")
	// Passwords are not tokens: they log in as usual.
	c.authLogin(PracticeCredentials("office365"))
	c.reply("235")
}

func TestScenarioWrongScope(t *testing.T) {
	sb := newTestSandbox(t, Options{Scenario: "wrong-scope"})
	g := tlsReady(t, sb, "smtp.gmail.com")
	lines := g.cmd("AUTH XOAUTH2 "+xoauth2("me@gmail.com", sb.PracticeToken("gmail", "me@gmail.com")), "334")
	if js := decodeChallenge(t, lines[0]); !strings.Contains(js, `"status":"400"`) || !strings.Contains(js, `"scope":"https://mail.google.com/"`) {
		t.Errorf("challenge %s", js)
	}
	g.cmd("", "535")
}

// A token issued without the mail scope is refused at SMTP, as a real
// provider refuses one requested with the wrong --scope. The flow runs
// through OAuthClient, as `smtprun token --sandbox` runs it.
func TestTokenScopeCheckedAtSMTP(t *testing.T) {
	sb := newTestSandbox(t, Options{})
	client := sb.OAuthClient()
	base := InProcessOAuthBase + "/office365"
	post := func(path string, form url.Values) map[string]any {
		t.Helper()
		resp, err := client.PostForm(base+path, form)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		m := map[string]any{}
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %s", path, resp.Status)
		}
		if path != "/device" { // the verification page is HTML
			if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
				t.Fatalf("%s: %v", path, err)
			}
		}
		return m
	}
	dc := post("/devicecode", url.Values{"client_id": {"c"}, "scope": {"openid offline_access"}})
	post("/device", url.Values{"user_code": {dc["user_code"].(string)}})
	tok := post("/token", url.Values{"client_id": {"c"}, "device_code": {dc["device_code"].(string)},
		"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}})
	c := tlsReady(t, sb, "smtp.office365.com")
	c.cmd("AUTH XOAUTH2 "+xoauth2("me@contoso.com", tok["access_token"].(string)), "535 5.7.3")
}

// OAuthClient's server is the sandbox's: it answers while the sandbox is
// open and stops with Close, like the sandbox's SMTP listeners.
func TestOAuthClientStopsWithTheSandbox(t *testing.T) {
	sb, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	client := sb.OAuthClient()
	form := url.Values{"client_id": {"c"}, "scope": {"x"}}
	resp, err := client.PostForm(InProcessOAuthBase+"/gmail/devicecode", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("devicecode: %s", resp.Status)
	}
	sb.Close()
	if resp, err := client.PostForm(InProcessOAuthBase+"/gmail/devicecode", form); err == nil {
		resp.Body.Close()
		t.Errorf("a closed sandbox answered: %s", resp.Status)
	}
	if resp, err := sb.OAuthClient().PostForm(InProcessOAuthBase+"/gmail/devicecode", form); err == nil {
		resp.Body.Close()
		t.Errorf("a client made after Close was answered: %s", resp.Status)
	}
}
