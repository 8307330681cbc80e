package oauth

import (
	"encoding/json"
	"net/url"
	"strings"

	"github.com/smtprun/smtprun/internal/smtp"
)

// WholeWordUnder is the length under which a secret is masked only
// where it stands as a word of its own. smtprun never prints a secret's
// own field; what can carry one is the issuer's text (an error
// description that echoes the request). A secret of this length or more
// is masked wherever it appears, in every form below; a shorter one
// (a three-character test client's secret) is masked where letters and
// digits do not continue it on either side, since masking "abc" inside
// every word would garble the message while hiding nothing: the secret
// is still hidden where an echo puts it (client_secret=abc, "abc").
const WholeWordUnder = 8

// masker hides the secrets a flow knows (the client secret, the refresh
// and access tokens, the device and authorization codes, the PKCE
// verifier) in what the flow reports.
type masker struct{ secrets []string }

func (m *masker) add(s string) {
	if s != "" {
		m.secrets = append(m.secrets, s)
	}
}

// forms are the spellings of a secret an issuer's text can carry: as is,
// percent-encoded (form and path style), JSON-escaped (with and without
// an escaped "/"), and as Escape shows each.
func forms(s string) []string {
	j, _ := json.Marshal(s)
	js := strings.Trim(string(j), `"`)
	out := []string{s, url.QueryEscape(s), url.PathEscape(s), js, strings.ReplaceAll(js, "/", `\/`)}
	for _, f := range out[:len(out):len(out)] {
		out = append(out, smtp.Escape([]byte(f)))
	}
	return out
}

// mask replaces every known secret in s with Mask: long ones anywhere,
// whatever the case of their letters (a percent-encoding's hex digits
// come in either case), short ones as whole words.
func (m *masker) mask(s string) string {
	for _, secret := range m.secrets {
		for _, f := range forms(secret) {
			if len(secret) >= WholeWordUnder {
				s = replaceFold(s, f, false)
			} else {
				s = replaceFold(s, f, true)
			}
		}
	}
	return s
}

// show is issuer text made safe for a terminal: escaped as SMTP replies
// are (no escape sequence, no line of its own), then masked.
func (m *masker) show(s string) string { return m.mask(smtp.Escape([]byte(s))) }

// Mask is what a secret is replaced with.
const Mask = "********"

// replaceFold replaces each ASCII-case-insensitive occurrence of old in
// s; with word, only those not continued by a letter or digit.
func replaceFold(s, old string, word bool) string {
	if old == "" {
		return s
	}
	ls, lo := asciiLower(s), asciiLower(old)
	var b strings.Builder
	last := 0
	for i := 0; i+len(lo) <= len(ls); {
		j := strings.Index(ls[i:], lo)
		if j < 0 {
			break
		}
		j += i
		end := j + len(lo)
		if word && ((j > 0 && isAlnum(ls[j-1])) || (end < len(ls) && isAlnum(ls[end]))) {
			i = j + 1
			continue
		}
		b.WriteString(s[last:j])
		b.WriteString(Mask)
		last, i = end, end
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// asciiLower lower-cases ASCII letters only, so byte offsets stay those
// of the original.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}
