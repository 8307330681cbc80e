package oauth

import (
	"encoding/json"
	"net/url"
	"strings"

	"github.com/smtprun/smtprun/internal/smtp"
	"github.com/smtprun/smtprun/internal/textmask"
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
			s, _ = textmask.ReplaceFold(s, f, Mask, len(secret) < WholeWordUnder)
		}
	}
	return s
}

// show is issuer text made safe for a terminal: escaped as SMTP replies
// are (no escape sequence, no line of its own), then masked.
func (m *masker) show(s string) string { return m.mask(smtp.Escape([]byte(s))) }

// Mask is what a secret is replaced with.
const Mask = "********"
