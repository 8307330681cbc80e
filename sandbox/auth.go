package sandbox

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"

	"github.com/smtprun/smtprun/internal/sasl"
	"github.com/smtprun/smtprun/internal/smtp"
	"github.com/smtprun/smtprun/sandbox/oauthsim"
)

// maxAuthLine is RFC 4954 4's limit for an AUTH response line.
const maxAuthLine = 12288

// reasonCRAMChallenge is the Event.Reason of the CRAM-MD5 challenge, the
// one reply no profile words: it is generated.
const reasonCRAMChallenge = "auth_challenge_cram_md5"

// reasonOAuthChallenge is the Event.Reason of the JSON error challenge
// for a refused OAuth token, generated like the CRAM-MD5 challenge.
const reasonOAuthChallenge = "auth_challenge_oauth_error"

// cmdAuth: AUTH mechanism [initial-response] (RFC 4954). Whatever ends
// it without success leaves the session in the AUTH aftermath: a client
// that did not read the refusal sends its answers next, as commands, and
// they are masked (a refused AUTH once leaked the password's base64).
func (ss *session) cmdAuth(c command) {
	defer func() {
		if ss.authUser == "" {
			ss.co.authAftermath = authAftermathLines
		}
	}()
	if ss.co.helloVerb == smtp.CmdHELO {
		// HELO announces nothing: the client cannot know AUTH is offered.
		ss.diagnoseOnce("helo_not_ehlo", "AUTH")
	}
	switch {
	case ss.helo == "" && ss.heloRequired():
		ss.reply("need_helo")
		return
	case ss.authUser != "":
		ss.reply("auth_already")
		return
	case ss.requireTLS() && !ss.tls:
		ss.diagnoseOnce("before_starttls", "AUTH")
		ss.reply("must_starttls")
		return
	}
	if max := ss.p.MaxAuthFail; max > 0 && ss.authFailures >= max {
		// Real providers stop checking passwords after a run of
		// failures: without this, one connection tried 3000.
		ss.reply("auth_locked")
		if ss.p.replies["auth_locked"].code == 421 {
			ss.hangUp(fmt.Errorf("too many failed AUTH attempts (%d)", ss.authFailures))
		}
		return
	}
	caps := ss.ehloReply().capabilities()
	if !caps.Has(smtp.CmdAUTH) {
		ss.reply("auth_not_enabled")
		return
	}
	if c.fields == 0 || c.fields > 2 {
		ss.reply("syntax")
		return
	}
	mech := c.mech
	if !slices.ContainsFunc(caps.Params(smtp.CmdAUTH), func(m string) bool { return strings.EqualFold(m, mech) }) || !slices.Contains(ss.p.Mechanisms, mech) {
		ss.diagnose("auth_mech_not_offered", fmt.Sprintf("%s (offered: %s)", replySafe(clip(mech, 20)), strings.Join(caps.Params(smtp.CmdAUTH), " ")))
		ss.reply("auth_unsupported")
		return
	}
	ss.authMech = mech
	var initial []byte
	hasInitial := c.fields == 2
	if hasInitial {
		var ok bool
		if initial, ok = ss.decodeResponse(c.response); !ok {
			ss.diagnose("auth_not_base64", "after AUTH "+mech+" (masked)")
			return
		}
	}
	if m, _ := sasl.Lookup(mech); hasInitial && !m.InitialResponse {
		// The server speaks first (CRAM-MD5, RFC 2195).
		ss.reply("syntax")
		return
	}
	switch mech {
	case "PLAIN":
		ss.authPlain(initial, hasInitial)
	case "LOGIN":
		ss.authLogin(initial, hasInitial)
	case "CRAM-MD5":
		ss.authCramMD5()
	case "XOAUTH2":
		ss.authXOAuth2(initial, hasInitial)
	case "OAUTHBEARER":
		ss.authOAuthBearer(initial, hasInitial)
	}
}

