package sandbox

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/smtprun/smtprun/internal/smtp"
)

// Reply texts and generated IDs are templates with {name} placeholders.
// {class:N} generates N random characters of a class (see randomClasses);
// every other name is looked up: profile vars, per-message vars, and the
// per-connection and per-command values a session provides.
var placeholderRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`\{([A-Za-z_]+)(?::([0-9]{1,3}))?\}`) })

// randomClasses are the alphabets for {class:N}.
var randomClasses = map[string]string{
	"hex":    "0123456789abcdef",
	"HEX":    "0123456789ABCDEF",
	"digits": "0123456789",
	"lower":  "abcdefghijklmnopqrstuvwxyz",
	"upper":  "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
	"alnum":  "abcdefghijklmnopqrstuvwxyz0123456789",
}

// builtinNames are the values a session supplies at reply time.
var builtinNames = map[string]string{
	"host":       "the host name the client dialed (or the Serve host)",
	"domain":     "the host name without its first label (mail.utep.edu -> utep.edu)",
	"server":     "the name the server calls itself; defaults to {host}",
	"client_ip":  "the client's IP address as the server sees it",
	"helo":       "the name the client gave in HELO/EHLO",
	"date":       "the time, RFC 5322 style: Mon, 27 Mar 2023 18:17:53 +0000",
	"isotime":    "the time, ISO 8601 with milliseconds: 2023-03-27T18:17:53.123Z",
	"unix":       "the time in seconds since 1970",
	"size":       "the size limit in bytes",
	"addr":       "the address of the current MAIL or RCPT command",
	"arg":        "the argument of the current command",
	"cmd":        "the current command verb",
	"octets":     "the size of the current BDAT chunk",
	"message_id": "the Message-ID of the accepted message, without <>",
	"queue_id":   "the ID the server gives an accepted message",
	"challenge":  "the base64 CRAM-MD5 challenge",
}

// expand replaces placeholders. lookup returns a name's value; random
// classes are generated with gen. Names lookup does not know stay as they
// are, so a template can be expanded in two passes (per connection, then
// per reply).
func expand(s string, lookup func(string) (string, bool), gen func(alphabet string, n int) string) string {
	if !strings.Contains(s, "{") {
		return s
	}
	return placeholderRE().ReplaceAllStringFunc(s, func(m string) string {
		sub := placeholderRE().FindStringSubmatch(m)
		name, count := sub[1], sub[2]
		if count != "" {
			alphabet, ok := randomClasses[name]
			if !ok || gen == nil {
				return m
			}
			n, _ := strconv.Atoi(count)
			return gen(alphabet, n)
		}
		if lookup != nil {
			if v, ok := lookup(name); ok {
				return v
			}
		}
		return m
	})
}

// checkPlaceholders reports the first placeholder in s that is neither a
// random class nor in known.
func checkPlaceholders(s string, known func(string) bool) error {
	for _, sub := range placeholderRE().FindAllStringSubmatch(s, -1) {
		name, count := sub[1], sub[2]
		if count != "" {
			if _, ok := randomClasses[name]; !ok {
				return fmt.Errorf("unknown random class {%s:%s}", name, count)
			}
			continue
		}
		if !known(name) {
			return fmt.Errorf("unknown placeholder {%s}", name)
		}
	}
	return nil
}

// replyTemplate is a reply as written in a profile: one code and one or
// more text lines. Keeping the lines apart lets the session drop EHLO
// lines (a scenario hiding AUTH) and re-join them correctly.
type replyTemplate struct {
	code  int
	lines []string
	// catalogue is the name of the catalogue reply the text came from
	// (internal/replies), or "" for a text written in place.
	catalogue string
}

// parseReply checks that every line is "NNN-text" or, for the last, "NNN
// text" (RFC 5321 4.2.1), all with the same code: the protocol core's
// reading of a reply line, so the sandbox never writes a reply the engine
// would refuse.
func parseReply(s string) (replyTemplate, error) {
	s = strings.TrimRight(s, "\r\n")
	if s == "" {
		return replyTemplate{}, fmt.Errorf("empty reply")
	}
	raw := strings.Split(s, "\n")
	var r replyTemplate
	for i, line := range raw {
		line = strings.TrimSuffix(line, "\r")
		l, err := smtp.ParseReplyLine([]byte(line))
		if err != nil {
			return replyTemplate{}, fmt.Errorf("line %q: %w", line, err)
		}
		if i == 0 {
			r.code = l.Code
		} else if l.Code != r.code {
			return replyTemplate{}, fmt.Errorf("line %q: code differs from %d", line, r.code)
		}
		if last := i == len(raw)-1; l.More == last {
			return replyTemplate{}, fmt.Errorf("line %q: want \"%d-\" on every line but the last and \"%d \" on the last", line, r.code, r.code)
		}
		r.lines = append(r.lines, string(l.Text))
	}
	return r, nil
}

// render joins the lines back into wire form, without the final CRLF.
func (r replyTemplate) render(expandLine func(string) string) []string {
	out := make([]string, len(r.lines))
	for i, l := range r.lines {
		sep := "-"
		if i == len(r.lines)-1 {
			sep = " "
		}
		out[i] = strconv.Itoa(r.code) + sep + expandLine(l)
	}
	return out
}

// without returns the reply minus the lines whose first word is one of
// keywords (an EHLO keyword such as AUTH, or its old form AUTH=). The
// first line (the greeting part of an EHLO reply) always stays.
func (r replyTemplate) without(keywords ...string) replyTemplate {
	out := replyTemplate{code: r.code, lines: []string{r.lines[0]}}
	for _, l := range r.lines[1:] {
		caps := smtp.ParseCapabilities([]string{"", l})
		if !slices.ContainsFunc(keywords, func(k string) bool { return caps.Has(k) || caps.Has(k+"=") }) {
			out.lines = append(out.lines, l)
		}
	}
	return out
}

// capabilities reads the reply as an EHLO reply.
func (r replyTemplate) capabilities() smtp.Capabilities {
	return smtp.ParseCapabilities(r.lines)
}
