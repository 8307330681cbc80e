package replies

import (
	"bytes"
	"embed"
	"fmt"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/smtprun/smtprun/internal/provider"
	"github.com/smtprun/smtprun/internal/smtp"
)

//go:embed data/*.yaml
var dataFiles embed.FS

// Reply is one catalogue entry.
type Reply struct {
	// Name is stable: PROFILE.AREA.WHAT (gmail.auth.bad_credentials).
	// Fault plans and the sandbox's profiles refer to replies by it.
	Name string
	// Provider is the sandbox profile the reply belongs to (office365,
	// gmail, yahoo, aol); Brand is its provider in internal/provider
	// (microsoft, google, yahoo).
	Provider, Brand string
	// Code and Enhanced are read from the text ("" when the reply has no
	// enhanced code).
	Code     int
	Enhanced string
	// Lines are the reply exactly as seen, one wire line each, IDs and
	// all.
	Lines []string
	// Template is the reply with its variable parts (session IDs, host
	// names, addresses) written as the sandbox's {placeholders}; it is
	// Lines joined when nothing varies.
	Template string
	// Command is the SMTP command the reply answers (AUTH, MAIL, RCPT,
	// DATA, EHLO, connect, ...).
	Command string
	Cause   string
	Meaning string
	Fix     string
	// Source is where the text was seen (a public URL or document) and
	// Seen when (YYYY-MM-DD; SeenNote says whether that is the page's date
	// or the day it was read). From is "rfc" or "memory" instead, for a
	// text not seen verbatim in public.
	Source   string
	Seen     string
	SeenNote string
	From     string
	// Note is a dated fact or a caveat shown with the meaning.
	Note string
	// Quoted is the exact string the source shows when a client printed
	// the reply its own way (Python's (535, b'...') tuple, nodemailer's
	// "Invalid login: ..."); Lines are then the wire form rebuilt from it.
	Quoted string
	// Truncated: the source cut the reply off; Lines are what it shows,
	// and the Template may go on past them.
	Truncated bool

	match *regexp.Regexp // the text with its variable parts as wildcards
	extra *regexp.Regexp // an optional pattern for the reply's variants
	words int            // literal characters in the template, for ranking
}

// Text is the reply as seen, lines joined with newlines.
func (r Reply) Text() string { return strings.Join(r.Lines, "\n") }

// Provenance says where the text comes from, in one phrase.
func (r Reply) Provenance() string {
	switch {
	case r.Source != "" && r.SeenNote != "":
		return fmt.Sprintf("%s (%s %s)", r.Source, r.SeenNote, r.Seen)
	case r.Source != "":
		return fmt.Sprintf("%s (seen %s)", r.Source, r.Seen)
	case r.From == "rfc":
		return "written from the RFCs"
	default:
		return "written from memory: not seen verbatim in a public source"
	}
}

type entry struct {
	Name      string `yaml:"name"`
	Command   string `yaml:"command"`
	Text      string `yaml:"text"`
	Template  string `yaml:"template"`
	Quoted    string `yaml:"quoted"`
	Match     string `yaml:"match"`
	Truncated bool   `yaml:"truncated"`
	Cause     string `yaml:"cause"`
	Meaning   string `yaml:"meaning"`
	Fix       string `yaml:"fix"`
	Source    string `yaml:"source"`
	Seen      string `yaml:"seen"`
	SeenNote  string `yaml:"seen_note"`
	From      string `yaml:"from"`
	Note      string `yaml:"note"`
}

type file struct {
	Provider string  `yaml:"provider"`
	Replies  []entry `yaml:"replies"`
}

type catalogue struct {
	list   []Reply
	byName map[string]int
}

var load = sync.OnceValues(func() (*catalogue, error) { return parseFS(dataFiles) })

func lazyRE(expr string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })
}

func must() *catalogue {
	c, err := load()
	if err != nil {
		// The data is embedded and checked by the tests.
		panic(err)
	}
	return c
}