// response sends a 334 prompt and reads the client's answer. false means
// the exchange is over (cancelled, bad base64, connection gone); the reply
// has been sent.
func (ss *session) response(prompt replyTemplate, reason string) ([]byte, bool) {
	ss.send(prompt, reason)
	if ss.stop {
		return nil, false
	}
	line, total, err := ss.readLine(maxAuthLine)
	if err != nil {
		ss.readFailed(err, "during AUTH")
		return nil, false
	}
	ss.coachLine(ss.lastBareLF, ss.lastBareCR)
	shown := line
	if line != "*" {
		shown = secretMask // a credential, or what may be one
	}
	e := ss.event(LineReceived, shown)
	e.Secret = line != "*"
	if ss.co.on && reason == "auth_prompt_user" {
		e.User = ss.shownUser(line)
	}
	ss.sb.observe(e)
	if ss.rec != nil {
		ss.rec.authAnswer(line, reason, ss.lastBareLF)
	}
	if ss.co.on && line != "*" && total <= maxAuthLine {
		ss.coachAnswer(reason, line)
	}
	if total > maxAuthLine {
		ss.reply("line_too_long")
		return nil, false
	}
	if line == "*" {
		// RFC 4954 4: the client cancels with "*", the server says 501.
		ss.reply("auth_cancelled")
		return nil, false
	}
	return ss.decodeResponse(line)
}

func (ss *session) decodeResponse(s string) ([]byte, bool) {
	if s == "=" {
		// RFC 4954 4: "=" is an empty initial response.
		return nil, true
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		ss.reply("auth_bad_base64")
		return nil, false
	}
	return b, true
}

// authPlain: RFC 4616, authzid NUL authcid NUL passwd.
func (ss *session) authPlain(initial []byte, hasInitial bool) {
	if !hasInitial {
		var ok bool
		if initial, ok = ss.response(ss.p.replies["auth_prompt_plain"], "auth_prompt_plain"); !ok {
			return
		}
	}
	parts := bytes.Split(initial, []byte{0})
	if len(parts) != 3 {
		ss.diagnose("auth_plain_layout", fmt.Sprintf("%d NUL bytes", len(parts)-1))
		if _, ok := ss.p.replies["auth_malformed"]; ok && ss.hooks().auth == nil {
			ss.authFailures++
			ss.reply("auth_malformed")
			return
		}
		ss.finishAuth("", "", false)
		return
	}
	user, pass := string(parts[1]), string(parts[2])
	ss.finishAuth(user, pass, ss.sb.validLogin(ss.p, user, pass))
}

// authLogin: the de facto LOGIN mechanism (draft-murchison-sasl-login),
// prompts "Username:" and "Password:" in base64. An initial response is
// the user name, as Outlook sends it.
func (ss *session) authLogin(initial []byte, hasInitial bool) {
	user := initial
	if !hasInitial {
		var ok bool
		if user, ok = ss.response(ss.p.replies["auth_prompt_user"], "auth_prompt_user"); !ok {
			return
		}
	}
	pass, ok := ss.response(ss.p.replies["auth_prompt_pass"], "auth_prompt_pass")
	if !ok {
		return
	}
	ss.finishAuth(string(user), string(pass), ss.sb.validLogin(ss.p, string(user), string(pass)))
}

// authCramMD5: RFC 2195. The server sends a unique challenge; the client
// answers "user hex(HMAC-MD5(password, challenge))".
func (ss *session) authCramMD5() {
	now := ss.sb.clock()
	challenge := fmt.Sprintf("<%s.%d@%s>", ss.sb.randomString(randomClasses["digits"], 10), now.Unix(), ss.host)
	answer, ok := ss.response(replyTemplate{code: 334, lines: []string{base64.StdEncoding.EncodeToString([]byte(challenge))}}, reasonCRAMChallenge)
	if !ok {
		return
	}
	user, digest, found := strings.Cut(string(answer), " ")
	valid := found && user != "" && smtp.CRAMMD5Verify(digest, []byte(ss.sb.passwordFor(ss.p, user)), []byte(challenge))
	// The password itself is never seen: an app password cannot be told
	// from a normal one, so app-password-required refuses CRAM-MD5.
	ss.finishAuth(user, "", valid)
}

// authXOAuth2: Google's and Microsoft's XOAUTH2,
// "user=U^Aauth=Bearer TOKEN^A^A".
func (ss *session) authXOAuth2(initial []byte, hasInitial bool) {
	if !hasInitial {
		var ok bool
		if initial, ok = ss.response(ss.p.replies["auth_prompt_plain"], "auth_prompt_plain"); !ok {
			return
		}
	}
	user, token := parseXOAuth2(initial)
	ss.finishBearer(user, token)
}

