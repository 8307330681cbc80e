package engine

import (
	"testing"

	"github.com/smtprun/smtprun/dsl"
)

// TestMultilineReplyDiagnostic: the other lines of a multi-line reply are
// printed under its first line's text, with or without the source line.
func TestMultilineReplyDiagnostic(t *testing.T) {
	err := &AssertError{Pos: dsl.Pos{Filename: "x.smtp", Line: 2, Column: 8}, Span: 3, Want: "235", Reason: "code",
		Got: &Reply{Code: 535, Lines: []string{"535-5.7.8 Username and Password not accepted.", "535 5.7.8  https://support.google.com/mail/?p=BadCredentials"}}}
	for _, tc := range []struct {
		name, src, want string
	}{
		{"with the source line", "connect \"a:587\"\nexpect 235\n", `error: expectation failed
 --> x.smtp:2:8
  |
2 | expect 235
  |        ^^^ server replied 535-5.7.8 Username and Password not accepted.
  |                           535 5.7.8  https://support.google.com/mail/?p=BadCredentials
  |
`},
		{"without it", "", `error: expectation failed
 --> x.smtp:2:8
  server replied 535-5.7.8 Username and Password not accepted.
                 535 5.7.8  https://support.google.com/mail/?p=BadCredentials
`},
	} {
		if got := dsl.Render(err.Diagnostic(), []byte(tc.src), dsl.Styler{}); got != tc.want {
			t.Errorf("%s:\n%s\nwant\n%s", tc.name, got, tc.want)
		}
	}
}
