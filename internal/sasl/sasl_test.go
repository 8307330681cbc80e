package sasl

import (
	"slices"
	"strings"
	"testing"
)

// exchange runs a mechanism against a scripted server: the challenges it
// sends, in order. It returns the initial response and each answer, with
// their roles.
func exchange(t *testing.T, name, user, secret string, challenges ...string) (ir []byte, answers []string, roles []Role) {
	t.Helper()
	m, ok := Lookup(name)
	if !ok {
		t.Fatalf("%s not registered", name)
	}
	c := m.New(user, secret)
	mech, ir, err := c.Start()
	if err != nil || mech != m.Name {
		t.Fatalf("Start: %q, %v; want mechanism %q", mech, err, m.Name)
	}
	if ir != nil {
		roles = append(roles, c.Role())
	}
	for _, ch := range challenges {
		resp, err := c.Next([]byte(ch))
		if err != nil {
			t.Fatalf("Next(%q): %v", ch, err)
		}
		answers = append(answers, string(resp))
		roles = append(roles, c.Role())
	}
	return ir, answers, roles
}

func TestPlain(t *testing.T) {
	ir, answers, roles := exchange(t, "plain", "tim", "tanstaaf", "")
	if string(ir) != "\x00tim\x00tanstaaf" {
		t.Errorf("initial response %q", ir)
	}
	// A server that ignored the initial response gets it again.
	if answers[0] != string(ir) {
		t.Errorf("answer to an empty challenge %q, want the initial response", answers[0])
	}
	if !slices.Equal(roles, []Role{Credentials, Credentials}) {
		t.Errorf("roles %v", roles)
	}
}

func TestLogin(t *testing.T) {
	ir, answers, roles := exchange(t, "LOGIN", "tim", "tanstaaf", "Username:", "Password:")
	if ir != nil {
		t.Errorf("LOGIN sent an initial response %q; the user name waits for its prompt", ir)
	}
	if !slices.Equal(answers, []string{"tim", "tanstaaf"}) || !slices.Equal(roles, []Role{Username, Password}) {
		t.Errorf("answers %q roles %v", answers, roles)
	}
	// Prompts worded otherwise: after the first, anything that does not
	// ask for the user asks for the password.
	_, answers, _ = exchange(t, "login", "tim", "tanstaaf", "User Name", "Secret")
	if !slices.Equal(answers, []string{"tim", "tanstaaf"}) {
		t.Errorf("answers to unusual prompts %q", answers)
	}
	_, answers, _ = exchange(t, "login", "tim", "tanstaaf", "Password:")
	if !slices.Equal(answers, []string{"tanstaaf"}) {
		t.Errorf("a server asking for the password first got %q", answers)
	}
}

func TestCRAMMD5(t *testing.T) {
	// RFC 2195 2, the example exchange.
	_, answers, roles := exchange(t, "cram-md5", "tim", "tanstaaftanstaaf", "<1896.697170952@postoffice.reston.mci.net>")
	if answers[0] != "tim b913a602c7eda7a495b4e6e7334d3890" || roles[0] != Digest {
		t.Errorf("answer %q role %v", answers[0], roles[0])
	}
}

func TestRolesSecret(t *testing.T) {
	for _, r := range []Role{Password, Credentials, Digest} {
		if !r.Secret() {
			t.Errorf("role %d is not secret", r)
		}
	}
	if Username.Secret() {
		t.Error("a user name is marked secret")
	}
}

func TestLookup(t *testing.T) {
	if _, ok := Lookup("xoauth3"); ok {
		t.Error("an unknown mechanism was found")
	}
	if !slices.Equal(Names(), []string{"plain", "login", "cram-md5", "xoauth2", "oauthbearer"}) {
		t.Errorf("Names() = %q", Names())
	}
}

// The table's OAuth mark is what the clients do: an OAuth mechanism's
// first response carries a bearer token, any other's does not; a
// server-first mechanism sends nothing with AUTH.
func TestTableMatchesClients(t *testing.T) {
	for _, m := range Mechanisms() {
		c := m.New("me@example.test", "secret")
		_, ir, err := c.Start()
		if err != nil {
			t.Fatalf("%s: %v", m.Name, err)
		}
		if got := ir != nil && c.Role() == Token; got != m.OAuth {
			t.Errorf("%s: initial response is a token: %v, table says OAuth %v", m.Name, got, m.OAuth)
		}
		if !m.InitialResponse && ir != nil {
			t.Errorf("%s: server-first, but the client sends %q with AUTH", m.Name, ir)
		}
		if IsOAuth(strings.ToLower(m.Name)) != m.OAuth {
			t.Errorf("IsOAuth(%s) disagrees with the table", m.Name)
		}
	}
	if IsOAuth("XOAUTH3") {
		t.Error("an unknown mechanism is OAuth")
	}
}
