package sasl

import (
	"slices"
	"testing"
)

func TestXOAuth2(t *testing.T) {
	ir, answers, roles := exchange(t, "xoauth2", "someuser@example.com", "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg",
		`{"status":"401","schemes":"bearer mac","scope":"https://mail.google.com/"}`)
	// Google for Developers, "OAuth 2.0 Mechanism", the initial client response.
	if string(ir) != "user=someuser@example.com\x01auth=Bearer ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg\x01\x01" {
		t.Errorf("initial response %q", ir)
	}
	if answers[0] != "" || !slices.Equal(roles, []Role{Token, Acknowledgement}) {
		t.Errorf("answer to the error challenge %q roles %v; want an empty, non-secret answer", answers[0], roles)
	}
	if Acknowledgement.Secret() || !Token.Secret() {
		t.Error("roles' secrecy wrong")
	}
	// An empty 334 (a server that ignored the initial response) gets it again.
	ir, answers, _ = exchange(t, "xoauth2", "u", "t", "")
	if answers[0] != string(ir) {
		t.Errorf("answer to an empty challenge %q", answers[0])
	}
}

func TestOAuthBearer(t *testing.T) {
	m, _ := Lookup("OAUTHBEARER")
	c := m.New("user@example.com", "vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg==")
	c.(Endpoint).SetServer("server.example.com", 587)
	mech, ir, err := c.Start()
	// RFC 7628 4.1, with the port this client was told.
	want := "n,a=user@example.com,\x01host=server.example.com\x01port=587\x01auth=Bearer vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg==\x01\x01"
	if err != nil || mech != "OAUTHBEARER" || string(ir) != want || c.Role() != Token {
		t.Fatalf("Start: %q %q %v role %v", mech, ir, err, c.Role())
	}
	// RFC 7628 4.3: the error challenge is answered with ^A.
	resp, err := c.Next([]byte(`{"status":"invalid_token","scope":"example_scope","openid-configuration":"https://example.com/.well-known/openid-configuration"}`))
	if err != nil || string(resp) != "\x01" || c.Role() != Acknowledgement {
		t.Fatalf("answer %q %v role %v", resp, err, c.Role())
	}
	f, ok := c.(interface{ OAuthFailure() (OAuthError, bool) }).OAuthFailure()
	if !ok || f.Status != "invalid_token" || f.Scope != "example_scope" {
		t.Errorf("failure %+v %v", f, ok)
	}
}

func TestParseOAuthError(t *testing.T) {
	for _, s := range []string{"Username:", "<1.2@h>", "{not json", `{"scope":"x"}`, ""} {
		if _, ok := ParseOAuthError([]byte(s)); ok {
			t.Errorf("%q read as an OAuth error", s)
		}
	}
}