func parseFS(fs embed.FS) (*catalogue, error) {
	c := &catalogue{byName: map[string]int{}}
	names, err := fs.ReadDir("data")
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		name := path.Join("data", n.Name())
		b, err := fs.ReadFile(name)
		if err != nil {
			return nil, err
		}
		if err := c.parse(name, b); err != nil {
			return nil, err
		}
	}
	return c, nil
}

var (
	// Compiled on first use: the catalogue is linked into every run of
	// the command (fault plans name its replies), most of which never
	// read it.
	nameRE        = lazyRE(`^[a-z0-9]+(\.[a-z0-9_]+){2,}$`)
	placeholderRE = lazyRE(`\{[A-Za-z_]+(?::[0-9]{1,3})?\}`)
	urlRE         = lazyRE(`^https?://\S+$`)
)

func (c *catalogue) parse(name string, b []byte) error {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var f file
	if err := dec.Decode(&f); err != nil {
		return fmt.Errorf("replies: %s: %w", name, err)
	}
	brand := provider.Find(f.Provider)
	if brand == nil {
		return fmt.Errorf("replies: %s: provider %q is not in internal/provider's catalogue", name, f.Provider)
	}
	for i, e := range f.Replies {
		r, err := build(f.Provider, brand.Name, e)
		if err != nil {
			return fmt.Errorf("replies: %s: entry %d (%s): %w", name, i+1, e.Name, err)
		}
		if _, dup := c.byName[r.Name]; dup {
			return fmt.Errorf("replies: %s: %s is defined twice", name, r.Name)
		}
		c.byName[r.Name] = len(c.list)
		c.list = append(c.list, r)
	}
	return nil
}

func build(prov, brand string, e entry) (Reply, error) {
	r := Reply{
		Name: e.Name, Provider: prov, Brand: brand, Command: e.Command,
		Cause: strings.TrimSpace(e.Cause), Meaning: strings.TrimSpace(e.Meaning), Fix: strings.TrimSpace(e.Fix),
		Source: e.Source, Seen: e.Seen, SeenNote: e.SeenNote, From: e.From, Note: strings.TrimSpace(e.Note),
		Quoted: e.Quoted, Truncated: e.Truncated,
	}
	if !nameRE().MatchString(e.Name) || !strings.HasPrefix(e.Name, prov+".") {
		return r, fmt.Errorf("name: want %s.AREA.WHAT in lower case", prov)
	}
	if e.Command == "" || r.Meaning == "" || r.Fix == "" || r.Cause == "" {
		return r, fmt.Errorf("command, cause, meaning and fix are required")
	}
	if err := checkProvenance(e); err != nil {
		return r, err
	}
	r.Lines = strings.Split(strings.TrimRight(e.Text, "\n"), "\n")
	code, enh, err := wireForm(r.Lines)
	if err != nil {
		return r, fmt.Errorf("text: %w", err)
	}
	r.Code, r.Enhanced = code, enh
	if err := checkQuoted(r.Lines, e.Quoted); err != nil {
		return r, err
	}
	r.Template = strings.TrimRight(e.Template, "\n")
	if r.Template == "" {
		r.Template = r.Text()
	} else {
		tl := strings.Split(r.Template, "\n")
		tcode, tenh, err := wireForm(tl)
		if err != nil || tcode != code || tenh != enh {
			return r, fmt.Errorf("template: want the text's code and enhanced code on the wire (%v)", err)
		}
	}
	r.match, r.words = pattern(r.Template)
	if !fits(r) {
		return r, fmt.Errorf("template does not fit the text as seen: only the variable parts may differ")
	}
	if e.Match != "" {
		if r.extra, err = regexp.Compile("(?i)" + e.Match); err != nil {
			return r, fmt.Errorf("match: %w", err)
		}
		if !r.extra.MatchString(normalize(r.Lines)) {
			return r, fmt.Errorf("match: the pattern does not match the entry's own text")
		}
	}
	return r, nil
}

