package explain

import (
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/smtprun/smtprun/internal/smtp"
)

// Entry is one explanation.
type Entry struct {
	Topic    string // what is explained: "535", "5.7.8", "X.7.8", "PIPELINING", "EHLO", "MAIL SIZE"
	Title    string // short name, e.g. "Authentication credentials invalid"
	Text     string // one or two short sentences
	Source   string // "RFC 4954 6", "IANA SMTP Enhanced Status Codes", "Microsoft Learn: ..."
	Kind     string // one of the Kind constants
	Provider string // for a provider-specific meaning: "microsoft", "google", "yahoo"; else ""
}

// Hint says what to do about a known error.
type Hint struct {
	ID     string // stable name of the hint in data/hints.yaml, e.g. "gmail-app-password"
	Text   string // what to do, in one or two lines
	Source string
}

// Kinds of Entry.
const (
	KindCommand         = "command"          // Topic "MAIL"
	KindMechanism       = "mechanism"        // Topic "PLAIN"
	KindReply           = "reply"            // Topic "535"
	KindReplyClass      = "reply-class"      // Topic "5yz"
	KindReplyCategory   = "reply-category"   // Topic "x3z"
	KindEnhanced        = "enhanced"         // Topic "X.7.8" in All, "5.7.8" from Enhanced
	KindEnhancedClass   = "enhanced-class"   // Topic "5.X.X"
	KindEnhancedSubject = "enhanced-subject" // Topic "X.7.X"
	KindKeyword         = "keyword"          // Topic "SIZE"
	KindParameter       = "parameter"        // Topic "MAIL SIZE"
	KindChallenge       = "challenge"        // Topic "Username:"
)

// Values of a keyword's args field in keywords.yaml.
const (
	argBytes      = "bytes"
	argMechanisms = "mechanisms"
	argSeconds    = "seconds"
	argList       = "list"
)

var (
	// reEnhLike is what a person means as an enhanced code, well formed
	// or not, so a malformed one gets RFC 3463's rule instead of "not found".
	reEnhLike = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+$`) })
	reKeyword = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9-]*$`) })
)

// parseEnhanced is the protocol core's strict reading (RFC 3463 2).
func parseEnhanced(s string) (smtp.EnhancedCode, bool) {
	c, err := smtp.ParseEnhancedCode(strings.TrimSpace(s))
	return c, err == nil
}

// replyLine splits "535-5.7.8 text" (or a bare "535") as the protocol core
// reads a reply line. A code outside 200-599 still splits, so Lookup can
// say why it is no code.
func replyLine(s string) (smtp.ReplyLine, bool) {
	l, err := smtp.ParseReplyLine([]byte(s))
	var rangeErr *smtp.CodeRangeError
	return l, err == nil || errors.As(err, &rangeErr) && rangeErr.WellFormed
}

// Command explains a command line as the client sends it: "EHLO laptop",
// "MAIL FROM:<a@b> SIZE=100", "AUTH LOGIN", "STARTTLS". Case-insensitive.
// For AUTH the mechanism is explained too, and for MAIL and RCPT the
// parameters. false when the verb is unknown.
func Command(line string) (Entry, bool) {
	k := base()
	fields := strings.Fields(line)
	if len(fields) == 0 {
		return Entry{}, false
	}
	verb := strings.ToUpper(fields[0])
	e, ok := k.commands[verb]
	if !ok {
		return Entry{}, false
	}
	switch verb {
	case "AUTH":
		if len(fields) > 1 {
			mech := strings.ToUpper(fields[1])
			e.Text += " " + k.mechanismSentence(mech)
			if len(fields) > 2 {
				e.Text += " " + textInitialResponse
			}
		}
	case "MAIL", "RCPT":
		var names []string
		for _, p := range k.parameters(verb, line) {
			names = append(names, fmt.Sprintf("%s (%s)", strings.TrimPrefix(p.Topic, verb+" "), lowerFirst(p.Title)))
		}
		if len(names) > 0 {
			e.Text += " Parameters: " + strings.Join(names, ", ") + "."
		}
	}
	return e, true
}

func (k *kb) mechanismSentence(mech string) string {
	if m, ok := k.mechs[mech]; ok {
		return mech + ": " + m.Text
	}
	if strings.HasPrefix(mech, "X") {
		return fmt.Sprintf(textPrivateMechanism, mech)
	}
	return fmt.Sprintf(textUnknownMechanism, mech)
}

// Parameters explains the known parameters of a MAIL FROM or RCPT TO
// command line ("MAIL FROM:<a@b> SIZE=100 BODY=8BITMIME"), in order.
func Parameters(line string) []Entry {
	fields := strings.Fields(line)
	if len(fields) == 0 {
		return nil
	}
	verb := strings.ToUpper(fields[0])
	if verb != "MAIL" && verb != "RCPT" {
		return nil
	}
	return base().parameters(verb, line)
}

