package sandbox

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/smtprun/smtprun/internal/smtp"
)

// EscapeLine makes text a client controls safe to print on a terminal, for
// the server transcript: printable UTF-8 passes; C0 and C1 controls, DEL,
// bytes that are not UTF-8, and the invisible Unicode format characters
// (bidi overrides and isolates U+202A–U+202E and U+2066–U+2069, zero-width
// U+200B–U+200F, U+2028/U+2029 line separators, U+FEFF) become \xNN or
// \uNNNN; a backslash becomes \\ so an escape cannot be forged by typing
// one. Without this a client clears the screen, retitles the window or
// writes a fake "[7] S: 235" line over the real one (ESC, OSC, CR, BS).
func EscapeLine(s string) string {
	// The client's own escaping, plus tabs: in a server transcript a tab
	// is worth seeing, as in "AUTH PLAIN<TAB>blob".
	return strings.ReplaceAll(smtp.Escape([]byte(s)), "\t", `\t`)
}

// unsafeRune: a control (C1 included, whose CSI U+009B starts an escape
// sequence on many terminals), a format character (bidi, zero-width), a
// line or paragraph separator, or a noncharacter/private rune a terminal
// may render unpredictably.
func unsafeRune(r rune) bool {
	return unicode.Is(unicode.Cc, r) || unicode.Is(unicode.Cf, r) ||
		unicode.Is(unicode.Zl, r) || unicode.Is(unicode.Zp, r) ||
		unicode.Is(unicode.Co, r) || r == utf8.RuneError || r >= 0xfff9 && r <= 0xfffb
}

// replySafe makes client text fit to echo in a reply ({arg}, {addr},
// {message_id}, {helo}): every byte that is not printable, or a rune
// that is invisible or reorders text, becomes '?', as Postfix's
// printable() does. Replies reach the client's terminal and logs.
func replySafe(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r < 0x20 || r == 0x7f || r == utf8.RuneError && n <= 1 || unsafeRune(r) {
			b.WriteByte('?')
		} else {
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}
