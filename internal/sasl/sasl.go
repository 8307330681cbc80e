package sasl

import (
	"slices"
	"strings"

	gosasl "github.com/emersion/go-sasl"
)

// Role is what one response of a mechanism carries.
type Role int

const (
	// Username is a user name alone (LOGIN's first answer); not secret.
	Username Role = iota + 1
	// Password is a password alone (LOGIN's second answer).
	Password
	// Credentials packs user name and password in one response
	// (PLAIN's authzid NUL authcid NUL passwd).
	Credentials
	// Digest is a keyed digest that proves the password (CRAM-MD5).
	Digest
	// Token packs a user name and an OAuth 2.0 bearer token (XOAUTH2,
	// OAUTHBEARER).
	Token
	// Acknowledgement is the dummy answer to an OAuth error challenge (an
	// empty line, or ^A); not secret.
	Acknowledgement
)

// Secret reports whether a response with this role must never be shown.
// Everything but a bare user name is, including a digest: it can be
// attacked offline.
func (r Role) Secret() bool { return r != Username && r != Acknowledgement }

// Client is a go-sasl client that says what each response carries.
type Client interface {
	gosasl.Client
	// Role is what the response last returned by Start (its initial
	// response) or Next carries.
	Role() Role
}

// Mechanism is one entry of the mechanism table.
type Mechanism struct {
	// Name is the name sent after AUTH, upper case (RFC 4422 3.1).
	Name string
	// InitialResponse: the client may send its first response on the
	// AUTH line (RFC 4954 4). False for a mechanism whose server speaks
	// first (CRAM-MD5's challenge, RFC 2195), where a server refuses one.
	InitialResponse bool
	// OAuth: the secret is an OAuth 2.0 bearer token, not a password; a
	// refused one may get a JSON error challenge (RFC 7628 3.2.2).
	OAuth bool
	// New returns a client that logs in as user with secret.
	New func(user, secret string) Client
}

// registry is the table of every mechanism smtprun speaks: the auth step
// accepts these names (in this order), the sandbox and the test servers
// offer them. Adding a mechanism is an entry here, its client, and its
// server side in the sandbox (sandbox/auth.go) and internal/smtptest.
var registry = []Mechanism{
	{Name: "PLAIN", InitialResponse: true, New: newPlain},
	{Name: "LOGIN", InitialResponse: true, New: newLogin},
	{Name: "CRAM-MD5", New: newCRAMMD5},
	{Name: "XOAUTH2", InitialResponse: true, OAuth: true, New: newXOAuth2},
	{Name: "OAUTHBEARER", InitialResponse: true, OAuth: true, New: newOAuthBearer},
}

// Lookup finds a mechanism by name, in any case.
func Lookup(name string) (Mechanism, bool) {
	i := slices.IndexFunc(registry, func(m Mechanism) bool { return strings.EqualFold(m.Name, name) })
	if i < 0 {
		return Mechanism{}, false
	}
	return registry[i], true
}

// Names lists the registered mechanisms in lower case, as scripts write
// them.
func Names() []string {
	names := make([]string, len(registry))
	for i, m := range registry {
		names[i] = strings.ToLower(m.Name)
	}
	return names
}

// Mechanisms lists the table, in its order. The slice is a copy.
func Mechanisms() []Mechanism { return slices.Clone(registry) }

// IsOAuth reports a mechanism, in any case, whose secret is a bearer
// token.
func IsOAuth(name string) bool {
	m, ok := Lookup(name)
	return ok && m.OAuth
}