func (k *kb) parameters(verb, line string) []Entry {
	// Parameters follow the path: everything after the first '>'; without
	// one, everything after "MAIL FROM:x".
	var rest []string
	if i := strings.IndexByte(line, '>'); i >= 0 {
		rest = strings.Fields(line[i+1:])
	} else if f := strings.Fields(line); len(f) > 2 {
		rest = f[2:]
	}
	var out []Entry
	seen := map[string]bool{}
	for _, p := range rest {
		name, _, _ := strings.Cut(p, "=")
		topic := verb + " " + strings.ToUpper(name)
		if e, ok := k.params[topic]; ok && !seen[topic] {
			seen[topic] = true
			out = append(out, e)
		}
	}
	return out
}

// Reply explains a reply code. Every code from 200 to 599 gets an
// explanation: its own entry when the code is defined, otherwise one built
// from its class (first digit) and category (second digit), RFC 5321 4.2.1.
func Reply(code int) Entry {
	k := base()
	topic := strconv.Itoa(code)
	cls, ok := k.replyClass[code/100]
	if code < 100 || code > 599 || !ok {
		return Entry{Topic: topic, Kind: KindReply, Title: titleNotReplyCode, Text: textNotReplyCode, Source: "RFC 5321 4.2.1"}
	}
	if e, ok := k.replies[code]; ok {
		e.Text += " " + cls.note
		return e
	}
	e := Entry{Topic: topic, Kind: KindReply, Source: "RFC 5321 4.2.1"}
	digit := (code / 10) % 10
	if cat, ok := k.replyCat[digit]; ok {
		e.Title = cls.Title + ", " + lowerFirst(cat.Title)
		e.Text = fmt.Sprintf(textUnlistedReply, code, cls.Text, cat.Text)
	} else {
		e.Title = cls.Title
		e.Text = fmt.Sprintf(textUnlistedReply, code, cls.Text, fmt.Sprintf(textUnknownCategory, digit))
	}
	return e
}

// Enhanced explains an enhanced status code such as "5.7.8" by its IANA
// meaning, or from its class and subject when the detail is not
// registered. false only when the code is malformed.
func Enhanced(code string) (Entry, bool) {
	c, ok := parseEnhanced(code)
	if !ok {
		return Entry{}, false
	}
	return base().enhanced(c), true
}

func (k *kb) enhanced(c smtp.EnhancedCode) Entry {
	cls := k.enhClass[c.Class]
	e := Entry{Topic: c.String(), Kind: KindEnhanced}
	if d, ok := k.enhDetail[detailKey(c)]; ok {
		e.Title, e.Source = d.Title, d.Source
		e.Text = d.Text + " " + cls.note
		return e
	}
	e.Source = "RFC 3463 2"
	if s, ok := k.enhSubject[c.Subject]; ok {
		e.Title = s.Title
		e.Text = fmt.Sprintf(textUnlistedDetail, s.Text, detailKey(c), cls.note)
		return e
	}
	e.Title = cls.Title
	e.Text = fmt.Sprintf(textUnknownSubject, cls.Text, c.Subject)
	return e
}

// EnhancedFor explains an enhanced code as a given provider uses it, when
// that provider gives it its own meaning (Office 365's 5.7.139, Gmail's
// 5.7.9, ...); otherwise it is Enhanced. provider may be a name
// ("microsoft", "google", "yahoo"), an alias ("office365", "gmail", "aol")
// or a server host name ("smtp.office365.com").
func EnhancedFor(code, provider string) (Entry, bool) {
	c, ok := parseEnhanced(code)
	if !ok {
		return Entry{}, false
	}
	k := base()
	if p := k.providerNamed(provider); p != "" {
		for _, pc := range k.provCodes {
			if pc.provider == p && pc.code == c {
				return k.providerEntry(pc), true
			}
		}
	}
	return k.enhanced(c), true
}

func (k *kb) providerEntry(pc providerCode) Entry {
	e := pc.entry(KindEnhanced, pc.code.String(), pc.provider)
	e.Title = k.providerTitle(pc.provider) + ": " + pc.Title
	if d, ok := k.enhDetail[detailKey(pc.code)]; ok {
		e.Text += fmt.Sprintf(textIANAMeaning, detailKey(pc.code), d.Title)
	} else {
		e.Text += fmt.Sprintf(textNotIANA, detailKey(pc.code))
	}
	return e
}

