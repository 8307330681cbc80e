package sandbox

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParseCommand checks serve's command parser on any line: it never
// panics; an AUTH line is masked exactly when it carries anything after
// the mechanism, whatever white space separates it; a BDAT size it
// accepts cannot overflow when summed; and what the parser hands to
// replies and to the transcript carries no control or invisible
// characters.
func FuzzParseCommand(f *testing.F) {
	for _, s := range []string{
		"EHLO client.example.org", "AUTH PLAIN AHUAcA==", "AUTH PLAIN\tAHUAcA==", "auth\tlogin dXNlcg==", "AUTH\u00a0PLAIN AHUAcA==", "AUTH\u0085PLAIN\vAHUAcA==",
		"AUTH LOGIN", "AUTH", " \tAUTH  PLAIN  x y", "BDAT 10 LAST", "BDAT 9223372036854775807",
		"BDAT 18446744073709551616 LAST", "BDAT -1", "MAIL FROM:<a@b> SIZE=10", "RCPT TO:<\x1b[2J@x>",
		"VRFY \u202euser", "NOOP \xff\xfe", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		c := parseCommand(line)
		fields := strings.Fields(line)
		if len(fields) > 0 && c.verb != strings.ToUpper(fields[0]) {
			t.Fatalf("verb %q is not the first field of %q", c.verb, line)
		}
		isAuth := len(fields) > 0 && strings.ToUpper(fields[0]) == "AUTH"
		if c.verb == "AUTH" && c.secret != (c.fields >= 2) {
			t.Fatalf("AUTH %q: secret %v with %d fields", line, c.secret, c.fields)
		}
		if isAuth && len(fields) >= 3 && !c.secret {
			t.Fatalf("AUTH line with a response not masked: %q", line)
		}
		if c.verb != "AUTH" && c.secret {
			t.Fatalf("%q masked but not AUTH", line)
		}
		if c.verb == "BDAT" {
			if size, _, ok := parseBdat(c.arg); ok && (size < 0 || size > 999999999999999999) {
				t.Fatalf("BDAT size %d accepted from %q", size, c.arg)
			}
		}
		for _, s := range []string{replySafe(c.arg), replySafe(c.verb)} {
			if !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f || unsafeRune(r) }) {
				t.Fatalf("replySafe left %q", s)
			}
		}
		e := EscapeLine(line)
		if !utf8.ValidString(e) || strings.ContainsFunc(e, func(r rune) bool { return r < 0x20 || r == 0x7f || unsafeRune(r) }) {
			t.Fatalf("EscapeLine(%q) = %q", line, e)
		}
	})
}
