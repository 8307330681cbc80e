package sandbox

import (
	"strings"
	"testing"

	gosasl "github.com/emersion/go-sasl"
)

// FuzzBearerResponses: the sandbox reads whatever a client sends as an
// XOAUTH2 or OAUTHBEARER response without failing, and reads back the user
// and token of every well-formed one, as go-sasl's OAUTHBEARER client
// writes it and as Google documents XOAUTH2.
func FuzzBearerResponses(f *testing.F) {
	f.Add([]byte("user=a@b\x01auth=Bearer t\x01\x01"), "me@example.com", "ya29.token")
	f.Add([]byte("n,a=u,\x01host=h\x01port=587\x01auth=bearer t\x01\x01"), "u", "t")
	f.Add([]byte("n,,\x01auth=Bearer\x01"), "", "x")
	f.Fuzz(func(t *testing.T, raw []byte, user, token string) {
		parseXOAuth2(raw)
		parseOAuthBearer(raw)
		if token == "" || strings.ContainsAny(user, "\x01,=") || strings.ContainsAny(token, "\x01") || strings.Contains(user, "a=") {
			return
		}
		if u, tok := parseXOAuth2([]byte("user=" + user + "\x01auth=Bearer " + token + "\x01\x01")); u != user || tok != token {
			t.Errorf("XOAUTH2 %q %q read as %q %q", user, token, u, tok)
		}
		_, ir, _ := gosasl.NewOAuthBearerClient(&gosasl.OAuthBearerOptions{Username: user, Token: token, Host: "smtp.gmail.com", Port: 587}).Start()
		if u, tok := parseOAuthBearer(ir); u != user || tok != token {
			t.Errorf("OAUTHBEARER %q %q read as %q %q from %q", user, token, u, tok, ir)
		}
	})
}