// providerEntries returns the provider-specific meanings of c that apply to
// a reply: those of provider p, and those whose pattern matches text.
func (k *kb) providerEntries(c smtp.EnhancedCode, p, text string) []Entry {
	var out []Entry
	for _, pc := range k.provCodes {
		if pc.code != c {
			continue
		}
		// A provider's meaning of a code applies to its replies whose text
		// fits it: Gmail's 5.7.9 is an app password with
		// InvalidSecondFactor, a sign-in on the web with WebLoginRequired.
		fits := pc.re == nil || text == "" || pc.re.MatchString(text)
		if (p != "" && pc.provider == p && fits) || (p == "" && pc.re != nil && pc.re.MatchString(text)) {
			out = append(out, k.providerEntry(pc))
		}
	}
	return out
}

// Keyword explains one line of an EHLO reply: "PIPELINING",
// "SIZE 35882577", "AUTH LOGIN PLAIN", "AUTH=PLAIN LOGIN", "8 BITMIME". A
// leading "250-" or "250 " is ignored. The parameters are explained too
// (the SIZE limit in MB, each AUTH mechanism). Keywords starting with X
// that are not listed are explained as private extensions. false when the
// text is not a known keyword.
func Keyword(kw string) (Entry, bool) {
	k := base()
	s := strings.TrimSpace(kw)
	if l, ok := replyLine(s); ok && len(s) > 3 {
		s = strings.TrimSpace(string(l.Text))
	}
	fields := strings.Fields(s)
	if len(fields) == 0 {
		return Entry{}, false
	}
	if r, ok := k.keywords[strings.ToUpper(strings.Join(fields, " "))]; ok {
		e := r.Entry
		if extra := k.keywordArgs(r.args, nil); extra != "" {
			e.Text += " " + extra
		}
		return e, true
	}
	// One EHLO line, read as the protocol core reads capabilities
	// ("AUTH=LOGIN PLAIN" is the keyword "AUTH=" with two parameters).
	var name string
	var args []string
	for kw, params := range smtp.ParseCapabilities([]string{"", s}) {
		name, args = kw, params
	}
	r, ok := k.keywords[name]
	if !ok {
		if strings.HasPrefix(name, "X") && reKeyword().MatchString(name) {
			return Entry{Topic: name, Kind: KindKeyword, Title: titlePrivateKeyword, Text: textPrivateKeyword, Source: "RFC 5321 4.1.5"}, true
		}
		return Entry{}, false
	}
	e := r.Entry
	if extra := k.keywordArgs(r.args, args); extra != "" {
		e.Text += " " + extra
	}
	return e, true
}

func (k *kb) keywordArgs(kind string, args []string) string {
	switch kind {
	case argBytes:
		if len(args) == 0 || args[0] == "0" {
			return textNoSizeLimit
		}
		n, err := strconv.ParseUint(args[0], 10, 64)
		if err != nil {
			return fmt.Sprintf(textNotANumber, args[0])
		}
		return fmt.Sprintf(textSizeLimit, groupDigits(n), float64(n)/1e6, float64(n)/(1<<20))
	case argMechanisms:
		if len(args) == 0 {
			return textNoMechanisms
		}
		var parts []string
		for _, a := range args {
			m := strings.ToUpper(a)
			switch e, ok := k.mechs[m]; {
			case ok:
				parts = append(parts, fmt.Sprintf("%s (%s)", m, e.Title))
			case strings.HasPrefix(m, "X"):
				parts = append(parts, fmt.Sprintf("%s (%s)", m, textPrivate))
			default:
				parts = append(parts, fmt.Sprintf("%s (%s)", m, textUnknown))
			}
		}
		return textOffered + strings.Join(parts, ", ") + "."
	case argSeconds:
		if len(args) == 0 {
			return ""
		}
		if n, err := strconv.ParseInt(args[0], 10, 64); err == nil {
			return fmt.Sprintf(textSeconds, n)
		}
		return fmt.Sprintf(textNotANumber, args[0])
	default:
		if len(args) == 0 {
			return ""
		}
		return textHere + strings.Join(args, " ") + "."
	}
}

// Hints returns what to do about a reply: code is the reply code and lines
// the text of each reply line after the code (a line that still starts
// with the code, "535-5.7.8 ...", is accepted too). Hints match on the
// code, the enhanced code at the start of the text, the text, and the
// provider recognized in the text. The most specific hints come first;
// general ones are returned only when nothing specific matches.
func Hints(code int, lines []string) []Hint {
	return HintsFor(code, lines, "")
}

// HintsFor is Hints for a reply from a known provider, given by name, alias
// or server host name (see EnhancedFor); "" recognizes it from the text.
func HintsFor(code int, lines []string, provider string) []Hint {
	k := base()
	text, enh, hasEnh := replyText(code, lines)
	p := k.providerNamed(provider)
	if p == "" {
		p = k.detectProvider(text)
	}
	return k.matchHints(code, enh, hasEnh, text, p)
}

