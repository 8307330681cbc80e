package engine

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"slices"
	"sort"
	"strings"

	"github.com/smtprun/smtprun/internal/textmask"
)

// redactor masks secrets in everything the engine reports. It knows each
// secret in the forms it can take on the wire or in a log: as is, in hex,
// and in base64 at each of the three alignments it can have inside a larger
// base64 blob (an AUTH PLAIN response embeds the password after the user
// name, so its encoding starts mid-group).
type redactor struct {
	forms []string
	// folded are the forms of foldForm bytes or more, lower-cased, which
	// are matched without case.
	folded []string
	// short is set once a secret shorter than ShortSecret is known: it is
	// masked all the same, but the run warns that the transcript may be
	// mangled (and the mask may hint at the secret).
	short bool
}

// ShortSecret is the length under which a secret is called short: masking
// three letters such as "TLS" also masks them inside STARTTLS, and what is
// left around the mask hints at the secret. Such a secret is still masked
// everywhere (never shown is the rule); the run warns with
// NoticeShortSecret.
const ShortSecret = 4

// Mask is what a secret is replaced with.
const Mask = "********"

// minForm keeps very short encodings out, which would otherwise mask random
// text; a secret this short is not worth the name anyway.
const minForm = 4

func (r *redactor) add(secret string) {
	if secret == "" {
		return
	}
	forms := []string{secret, hex.EncodeToString([]byte(secret)), strings.ToUpper(hex.EncodeToString([]byte(secret))),
		// The whole encoding, padding included, so a secret sent alone
		// (AUTH LOGIN) is masked without leftovers.
		base64.StdEncoding.EncodeToString([]byte(secret)), base64.URLEncoding.EncodeToString([]byte(secret))}
	for k := 0; k < 3; k++ {
		padded := append(make([]byte, k), secret...)
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
			s := enc.EncodeToString(padded)
			// Characters wholly determined by the secret's bits.
			start := (k*8 + 5) / 6
			end := (len(padded) * 8) / 6
			if end > start {
				forms = append(forms, s[start:end])
			}
		}
	}
	// Each form as a server's or a report writer's escaping shows it:
	// percent-encoded (a token echoed from a URL or a form body, in
	// query or path style), JSON-escaped (with "/" as "\/" too, as PHP
	// writes it), and as Escape shows it, for text that was escaped
	// before it reached the redactor (a secret with a backslash or a
	// control byte looks different once escaped).
	for _, f := range slices.Clone(forms) {
		j, _ := json.Marshal(f)
		js := strings.Trim(string(j), `"`)
		for _, e := range []string{url.QueryEscape(f), url.PathEscape(f), js, strings.ReplaceAll(js, "/", `\/`)} {
			if e != f {
				forms = append(forms, e)
			}
		}
	}
	for _, f := range slices.Clone(forms) {
		if e := Escape([]byte(f)); e != f {
			forms = append(forms, e)
		}
	}
	if len(secret) < ShortSecret {
		r.short = true
	}
	for _, f := range forms {
		if len(f) >= foldForm {
			// Compared without case: a server may upper-case its echo,
			// and percent-encoding's hex digits come in either case.
			if f = textmask.Lower(f); !slices.Contains(r.folded, f) {
				r.folded = append(r.folded, f)
			}
		} else if (len(f) >= minForm || f == secret) && !slices.Contains(r.forms, f) {
			r.forms = append(r.forms, f)
		}
	}
	// Longest first, so a form that contains another is masked whole.
	sort.Slice(r.forms, func(i, j int) bool { return len(r.forms[i]) > len(r.forms[j]) })
	sort.Slice(r.folded, func(i, j int) bool { return len(r.folded[i]) > len(r.folded[j]) })
}

// foldForm is the length from which a form is masked whatever the case
// of its letters: a shorter one would then hide ordinary words.
const foldForm = 8

func (r *redactor) mask(s string) (string, bool) {
	masked := false
	if len(r.folded) > 0 {
		ls := textmask.Lower(s)
		for _, f := range r.folded {
			if strings.Contains(ls, f) {
				s, _ = textmask.ReplaceFold(s, f, Mask, false)
				ls = textmask.Lower(s)
				masked = true
			}
		}
	}
	for _, f := range r.forms {
		if strings.Contains(s, f) {
			s = strings.ReplaceAll(s, f, Mask)
			masked = true
		}
	}
	return s, masked
}

func (r *redactor) maskString(s string) string {
	m, _ := r.mask(s)
	return m
}

// show is the one way text leaves the engine: masked as it is, then
// escaped for a terminal, then masked again for secrets that only match
// escaped (text escaped before it got here). Masking first is what finds
// a secret with a backslash, a control byte, DEL or invalid UTF-8 in a
// server's echo.
func (r *redactor) show(s string) string {
	m, _ := r.showMasked(s)
	return m
}

func (r *redactor) showMasked(s string) (string, bool) {
	m, a := r.mask(s)
	m, b := r.mask(Escape([]byte(m)))
	return m, a || b
}

// showSource is show for a line of the script itself: control bytes and
// invisible characters are escaped as everywhere, but a backslash stays
// one, so `expect 250 /(?P<qid>\S+)/` reads as written in the file.
// Undoubling inverts Escape's only change to printable text, so no
// secret masked before can come back.
func (r *redactor) showSource(s string) string {
	return strings.ReplaceAll(r.show(s), `\\`, `\`)
}

// maskReply returns a masked copy of a reply, and whether anything was
// masked. The original stays as read: the engine matches expectations
// against it, and it is shared with errors and results masked on their
// own way out.
func (r *redactor) maskReply(rep *Reply) (*Reply, bool) {
	if rep == nil {
		return nil, false
	}
	c := *rep
	c.Raw = nil // never shown
	if len(r.forms) == 0 && len(r.folded) == 0 {
		// No secrets: the reader's escaped lines are what show would
		// make of the raw ones. Shared, not copied: replies are never
		// written after they are read.
		return &c, false
	}
	if len(rep.Raw) == len(rep.Lines) && rep.Raw != nil {
		// Mask the bytes as received, then escape: see show.
		c.Lines, c.Text = make([]string, len(rep.Raw)), make([]string, len(rep.Raw))
		masked := false
		for i, raw := range rep.Raw {
			var m bool
			c.Lines[i], m = r.showMasked(raw)
			masked = masked || m
			c.Text[i], _ = r.showMasked(replyText(raw))
		}
		return &c, masked
	}
	c.Lines, c.Text = slices.Clone(rep.Lines), slices.Clone(rep.Text)
	masked := r.maskAll(c.Lines)
	r.maskAll(c.Text)
	return &c, masked
}

// replyText is a reply line's text after the code and separator; the
// reply reader has checked the line's shape.
func replyText(raw string) string {
	if len(raw) < 4 {
		return ""
	}
	return raw[4:]
}

// maskResponse masks the SASL response in a line that carries one: all of
// it, or what follows the mechanism in "AUTH MECH response".
func maskResponse(line string) string {
	if f := strings.Fields(line); len(f) == 3 && strings.EqualFold(f[0], "AUTH") {
		return f[0] + " " + f[1] + " " + Mask
	}
	return Mask
}

func (r *redactor) maskAll(lines []string) bool {
	any := false
	for i, l := range lines {
		if m, ok := r.mask(l); ok {
			lines[i], any = m, true
		}
	}
	return any
}
