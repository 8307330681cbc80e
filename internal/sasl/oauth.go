package sasl

import (
	"encoding/json"
	"strings"
)

// OAuthError is the JSON a server sends as a 334 challenge when it
// refuses an OAuth bearer token (RFC 7628 3.2.2; Gmail sends the same for
// XOAUTH2): the HTTP-like status, the schemes it takes and the scope the
// token needs.
type OAuthError struct {
	Status  string `json:"status"`
	Schemes string `json:"schemes,omitempty"`
	Scope   string `json:"scope,omitempty"`
}

// ParseOAuthError reads a decoded 334 challenge as an OAuth error. ok is
// false for anything else (a LOGIN prompt, a CRAM-MD5 challenge).
func ParseOAuthError(challenge []byte) (OAuthError, bool) {
	s := strings.TrimSpace(string(challenge))
	if !strings.HasPrefix(s, "{") {
		return OAuthError{}, false
	}
	var e OAuthError
	if err := json.Unmarshal([]byte(s), &e); err != nil || e.Status == "" {
		return OAuthError{}, false
	}
	return e, true
}

// Endpoint is implemented by mechanisms that bind the server they talk to
// into their response (OAUTHBEARER's host= and port=); the engine tells
// them before Start.
type Endpoint interface {
	SetServer(host string, port int)
}

// oauthFailure holds the error challenge a bearer mechanism was last
// sent, so the engine can report it.
type oauthFailure struct {
	failure *OAuthError
	role    Role
}

// answerError answers an error challenge: the client must send a dummy
// response so the server can finish with its 5xx (RFC 7628 3.2.3), which
// the engine leaves for the next expect.
func (o *oauthFailure) answerError(challenge []byte, dummy []byte) ([]byte, bool) {
	e, ok := ParseOAuthError(challenge)
	if !ok {
		return nil, false
	}
	o.failure = &e
	o.role = Acknowledgement
	return dummy, true
}

// OAuthFailure returns the error challenge the server sent, if any.
func (o *oauthFailure) OAuthFailure() (OAuthError, bool) {
	if o.failure == nil {
		return OAuthError{}, false
	}
	return *o.failure, true
}

func (o *oauthFailure) Role() Role { return o.role }
