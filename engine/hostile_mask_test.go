package engine_test

import (
	"bufio"
	"encoding/json"
	"errors"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/smtprun/smtprun/dsl"
	"github.com/smtprun/smtprun/engine"
)

// Hostile servers against the masker: what
// they send back must never show a secret, and never reach a terminal raw.

// shown is everything a run shows: the transcript, the error and its
// rendered diagnostic.
func shown(rec *recorder, err error) string {
	out := rec.text()
	if err != nil {
		out += err.Error()
		var d dsl.Diagnoser
		if errors.As(err, &d) {
			out += dsl.Render(d.Diagnostic(), nil, dsl.Styler{})
		}
	}
	return out
}

// assertHidden fails if out shows secret as is or as Escape shows it, or
// more than a few of its bytes in a row.
func assertHidden(t *testing.T, out, secret string) {
	t.Helper()
	for _, form := range []string{secret, engine.Escape([]byte(secret))} {
		if strings.Contains(out, form) {
			t.Errorf("output shows the secret as %q:\n%s", form, out)
		}
	}
	if len(secret) >= 12 {
		for _, part := range []string{secret[:8], secret[len(secret)-8:]} {
			if strings.Contains(out, part) {
				t.Errorf("output shows part of the secret (%q):\n%s", part, out)
			}
		}
	}
}

// TestEchoedSecretWithUnusualBytesIsMasked: reply lines used to be
// escaped before masking, so a password with a backslash, a control byte,
// DEL or a non-UTF-8 byte no longer matched itself and was shown.
func TestEchoedSecretWithUnusualBytesIsMasked(t *testing.T) {
	for name, pass := range map[string]string{
		"backslash": `Tr0ub4dor\&3`,
		"control":   "Tr0ub4dor\x01&3",
		"DEL":       "Tr0ub4dor\x7f&3",
		"non-UTF-8": "Tr0ub4dor\xff&3",
		"ESC":       "Tr0ub4dor\x1b[2J",
	} {
		t.Run(name, func(t *testing.T) {
			f := startFake(t, func(c net.Conn, r *bufio.Reader) []byte {
				say(c, "220 fake\r\n")
				expectLine(r)
				say(c, "535-5.7.8 wrong password "+pass+"\r\n535 5.7.8 again: "+pass+"\r\n")
				return nil
			})
			src := "connect \"${ADDR}\"\nexpect 220\nauth plain \"u@example.test\" \"${PASS}\"\nexpect 235\n"
			rec, err := runFake(t, f, src, 2*time.Second, dsl.MapVars{"PASS": pass})
			var ae *engine.AssertError
			if !errors.As(err, &ae) {
				t.Fatalf("want AssertError, got %T %v", err, err)
			}
			out := shown(rec, err) + ae.Got.String()
			assertHidden(t, out, pass)
			if !strings.Contains(out, "wrong password "+engine.Mask) {
				t.Errorf("the echo is not masked in place:\n%s", out)
			}
		})
	}
}

// TestProtocolErrorDetailIsMasked: bytes after the 220 to
// STARTTLS, and a reply before message content, are quoted in the report;
// the quote was cut at 80 bytes before masking, so a secret across the
// cut was half shown.
func TestProtocolErrorDetailIsMasked(t *testing.T) {
	const pass = "Correct-Horse-Battery-Staple"
	padding := strings.Repeat("x", 64) // the old 80-byte cut fell 12 bytes into the secret
	t.Run("after STARTTLS", func(t *testing.T) {
		f := startFake(t, func(c net.Conn, r *bufio.Reader) []byte {
			say(c, "220 fake\r\n")
			expectLine(r)
			say(c, "220 go ahead\r\n250 "+padding+pass+"\r\n")
			return nil
		})
		src := "connect \"${ADDR}\"\nexpect 220\nstarttls\nauth plain \"u@example.test\" \"${PASS}\"\nexpect 235\n"
		rec, err := runFake(t, f, src, 2*time.Second, dsl.MapVars{"PASS": pass})
		assertInjectionMasked(t, rec, err, pass)
	})
	t.Run("before message content", func(t *testing.T) {
		f := startFake(t, func(c net.Conn, r *bufio.Reader) []byte {
			say(c, "220 fake\r\n")
			expectLine(r)
			say(c, "354 go\r\n250 "+padding+pass+"\r\n")
			expectLine(r)
			return nil
		})
		src := "connect \"${ADDR}\"\nexpect 220\nsend \"DATA\"\nexpect 354\nmessage \"\"\"\nhi\n\"\"\"\nexpect 250\nauth plain \"u\" \"${PASS}\"\nexpect 235\n"
		rec, err := runFake(t, f, src, 2*time.Second, dsl.MapVars{"PASS": pass})
		assertInjectionMasked(t, rec, err, pass)
	})
}

func assertInjectionMasked(t *testing.T, rec *recorder, err error, pass string) {
	t.Helper()
	var pe *engine.ProtocolError
	if !errors.As(err, &pe) {
		t.Fatalf("want ProtocolError, got %T %v\n%s", err, err, rec.text())
	}
	out := shown(rec, err)
	assertHidden(t, out, pass)
	if !strings.Contains(pe.Detail, "xxx") {
		t.Errorf("the received bytes are not quoted: %q", pe.Detail)
	}
}