// replyText strips the reply code from lines and finds the enhanced code.
func replyText(code int, lines []string) (text string, enh smtp.EnhancedCode, hasEnh bool) {
	clean := make([]string, 0, len(lines))
	for _, l := range lines {
		l = strings.TrimRight(l, "\r\n")
		if rl, ok := replyLine(l); ok && len(l) > 3 && (code == 0 || rl.Code == code) {
			l = string(rl.Text)
		}
		clean = append(clean, l)
	}
	for _, l := range clean {
		if c, ok := smtp.LeadingEnhancedCode(l); ok {
			enh, hasEnh = c, true
			break
		}
	}
	return strings.Join(clean, "\n"), enh, hasEnh
}

// score says whether the hint applies to a reply and how specifically:
// an exact code 1, an enhanced code 2, a text pattern 4, the provider 1
// more. Every matcher the hint has must match, and at least one must have
// matched positively: with the code unknown (0), a hint with only codes
// does not apply.
func (h hint) score(code int, enh smtp.EnhancedCode, hasEnh bool, text, prov string) (int, bool) {
	score, positive := 0, false
	if len(h.codes) > 0 && code != 0 {
		ok := false
		for _, c := range h.codes {
			if c.Matches(code) {
				ok = true
				if !strings.Contains(c.String(), "x") {
					score = max(score, 1)
				}
			}
		}
		if !ok {
			return 0, false
		}
		positive = true
	}
	if len(h.enhanced) > 0 {
		if !hasEnh || !slices.ContainsFunc(h.enhanced, func(p enhPattern) bool { return p.match(enh) }) {
			return 0, false
		}
		score += 2
		positive = true
	}
	if h.re != nil {
		if !h.re.MatchString(text) {
			return 0, false
		}
		score += 4
		positive = true
	}
	if !positive || h.provider != "" && prov != "" && prov != h.provider {
		return 0, false
	}
	if h.provider != "" && prov == h.provider {
		score++
	}
	return score, true
}

// matchHints: code 0 means unknown (any code constraint is met).
func (k *kb) matchHints(code int, enh smtp.EnhancedCode, hasEnh bool, text, prov string) []Hint {
	type scored struct {
		h     hint
		score int
	}
	var found []scored
	for _, h := range k.hints {
		if score, ok := h.score(code, enh, hasEnh, text, prov); ok {
			found = append(found, scored{h, score})
		}
	}
	specific := false
	replaced := map[string]bool{}
	for _, f := range found {
		if !f.h.fallback {
			specific = true
		}
		for _, r := range f.h.replaces {
			replaced[r] = true
		}
	}
	sort.SliceStable(found, func(i, j int) bool { return found[i].score > found[j].score })
	var out []Hint
	seen := map[string]bool{}
	for _, f := range found {
		if (specific && f.h.fallback) || replaced[f.h.ID] || seen[f.h.Text] {
			continue
		}
		seen[f.h.Text] = true
		out = append(out, f.h.Hint)
	}
	return out
}

// Challenge decodes a 334 challenge (the base64 text after "334 ", which
// may be included) and explains it: "VXNlcm5hbWU6" is "Username:" (AUTH
// LOGIN), "<...@host>" a CRAM-MD5 challenge. false when the text is not
// base64.
func Challenge(b64 string) (string, Entry, bool) {
	k := base()
	s := strings.TrimSpace(b64)
	if l, ok := replyLine(s); ok && l.Code == 334 {
		s = strings.TrimSpace(string(l.Text))
	}
	dec, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		dec, err = base64.RawStdEncoding.DecodeString(s)
		if err != nil {
			return "", Entry{}, false
		}
	}
	d := string(dec)
	for _, c := range k.challenges {
		if c.re.MatchString(d) {
			return d, c.Entry, true
		}
	}
	e := k.replies[334]
	e.Kind = KindChallenge
	return d, e, true
}

// All returns every entry of the knowledge base, in data file order:
// commands, mechanisms, reply classes, categories and codes, enhanced
// classes, subjects, IANA details and provider meanings, keywords,
// parameters, challenges. The slice is a fresh copy.
func All() []Entry {
	return append([]Entry(nil), base().all...)
}

// ProviderOf names the provider ("microsoft", "google", "yahoo") that a
// name, alias, host name or reply text points to, or "".
func ProviderOf(s string) string {
	return base().providerNamed(s)
}

func lowerFirst(s string) string {
	if s == "" || (len(s) > 1 && s[1] >= 'A' && s[1] <= 'Z') {
		return s // keep acronyms: "MAIL", "TLS ..."
	}
	return strings.ToLower(s[:1]) + s[1:]
}

func groupDigits(n uint64) string {
	s := strconv.FormatUint(n, 10)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}