// fits reports whether the template says what the text as seen says,
// up to its variable parts; for a truncated text, up to where the text
// stops or the first variable part, whichever comes first.
func fits(r Reply) bool {
	seen := normalize(r.Lines)
	if !r.Truncated {
		return r.match.MatchString(seen)
	}
	fixed, _, _ := strings.Cut(normalize(strings.Split(placeholderRE().ReplaceAllString(r.Template, "\x00"), "\n")), "\x00")
	fixed = strings.TrimSpace(fixed)
	return strings.HasPrefix(fixed, seen) || strings.HasPrefix(seen, fixed)
}

func checkProvenance(e entry) error {
	switch {
	case e.Source != "" && e.From != "":
		return fmt.Errorf("give source (with seen) or from, not both")
	case e.Source != "":
		if !urlRE().MatchString(e.Source) && !strings.HasPrefix(e.Source, "RFC ") {
			return fmt.Errorf("source: want a public URL or a document (RFC ...)")
		}
		if _, err := time.Parse(time.DateOnly, e.Seen); err != nil {
			return fmt.Errorf("seen: want the date the text was seen, YYYY-MM-DD")
		}
		if e.SeenNote != "" && e.SeenNote != "page dated" && e.SeenNote != "read on" {
			return fmt.Errorf("seen_note: want \"page dated\" or \"read on\"")
		}
	case e.From == "rfc" || e.From == "memory":
		if e.Seen != "" || e.SeenNote != "" {
			return fmt.Errorf("seen is for texts with a source")
		}
	default:
		return fmt.Errorf("provenance: give source and seen, or from: rfc / from: memory")
	}
	return nil
}

// checkQuoted makes sure a reply rebuilt from a client's rendering says
// what the source says: each line's text (after its code) is in the
// quoted string, in order.
func checkQuoted(lines []string, quoted string) error {
	if quoted == "" {
		return nil
	}
	q := strings.Join(strings.Fields(strings.ReplaceAll(quoted, `\n`, " ")), " ")
	for i, l := range lines {
		t := strings.Join(strings.Fields(l[min(4, len(l)):]), " ")
		at := strings.Index(q, t)
		if c, ok := smtp.LeadingEnhancedCode(t); at < 0 && ok {
			// A source that shows the text without its codes.
			t = strings.TrimSpace(strings.TrimPrefix(t, c.String()))
			at = strings.Index(q, t)
		}
		if at < 0 {
			return fmt.Errorf("line %d of text is not in quoted: the rebuilt reply must say what the source says", i+1)
		}
		q = q[at+len(t):]
	}
	return nil
}

// wireForm checks lines as a reply on the wire ("NNN-" on every line
// but the last, one code throughout) and returns its code and enhanced
// code.
func wireForm(lines []string) (int, string, error) {
	code := 0
	for i, l := range lines {
		pl, err := smtp.ParseReplyLine([]byte(l))
		if err != nil {
			return 0, "", fmt.Errorf("line %d: %w", i+1, err)
		}
		if i == 0 {
			code = pl.Code
		} else if pl.Code != code {
			return 0, "", fmt.Errorf("line %d: code %d after %d", i+1, pl.Code, code)
		}
		if pl.More != (i < len(lines)-1) {
			return 0, "", fmt.Errorf("line %d: want NNN- on every line but the last, NNN on the last", i+1)
		}
	}
	rep := &smtp.Reply{Code: code, Lines: lines, Text: []string{lines[0][min(4, len(lines[0])):]}}
	return code, rep.EnhancedCode(), nil
}

// All is every entry, in the order of the data files.
func All() []Reply { return slices.Clone(must().list) }

// Lookup finds an entry by name.
func Lookup(name string) (Reply, bool) {
	c := must()
	i, ok := c.byName[name]
	if !ok {
		return Reply{}, false
	}
	return c.list[i], true
}

// Names lists every name, sorted.
func Names() []string {
	var out []string
	for _, r := range must().list {
		out = append(out, r.Name)
	}
	sort.Strings(out)
	return out
}

// Match finds the entries a reply text is, best first: the text as a
// server sent it (one or more lines, with or without the code), or any
// part of it long enough to tell. IDs, host names and addresses may
// differ from the catalogue's; the code, where given, must agree.
func Match(text string) []Reply { return match(text, true) }