// authOAuthBearer: RFC 7628, "n,a=U,^Ahost=H^Aport=P^Aauth=Bearer T^A^A".
func (ss *session) authOAuthBearer(initial []byte, hasInitial bool) {
	if !hasInitial {
		var ok bool
		if initial, ok = ss.response(ss.p.replies["auth_prompt_plain"], "auth_prompt_plain"); !ok {
			return
		}
	}
	user, token := parseOAuthBearer(initial)
	ss.finishBearer(user, token)
}

// parseXOAuth2 reads "user=U^Aauth=Bearer T^A^A"; what is missing comes
// back empty.
func parseXOAuth2(b []byte) (user, token string) {
	for _, kv := range strings.Split(string(b), "\x01") {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "user":
			user = v
		case "auth":
			token = bearer(v)
		}
	}
	return user, token
}

// parseOAuthBearer reads RFC 7628's "n,a=U,^Ahost=H^Aport=P^Aauth=Bearer
// T^A^A": the GS2 header, then key=value pairs.
func parseOAuthBearer(b []byte) (user, token string) {
	header, rest, _ := strings.Cut(string(b), "\x01")
	if gs2 := strings.Split(header, ","); len(gs2) == 3 && gs2[0] == "n" {
		user = strings.TrimPrefix(gs2[1], "a=")
	}
	for _, kv := range strings.Split(rest, "\x01") {
		if v, ok := strings.CutPrefix(kv, "auth="); ok {
			token = bearer(v)
		}
	}
	return user, token
}

// bearer returns the token of an "auth" value, "Bearer TOKEN" (the
// scheme is case-insensitive, RFC 6750 2.1), or "".
func bearer(v string) string {
	if scheme, t, ok := strings.Cut(v, " "); ok && strings.EqualFold(scheme, "Bearer") {
		return t
	}
	return ""
}

// finishBearer decides a bearer token. A profile without an oauth section
// checks it like a password; one with it takes only tokens this sandbox
// issued, and refuses the others as the provider does: Microsoft with
// its 535 at once, Google with a 334 whose text is base64 JSON naming the
// status and scope, then, after the client's answer, its 535.
func (ss *session) finishBearer(user, token string) {
	o := ss.p.OAuth
	if o == nil {
		ss.finishAuth(user, token, user != "" && ss.sb.validLogin(ss.p, user, token))
		return
	}
	v := ss.sb.oauth.Check(o, user, token)
	if hook := ss.hooks().token; hook != nil {
		v = hook(v)
	}
	if v == oauthsim.Valid || !o.Challenge {
		ss.finishAuth(user, token, v == oauthsim.Valid)
		return
	}
	status := "400"
	if v == oauthsim.Expired {
		status = "401"
	}
	js := fmt.Sprintf(`{"status":"%s","schemes":"Bearer","scope":"%s"}`, status, o.Scope)
	answer, ok := ss.response(replyTemplate{code: 334, lines: []string{base64.StdEncoding.EncodeToString([]byte(js))}}, reasonOAuthChallenge)
	if !ok {
		return
	}
	// RFC 7628 3.2.3: the client's answer must be ^A (OAUTHBEARER) or, as
	// Google takes it for XOAUTH2, empty.
	if len(answer) > 1 || (len(answer) == 1 && answer[0] != 0x01) {
		ss.reply("auth_bad_base64")
		return
	}
	ss.finishAuth(user, token, false)
}

// finishAuth answers a complete exchange: success, the provider's
// wrong-password reply, or a scenario's reply.
func (ss *session) finishAuth(user, pass string, valid bool) {
	if hook := ss.hooks().auth; hook != nil {
		var answered bool
		if valid, answered = hook(ss, user, pass, valid); answered {
			return
		}
	}
	if !valid {
		ss.authFailures++
		ss.reply("auth_failed")
		return
	}
	ss.authUser = user
	ss.takeSlot()
	ss.praise("AUTH")
	ss.reply("auth_ok")
}

// isAppPassword: 16 lower-case letters, spaces ignored ("abcd efgh ijkl
// mnop"), the form Google and Yahoo generate.
func isAppPassword(p string) bool {
	p = strings.ReplaceAll(p, " ", "")
	if len(p) != 16 {
		return false
	}
	for i := 0; i < len(p); i++ {
		if p[i] < 'a' || p[i] > 'z' {
			return false
		}
	}
	return true
}
