package engine

import (
	"encoding/base64"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/smtprun/smtprun/dsl"
	"github.com/smtprun/smtprun/internal/sasl"
)

// maxChallenges bounds a SASL exchange, so a server that keeps sending 334
// cannot keep the client answering forever.
const maxChallenges = 4

// saslRoles maps what a mechanism says a response carries to the role
// the transcript shows.
var saslRoles = map[sasl.Role]Role{
	sasl.Username:    RoleUsername,
	sasl.Password:    RolePassword,
	sasl.Credentials: RoleCredentials,
	sasl.Digest:      RoleDigest,
	sasl.Token:       RoleToken,
	// The empty or ^A answer to an OAuth error challenge carries nothing.
	sasl.Acknowledgement: RoleAcknowledge,
}

// auth runs AUTH (RFC 4954) with a mechanism from the sasl registry. The
// exchange is the same for every mechanism: an optional initial response,
// then a base64 answer to each 334 challenge. The first reply that is not
// 334 is held for the next expect, so a script states what it expects of
// the outcome.
func (ss *session) auth(a *dsl.Auth) error {
	pos, span := a.Pos(), a.Kw.Span()
	if err := ss.needConn(a.Kw); err != nil {
		return err
	}
	user, err := a.User.Expand(ss.e.vars)
	if err != nil {
		return err
	}
	secret, err := a.Secret.Expand(ss.e.vars)
	if err != nil {
		return err
	}
	if !ss.tls && !ss.e.plaintextAuth && !isLoopback(ss.conn.RemoteAddr()) {
		return &PolicyError{Pos: pos, Span: span, Rule: RulePlaintextAuth,
			Msg: fmt.Sprintf("will not send credentials unencrypted to %s", ss.host)}
	}
	mech, ok := sasl.Lookup(a.Mechanism.Text)
	if !ok {
		return &dsl.Error{Pos: a.Mechanism.Pos(), Span: a.Mechanism.Span(), Title: "unsupported mechanism", Label: a.Mechanism.Text}
	}
	c := mech.New(user, secret)
	if ep, ok := c.(sasl.Endpoint); ok {
		// OAUTHBEARER binds the server it talks to (RFC 7628 3.1).
		if host, port, err := net.SplitHostPort(ss.conn.RemoteAddr().String()); err == nil {
			p, _ := strconv.Atoi(port)
			if ss.host != "" {
				host = ss.host
			}
			ep.SetServer(host, p)
		}
	}
	name, ir, err := c.Start()
	if err != nil {
		return &ProtocolError{Pos: pos, Span: span, Msg: fmt.Sprintf("%s cannot start: %v", mech.Name, err)}
	}
	cmd, role := "AUTH "+name, RoleAuth
	if ir != nil {
		// RFC 4954 4: an empty initial response is sent as "=".
		resp := "="
		if len(ir) > 0 {
			resp = ss.encodeResponse(ir, c.Role())
		}
		cmd += " " + resp
		if r := saslRoles[c.Role()]; r.Secret() {
			role = r
		}
	}
	if err := ss.writeLine(pos, cmd, Sent{Role: role, Mechanism: name}); err != nil {
		return err
	}
	for round := 0; ; round++ {
		rep, err := ss.readReply(pos, span)
		if err != nil {
			return err
		}
		if rep.Code != 334 {
			ss.held = rep
			if of, ok := c.(interface {
				OAuthFailure() (sasl.OAuthError, bool)
			}); ok {
				if e, ok := of.OAuthFailure(); ok {
					ss.heldOAuth = &OAuthError{Status: e.Status, Schemes: e.Schemes, Scope: e.Scope}
				}
			}
			return nil
		}
		if round >= maxChallenges {
			return ss.cancelAuth(pos, span, fmt.Sprintf("server sent more than %d 334 challenges", maxChallenges), rep)
		}
		text := ""
		if len(rep.Text) > 0 {
			text = strings.TrimSpace(rep.Text[0])
		}
		ch, err := base64.StdEncoding.DecodeString(text)
		if err != nil {
			return ss.cancelAuth(pos, span, "server's 334 challenge is not valid base64", rep)
		}
		if e, ok := sasl.ParseOAuthError(ch); ok {
			ss.emit(OAuthRefused{Step: ss.step, Mechanism: name, JSON: string(ch),
				OAuthError: OAuthError{Status: e.Status, Schemes: e.Schemes, Scope: e.Scope}})
		}
		resp, err := c.Next(ch)
		if err != nil {
			return ss.cancelAuth(pos, span, fmt.Sprintf("%s cannot answer the challenge: %v", name, err), rep)
		}
		enc := ss.encodeResponse(resp, c.Role())
		if err := ss.writeLine(pos, enc, Sent{Role: saslRoles[c.Role()], Mechanism: name}); err != nil {
			return err
		}
	}
}

// encodeResponse base64-encodes a SASL response; one the mechanism marks
// as secret is taught to the redactor first, so it is masked wherever it
// appears (an echo in a reply, a log).
func (ss *session) encodeResponse(resp []byte, role sasl.Role) string {
	enc := base64.StdEncoding.EncodeToString(resp)
	if role.Secret() {
		ss.red.add(enc)
	}
	return enc
}

// cancelAuth sends "*" (RFC 4954 4), reads the server's answer, and reports
// the exchange as a protocol error.
func (ss *session) cancelAuth(pos dsl.Pos, span int, why string, rep *Reply) error {
	if err := ss.writeLine(pos, "*", Sent{Role: RoleCancel}); err == nil {
		ss.readReply(pos, span)
	}
	return &ProtocolError{Pos: pos, Span: span, Msg: why + "; the exchange was cancelled", Detail: rep.Summary()}
}

func isLoopback(a net.Addr) bool {
	if t, ok := a.(*net.TCPAddr); ok {
		return t.IP.IsLoopback()
	}
	return false
}