// MatchWhole is Match without parts: the text must be a whole reply of
// the catalogue (its variable parts aside), or fit an entry's pattern for
// its variants. A generic text ("530 5.7.0 Must issue a STARTTLS command
// first", which Postfix sends too) is then not taken for a provider's.
func MatchWhole(text string) []Reply { return match(text, false) }

func match(text string, parts bool) []Reply {
	lines := splitLines(text)
	if len(lines) == 0 {
		return nil
	}
	code := 0
	if pl, err := smtp.ParseReplyLine([]byte(lines[0])); err == nil {
		code = pl.Code
	}
	norm := normalize(lines)
	type scored struct {
		r     Reply
		score int
	}
	var hits []scored
	for _, r := range must().list {
		if code != 0 && r.Code != code {
			continue
		}
		switch {
		case r.match.MatchString(norm):
			hits = append(hits, scored{r, 2000 + r.words})
		case r.Truncated && strings.HasPrefix(norm, normalize(r.Lines)):
			hits = append(hits, scored{r, 1500 + r.words})
		case r.extra != nil && r.extra.MatchString(norm):
			hits = append(hits, scored{r, 1000 + r.words})
		case parts && len(norm) >= 24 && partOf(norm, r):
			// A pasted part of a longer reply (the first line of Gmail's
			// three): the part must be at least a line's worth.
			hits = append(hits, scored{r, len(norm)})
		}
	}
	sort.SliceStable(hits, func(i, j int) bool { return hits[i].score > hits[j].score })
	var out []Reply
	for _, h := range hits {
		out = append(out, h.r)
	}
	return out
}

// partOf reports whether the pasted text, stripped of its code, is a
// stretch of the reply's fixed wording.
func partOf(norm string, r Reply) bool {
	fixed := normalize(strings.Split(placeholderRE().ReplaceAllString(r.Template, "\x00"), "\n"))
	norm = strings.TrimPrefix(norm, fmt.Sprint(r.Code)+" ")
	if r.Enhanced != "" {
		norm = strings.TrimSpace(strings.TrimPrefix(norm, r.Enhanced))
	}
	for _, part := range strings.Split(fixed, "\x00") {
		if len(norm) <= len(part) && strings.Contains(part, norm) {
			return true
		}
	}
	return false
}

func splitLines(text string) []string {
	var out []string
	for _, l := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// normalize turns reply lines into one lower-case string, "CODE text":
// the code once, the enhanced code once (Gmail repeats both on every
// line), single spaces.
func normalize(lines []string) string {
	var b strings.Builder
	code, enh := "", ""
	for i, l := range lines {
		l = strings.TrimSpace(l)
		if pl, err := smtp.ParseReplyLine([]byte(l)); err == nil {
			if i == 0 {
				code = l[:3]
			}
			l = string(pl.Text)
			if c, ok := smtp.LeadingEnhancedCode(l); ok {
				if i == 0 {
					enh = c.String()
				} else if c.String() == enh {
					l = strings.TrimSpace(l)[len(enh):]
				}
			}
		}
		b.WriteString(" ")
		b.WriteString(l)
	}
	s := strings.Join(strings.Fields(strings.ToLower(b.String())), " ")
	if code != "" {
		s = code + " " + s
	}
	return s
}

// pattern is a regexp that matches a normalized reply made from the
// template: literal parts as they are, placeholders as anything.
func pattern(template string) (*regexp.Regexp, int) {
	norm := normalize(strings.Split(placeholderRE().ReplaceAllString(template, "\x00"), "\n"))
	var b strings.Builder
	words := 0
	for i, part := range strings.Split(norm, "\x00") {
		if i > 0 {
			b.WriteString(".*?")
		}
		words += len(strings.TrimSpace(part))
		fields := strings.Fields(part)
		for j, f := range fields {
			if j > 0 {
				b.WriteString(`\s+`)
			}
			b.WriteString(regexp.QuoteMeta(f))
		}
	}
	return regexp.MustCompile(`^\s*` + b.String() + `\s*$`), words
}