// TestExpectMatchesTheRealReply: masking is for what is shown;
// expect sees the reply as sent, so an expectation naming the secret can
// pass, and a short secret does not hide the word it is part of.
func TestExpectMatchesTheRealReply(t *testing.T) {
	t.Run("echoed secret", func(t *testing.T) {
		const pass = `s3cret\pass`
		f := startFake(t, func(c net.Conn, r *bufio.Reader) []byte {
			say(c, "220 fake\r\n")
			expectLine(r)
			say(c, "250 you said "+pass+"\r\n")
			return nil
		})
		src := "connect \"${ADDR}\"\nexpect 220\nsend \"NOOP\"\nexpect 250 \"${PASS}\"\nauth plain \"u\" \"${PASS}\"\n"
		rec, err := runFake(t, f, src, 2*time.Second, dsl.MapVars{"PASS": pass})
		var ae *engine.AssertError
		if errors.As(err, &ae) && ae.Pos.Line == 4 {
			t.Fatalf("expect could not see the secret in the reply: %v", err)
		}
		assertHidden(t, shown(rec, err), pass)
	})
	t.Run("short secret", func(t *testing.T) {
		f := startFake(t, func(c net.Conn, r *bufio.Reader) []byte {
			say(c, "220 fake\r\n")
			expectLine(r)
			say(c, "250-fake\r\n250 STARTTLS\r\n")
			return nil
		})
		src := "connect \"${ADDR}\"\nexpect 220\nsend \"EHLO me\"\nexpect 250 \"STARTTLS\"\nauth plain \"u\" \"${PASS}\"\n"
		rec, err := runFake(t, f, src, 2*time.Second, dsl.MapVars{"PASS": "TLS"})
		var ae *engine.AssertError
		if errors.As(err, &ae) {
			t.Fatalf("expect 250 \"STARTTLS\" failed with the secret TLS: %v", err)
		}
		if !strings.Contains(rec.text(), "notice: "+string(engine.NoticeShortSecret)) {
			t.Errorf("no warning about the short secret:\n%s", rec.text())
		}
		if strings.Contains(rec.text(), "STARTTLS") {
			t.Errorf("a short secret is still masked where shown:\n%s", rec.text())
		}
	})
}

// TestUnicodeControlsAreEscaped: bidi overrides and isolates,
// zero-width and line-separator characters in a reply, a send or a note
// reach the transcript escaped.
func TestUnicodeControlsAreEscaped(t *testing.T) {
	const hostile = "a\u202eb\u2066c\u2069d\u200be\u2028f\ufeffg"
	f := startFake(t, func(c net.Conn, r *bufio.Reader) []byte {
		say(c, "220 "+hostile+"\r\n")
		expectLine(r)
		say(c, "250 "+hostile+"\r\n")
		return nil
	})
	src := "connect \"${ADDR}\"\nexpect 220\nnote \"${X}\"\nsend \"NOOP ${X}\"\nexpect 251\n"
	rec, err := runFake(t, f, src, 2*time.Second, dsl.MapVars{"X": hostile})
	out := shown(rec, err)
	for _, r := range []rune{'\u202e', '\u2066', '\u2069', '\u200b', '\u2028', '\ufeff'} {
		if strings.ContainsRune(out, r) {
			t.Errorf("output contains U+%04X raw:\n%s", r, out)
		}
	}
	for _, want := range []string{`S: 220 a\u202eb\u2066c`, `C: NOOP a\u202eb`, `server replied 250 a\u202eb`} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// TestTokenFormsAreMasked: a server or a report writer can show an OAuth
// token percent-encoded (either case of hex), JSON-escaped with "\/", or
// upper-cased (a server that shouts its echo); every form is masked, in
// the transcript, the error and the run's Redact (which the reports use).
func TestTokenFormsAreMasked(t *testing.T) {
	const token = "EwBAbC/dEf+GhI=jKlMnOp/0123&4<5>"
	forms := map[string]string{
		"percent-encoded":            url.QueryEscape(token),
		"percent-encoded, lower hex": strings.ToLower(url.QueryEscape(token)),
		"path-escaped":               url.PathEscape(token),
		"JSON with \\/":              strings.ReplaceAll(strings.Trim(mustJSON(token), `"`), "/", `\/`),
		"JSON":                       strings.Trim(mustJSON(token), `"`),
		"upper-cased":                strings.ToUpper(token),
		"upper-cased, percent":       strings.ToUpper(url.QueryEscape(token)),
	}
	for name, form := range forms {
		t.Run(name, func(t *testing.T) {
			f := startFake(t, func(c net.Conn, r *bufio.Reader) []byte {
				say(c, "220 fake\r\n")
				expectLine(r)
				say(c, "535 5.7.3 token "+form+" refused\r\n")
				return nil
			})
			src := "connect \"${ADDR}\"\nexpect 220\nauth xoauth2 \"u@example.test\" \"${TOKEN}\"\nexpect 235\n"
			rec, err := runFake(t, f, src, 2*time.Second, dsl.MapVars{"TOKEN": token})
			var ae *engine.AssertError
			if !errors.As(err, &ae) {
				t.Fatalf("want AssertError, got %T %v", err, err)
			}
			out := shown(rec, err) + ae.Got.String()
			if strings.Contains(out, form) || !strings.Contains(out, "token "+engine.Mask+" refused") {
				t.Errorf("the %s form %q is shown:\n%s", name, form, out)
			}
		})
	}
}

func mustJSON(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
