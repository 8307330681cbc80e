package engine

import (
	"encoding/base64"
	"encoding/hex"
	"slices"
	"sort"
	"strings"
)

// redactor masks secrets in everything the engine reports. It knows each
// secret in the forms it can take on the wire or in a log: as is, in hex,
// and in base64 at each of the three alignments it can have inside a larger
// base64 blob (an AUTH PLAIN response embeds the password after the user
// name, so its encoding starts mid-group).
type redactor struct {
	forms []string
}

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
	for _, f := range forms {
		if (len(f) >= minForm || f == secret) && !slices.Contains(r.forms, f) {
			r.forms = append(r.forms, f)
		}
	}
	// Longest first, so a form that contains another is masked whole.
	sort.Slice(r.forms, func(i, j int) bool { return len(r.forms[i]) > len(r.forms[j]) })
}

func (r *redactor) mask(s string) (string, bool) {
	masked := false
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

// maskReply returns a masked copy of a reply, and whether anything was
// masked. The original stays as read: the engine matches expectations
// against it, and it is shared with errors and results masked on their
// own way out.
func (r *redactor) maskReply(rep *Reply) (*Reply, bool) {
	if rep == nil {
		return nil, false
	}
	c := *rep
	c.Lines, c.Text = slices.Clone(rep.Lines), slices.Clone(rep.Text)
	masked := r.maskAll(c.Lines)
	r.maskAll(c.Text)
	return &c, masked
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
