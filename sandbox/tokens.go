package sandbox

import (
	"net"
	"net/http"

	"github.com/smtprun/smtprun/sandbox/oauthsim"
)

// The sandbox's OAuth side is package oauthsim; what is here connects it
// to the profiles, the observer and the sandbox's lifetime.

// OAuthHandler serves the emulated OAuth endpoints of every provider
// (oauthsim.Issuer.Handler), telling the Observer what they do as Conn 0
// notes.
func (s *Sandbox) OAuthHandler() http.Handler {
	return s.oauth.Handler(s.cat.oauthProviders(), func(provider, line string) {
		s.observe(Event{Time: s.clock(), Kind: Note, Profile: provider, Line: line})
	})
}

// InProcessOAuthBase is the issuer URL root of OAuthClient's endpoints.
const InProcessOAuthBase = oauthsim.InProcessBase

// OAuthClient is an HTTP client whose requests go to OAuthHandler, served
// on a loopback listener of the sandbox's own that Close stops: `smtprun
// token --sandbox` runs the real flows through it against
// InProcessOAuthBase/PROVIDER.
func (s *Sandbox) OAuthClient() *http.Client {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return &http.Client{Transport: failingTransport{err}}
	}
	c, l := oauthsim.Client(l, s.OAuthHandler())
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		l.Close() // its requests fail, as the sandbox's dials do
	} else {
		s.listeners[l] = struct{}{}
	}
	return c
}

// failingTransport fails every request with err.
type failingTransport struct{ err error }

func (t failingTransport) RoundTrip(*http.Request) (*http.Response, error) { return nil, t.err }

// OAuthProviders lists the providers whose OAuth endpoints the sandbox
// emulates.
func OAuthProviders() []string {
	var names []string
	for _, p := range mustCatalog().oauthProviders() {
		names = append(names, p.Name)
	}
	return names
}

// OAuthScope is the scope SMTP needs at an emulated provider.
func OAuthScope(provider string) string {
	if p, ok := mustCatalog().byName[provider]; ok && p.OAuth != nil {
		return p.OAuth.Scope
	}
	return ""
}

// PracticeToken issues a valid access token for profile, for a --sandbox
// run whose token variable is unset; "" for a profile without OAuth.
func (s *Sandbox) PracticeToken(profile, user string) string {
	p, ok := s.cat.byName[profile]
	if !ok || p.OAuth == nil {
		return ""
	}
	return s.oauth.PracticeToken(p.OAuth, user)
}

// oauthProviders are the providers with an authorization server.
func (c *catalog) oauthProviders() []*oauthsim.Provider {
	var ps []*oauthsim.Provider
	for _, p := range c.profiles {
		if p.OAuth != nil {
			ps = append(ps, p.OAuth)
		}
	}
	return ps
}
