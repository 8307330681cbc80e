package explain

import (
	"encoding/base64"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/smtprun/smtprun/internal/smtp"
	"github.com/smtprun/smtprun/internal/suggest"
)

// NotFoundError is returned by Lookup when nothing matches its argument.
type NotFoundError struct {
	Arg        string
	Reason     string // why nothing matched
	Suggestion string // the closest known topic, or ""
}

func (e *NotFoundError) Error() string {
	msg := fmt.Sprintf("explain %q: %s", e.Arg, e.Reason)
	if e.Suggestion != "" {
		msg += fmt.Sprintf("; closest known topic: %q", e.Suggestion)
	}
	return msg
}

const lookupUsage = "try a reply code (535), an enhanced code (5.7.8), a reply line (\"535 5.7.8 ...\"), an EHLO keyword (PIPELINING, \"SIZE 35882577\"), a command (MAIL) or an AUTH mechanism (PLAIN)"

var reThreeDigits = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[0-9]{3}$`) })

// Lookup explains whatever `smtprun explain ARG` is given: a reply code
// ("535"), an enhanced code ("5.7.139"), a reply line or several
// ("530 5.7.0 Must issue a STARTTLS command first", "535-5.7.8 Username
// ..."), an EHLO keyword line ("PIPELINING", "SIZE 35882577", "AUTH LOGIN
// PLAIN"), a command ("MAIL", "AUTH LOGIN"), an AUTH mechanism, a MAIL/RCPT
// parameter or a base64 334 challenge. It returns every relevant entry
// (for a reply line: the reply code, the enhanced code, provider meanings)
// and any hints. When nothing matches the error is a *NotFoundError with
// the closest known topic.
func Lookup(arg string) ([]Entry, []Hint, error) {
	k := base()
	s := strings.TrimSpace(arg)
	if s == "" {
		return nil, nil, &NotFoundError{Arg: arg, Reason: "nothing to explain; " + lookupUsage}
	}

	// A bare reply code.
	if reThreeDigits().MatchString(s) {
		code, _ := strconv.Atoi(s)
		if err := checkReplyCode(arg, code); err != nil {
			return nil, nil, err
		}
		return []Entry{Reply(code)}, k.matchHints(code, smtp.EnhancedCode{}, false, "", ""), nil
	}

	// A bare enhanced code.
	if reEnhLike().MatchString(s) {
		c, ok := parseEnhanced(s)
		if !ok {
			return nil, nil, &NotFoundError{Arg: arg, Reason: "not a well-formed enhanced status code: the class must be 2, 4 or 5 and subject and detail 0-999 without leading zeros (RFC 3463 2)"}
		}
		out := []Entry{k.enhanced(c)}
		for _, pc := range k.provCodes {
			if pc.code == c {
				out = append(out, k.providerEntry(pc))
			}
		}
		return out, k.matchHints(0, c, true, "", ""), nil
	}

	// One or more reply lines.
	lines := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	if l, ok := replyLine(strings.TrimSpace(lines[0])); ok {
		code := l.Code
		if err := checkReplyCode(arg, code); err != nil {
			return nil, nil, err
		}
		return k.lookupReply(code, lines)
	}

	fields := strings.Fields(s)
	first := strings.ToUpper(fields[0])

	// An enhanced code followed by text, as copied from a reply without
	// its code: "5.7.139 Authentication unsuccessful, ...".
	if reEnhLike().MatchString(first) {
		c, ok := parseEnhanced(first)
		if !ok {
			return nil, nil, &NotFoundError{Arg: arg, Reason: "not a well-formed enhanced status code: the class must be 2, 4 or 5 and subject and detail 0-999 without leading zeros (RFC 3463 2)"}
		}
		prov := k.detectProvider(s)
		out := k.providerEntries(c, prov, s)
		if len(out) == 0 {
			out = []Entry{k.enhanced(c)}
		}
		hints := k.matchHints(0, c, true, s, prov)
		if r, ok := k.catalogueReply(s, prov); ok {
			out, hints = k.withCatalogue(r, out, hints)
		}
		return out, hints, nil
	}

	// A decoded OAuth error challenge, pasted as JSON.
	if strings.HasPrefix(s, "{") {
		for _, c := range k.challenges {
			if c.re.MatchString(s) {
				return []Entry{c.Entry}, nil, nil
			}
		}
	}

	out := k.lookupWords(s, fields)
	if len(out) == 0 {
		return nil, nil, &NotFoundError{Arg: arg, Reason: "no explanation found; " + lookupUsage, Suggestion: k.closest(s)}
	}
	return out, nil, nil
}

// lookupWords explains words that are no reply and no code: an EHLO
// keyword line, a command, a mechanism, a parameter, a 334 challenge.
func (k *kb) lookupWords(s string, fields []string) []Entry {
	first := strings.ToUpper(fields[0])
	var out []Entry
	add := func(e Entry) {
		for _, o := range out {
			if o.Kind == e.Kind && o.Topic == e.Topic && o.Provider == e.Provider {
				return
			}
		}
		out = append(out, e)
	}
	// "AUTH ..." is both an EHLO line (AUTH LOGIN PLAIN) and a command
	// (AUTH PLAIN <initial-response>); tell them apart by the arguments.
	var private []Entry
	if r, ok := k.keywords[first]; ok && len(fields) == 1 {
		add(r.Entry) // the keyword itself, not an EHLO line without parameters
	} else if kw, ok := Keyword(s); ok && (first != "AUTH" || allMechNames(fields[1:])) {
		if kw.Title == titlePrivateKeyword {
			private = append(private, kw) // only if nothing better matches
		} else {
			add(kw)
		}
	}
	if e, ok := Command(s); ok && !(first == "AUTH" && len(fields) > 2 && allMechNames(fields[1:])) {
		add(e)
	}
	if len(fields) == 1 {
		name, _, _ := strings.Cut(first, "=")
		if e, ok := k.mechs[name]; ok {
			add(e)
		}
		for _, topic := range k.paramOrder {
			if strings.HasSuffix(topic, " "+name) {
				add(k.params[topic])
			}
		}
	}
	if first == "MAIL" || first == "RCPT" {
		for _, e := range Parameters(s) {
			add(e)
		}
	}
	if len(out) == 0 && len(fields) == 1 {
		if d, e, ok := Challenge(s); ok && d != "" && printable(d) && base64Strict(s) {
			e.Text = fmt.Sprintf("Decodes to %q. %s", d, e.Text)
			add(e)
		}
	}
	if len(out) == 0 {
		out = append(out, private...)
	}
	return out
}

func checkReplyCode(arg string, code int) error {
	if code >= 200 && code <= 599 {
		return nil
	}
	reason := fmt.Sprintf("%d is not an SMTP reply code: the first digit must be 2 (success), 3 (intermediate), 4 (temporary failure) or 5 (permanent failure), RFC 5321 4.2.1", code)
	if code >= 100 && code < 200 {
		reason = fmt.Sprintf("%d is not an SMTP reply code: 1yz replies are defined by RFC 5321 4.2.1 but never used in SMTP", code)
	}
	return &NotFoundError{Arg: arg, Reason: reason}
}

// lookupReply explains reply lines that start with code.
func (k *kb) lookupReply(code int, lines []string) ([]Entry, []Hint, error) {
	text, enh, hasEnh := replyText(code, lines)
	prov := k.detectProvider(text)
	if prov == "" && hasEnh {
		// A provider's own wording of its code names the provider too
		// ("Username and Password not accepted" is Gmail's 5.7.8).
		if pe := k.providerEntries(enh, "", text); len(pe) == 1 {
			prov = pe[0].Provider
		}
	}
	cat, known := k.catalogueReply(strings.Join(lines, "\n"), prov)
	if known && prov == "" {
		// The catalogue knows the reply, and so its provider: STOREDRV,
		// a 5.7.139 without a host name.
		prov = cat.Brand
	}
	out := []Entry{Reply(code)}
	if hasEnh {
		if pe := k.providerEntries(enh, prov, text); len(pe) > 0 {
			out = append(out, pe...)
		} else {
			out = append(out, k.enhanced(enh))
		}
	}
	if code == 250 {
		// EHLO reply lines: explain the keywords.
		for _, l := range strings.Split(text, "\n") {
			if e, ok := Keyword(l); ok {
				out = append(out, e)
			}
		}
	}
	if code == 334 {
		if d, e, ok := Challenge(strings.TrimSpace(text)); ok {
			e.Text = fmt.Sprintf("Decodes to %q. %s", d, e.Text)
			out = append(out, e)
		}
	}
	hints := k.matchHints(code, enh, hasEnh, text, prov)
	if known {
		out, hints = k.withCatalogue(cat, out, hints)
	}
	return out, hints, nil
}

// reMechName is a SASL mechanism name (RFC 4422 3.1), as servers write it.
var reMechName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Z0-9_-]{1,20}$`) })

// allMechNames reports whether args are all SASL mechanism names, as on the
// EHLO line "AUTH LOGIN PLAIN" (a base64 initial response is not).
func allMechNames(args []string) bool {
	for _, a := range args {
		if !reMechName().MatchString(a) {
			return false
		}
	}
	return true
}

func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

// base64Strict accepts only text that is unmistakably base64: padded to a
// multiple of 4, so that ordinary words are not "decoded".
func base64Strict(s string) bool {
	if len(s)%4 != 0 {
		return false
	}
	_, err := base64.StdEncoding.DecodeString(s)
	return err == nil
}

// closest returns the known topic nearest to s (edit distance, ignoring
// case), or "" when nothing is reasonably close.
func (k *kb) closest(s string) string {
	s = strings.ToUpper(strings.TrimSpace(s))
	if f := strings.Fields(s); len(f) > 0 {
		s = f[0]
	}
	var topics []string
	for t := range k.commands {
		topics = append(topics, t)
	}
	for t := range k.keywords {
		topics = append(topics, t)
	}
	for t := range k.mechs {
		topics = append(topics, t)
	}
	return suggest.Closest(s, topics)
}
