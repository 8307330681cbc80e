package smtp

import "testing"

func TestEscape(t *testing.T) {
	for in, want := range map[string]string{
		"plain text, tabs\tok": "plain text, tabs\tok",
		`back\slash`:           `back\\slash`,
		"nul\x00 esc\x1b[2J":   `nul\x00 esc\x1b[2J`,
		"del\x7f bad\xff":      `del\x7f bad\xff`,
		"c1 \u009b":            `c1 \xc2\x9b`,
		"caf\u00e9 \u4e2d":     "caf\u00e9 \u4e2d", // printable UTF-8 passes
		// Invisible format characters and separators: bidi overrides could
		// make a reply read differently from what it says.
		"a\u202eb":      `a\u202eb`,
		"\u2066x\u2069": `\u2066x\u2069`,
		"zero\u200bw":   `zero\u200bw`,
		"line\u2028sep": `line\u2028sep`,
		"\ufeffbom":     `\ufeffbom`,
		"tag\U000e0041": `tag\U000e0041`,
	} {
		if got := Escape([]byte(in)); got != want {
			t.Errorf("Escape(%q) = %q, want %q", in, got, want)
		}
	}
}
