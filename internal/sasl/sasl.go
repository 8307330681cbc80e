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

// Mechanism is one entry of the registry.
type Mechanism struct {
	// Name is the name sent after AUTH, upper case (RFC 4422 3.1).
	Name string
	// New returns a client that logs in as user with secret.
	New func(user, secret string) Client
}

// registry lists every mechanism the auth step speaks, in the order the
// language lists them.
var registry = []Mechanism{
	{Name: "PLAIN", New: newPlain},
	{Name: "LOGIN", New: newLogin},
	{Name: "CRAM-MD5", New: newCRAMMD5},
	{Name: "XOAUTH2", New: newXOAuth2},
	{Name: "OAUTHBEARER", New: newOAuthBearer},
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
