package engine

import (
	"crypto/hmac"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net"
	"strings"

	"github.com/alecthomas/participle/v2/lexer"
	"github.com/smtprun/smtprun/dsl"
)

// maxChallenges bounds a SASL exchange, so a server that keeps sending 334
// cannot keep the client answering forever.
const maxChallenges = 4

// auth runs AUTH (RFC 4954). The first reply that is not 334 is held for
// the next expect, so a script states what it expects of the outcome.
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
		return &PolicyError{Pos: pos, Span: span,
			Msg:  fmt.Sprintf("will not send credentials unencrypted to %s", ss.host),
			Help: "add `starttls` (then EHLO again) before `auth`, or connect to port 465 with `connect \"HOST:465\" tls`; --allow-plaintext-auth overrides this"}
	}
	mech := strings.ToLower(a.Mechanism.Text)
	var responder func(challenge []byte, round int) (resp string, ev Sent)
	var first Sent
	switch mech {
	case "plain":
		// RFC 4616: authzid NUL authcid NUL passwd, sent as the initial
		// response (RFC 4954 4) to save a round trip.
		blob := base64.StdEncoding.EncodeToString([]byte("\x00" + user + "\x00" + secret))
		ss.red.add(blob)
		if err := ss.writeLine(pos, "AUTH PLAIN "+blob, Sent{Line: "AUTH PLAIN " + Mask, TLS: ss.tls, Masked: true,
			Note: "base64 of NUL user NUL password, masked"}); err != nil {
			return err
		}
		responder = func([]byte, int) (string, Sent) {
			// A server that ignores the initial response asks again with
			// an empty 334.
			return blob, Sent{Line: Mask, TLS: ss.tls, Masked: true, Note: "base64 of NUL user NUL password, masked"}
		}
	case "login":
		first = Sent{Line: "AUTH LOGIN", TLS: ss.tls}
		responder = func(ch []byte, round int) (string, Sent) {
			prompt := strings.ToLower(string(ch))
			if strings.Contains(prompt, "pass") || (round > 0 && !strings.Contains(prompt, "user")) {
				return base64.StdEncoding.EncodeToString([]byte(secret)),
					Sent{Line: Mask, TLS: ss.tls, Masked: true, Note: "password, base64, masked"}
			}
			b := base64.StdEncoding.EncodeToString([]byte(user))
			return b, Sent{Line: b, TLS: ss.tls, Note: "username, base64"}
		}
	case "cram-md5":
		first = Sent{Line: "AUTH CRAM-MD5", TLS: ss.tls}
		responder = func(ch []byte, _ int) (string, Sent) {
			// RFC 2195: user SP hex(HMAC-MD5(secret, challenge)).
			mac := hmac.New(md5.New, []byte(secret))
			mac.Write(ch)
			resp := base64.StdEncoding.EncodeToString([]byte(user + " " + hex.EncodeToString(mac.Sum(nil))))
			ss.red.add(resp)
			return resp, Sent{Line: Mask, TLS: ss.tls, Masked: true, Note: "base64 of user and HMAC-MD5 digest, masked"}
		}
	default:
		return &dsl.Error{Pos: a.Mechanism.Pos(), Span: a.Mechanism.Span(), Title: "unsupported mechanism", Label: a.Mechanism.Text}
	}
	if first.Line != "" {
		if err := ss.writeLine(pos, first.Line, first); err != nil {
			return err
		}
	}
	for round := 0; ; round++ {
		rep, err := ss.readReply(pos, span)
		if err != nil {
			return err
		}
		if rep.Code != 334 {
			ss.held = rep
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
		resp, ev := responder(ch, round)
		if err := ss.writeLine(pos, resp, ev); err != nil {
			return err
		}
	}
}

// cancelAuth sends "*" (RFC 4954 4), reads the server's answer, and reports
// the exchange as a protocol error.
func (ss *session) cancelAuth(pos lexer.Position, span int, why string, rep *Reply) error {
	if err := ss.writeLine(pos, "*", Sent{Line: "*", TLS: ss.tls, Note: "cancels the exchange"}); err == nil {
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
