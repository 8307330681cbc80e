package explain

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/smtprun/smtprun/internal/provider"
	"github.com/smtprun/smtprun/internal/smtp"
	"go.yaml.in/yaml/v3"
)

//go:embed data/*.yaml
var dataFS embed.FS

// rec is the part every data entry shares.
type rec struct {
	Title  string `yaml:"title"`
	Text   string `yaml:"text"`
	Source string `yaml:"source"`
}

func (r rec) check() error {
	switch {
	case strings.TrimSpace(r.Title) == "":
		return errors.New("empty title")
	case strings.TrimSpace(r.Text) == "":
		return errors.New("empty text")
	case strings.TrimSpace(r.Source) == "":
		return errors.New("empty source")
	}
	return nil
}

func (r rec) entry(kind, topic, provider string) Entry {
	return Entry{Topic: topic, Title: r.Title, Text: r.Text, Source: r.Source, Kind: kind, Provider: provider}
}

// The shape of each data file. Decoding is strict: a field that is not
// declared here is an error.
type (
	commandsFile struct {
		Commands []struct {
			Verb string `yaml:"verb"`
			rec  `yaml:",inline"`
		} `yaml:"commands"`
	}
	mechanismsFile struct {
		Mechanisms []struct {
			Name string `yaml:"name"`
			rec  `yaml:",inline"`
		} `yaml:"mechanisms"`
	}
	classRec struct {
		Digit int    `yaml:"digit"`
		Note  string `yaml:"note"`
		rec   `yaml:",inline"`
	}
	digitRec struct {
		Digit int `yaml:"digit"`
		rec   `yaml:",inline"`
	}
	repliesFile struct {
		Classes    []classRec `yaml:"classes"`
		Categories []digitRec `yaml:"categories"`
		Replies    []struct {
			Code int `yaml:"code"`
			rec  `yaml:",inline"`
		} `yaml:"replies"`
	}
	providerCodeRec struct {
		Provider string `yaml:"provider"`
		Code     string `yaml:"code"`
		Pattern  string `yaml:"pattern"`
		rec      `yaml:",inline"`
	}
	enhancedFile struct {
		Classes  []classRec `yaml:"classes"`
		Subjects []digitRec `yaml:"subjects"`
		Details  []struct {
			Code string `yaml:"code"`
			rec  `yaml:",inline"`
		} `yaml:"details"`
		ProviderCodes []providerCodeRec `yaml:"provider_codes"`
	}
	keywordRec struct {
		Keyword string `yaml:"keyword"`
		Args    string `yaml:"args"`
		rec     `yaml:",inline"`
	}
	keywordsFile struct {
		Keywords []keywordRec `yaml:"keywords"`
	}
	parametersFile struct {
		Parameters []struct {
			Command string `yaml:"command"`
			Name    string `yaml:"name"`
			rec     `yaml:",inline"`
		} `yaml:"parameters"`
	}
	challengesFile struct {
		Challenges []struct {
			Topic string `yaml:"topic"`
			Match string `yaml:"match"`
			rec   `yaml:",inline"`
		} `yaml:"challenges"`
	}
	hintsFile struct {
		Hints []struct {
			ID       string   `yaml:"id"`
			Codes    []string `yaml:"codes"`
			Enhanced []string `yaml:"enhanced"`
			Pattern  string   `yaml:"pattern"`
			Provider string   `yaml:"provider"`
			Fallback bool     `yaml:"fallback"`
			Replaces []string `yaml:"replaces"`
			Text     string   `yaml:"text"`
			Source   string   `yaml:"source"`
		} `yaml:"hints"`
	}
)

// dataFiles maps each embedded file to the value it decodes into. Every
// file under data/ must be listed (a test checks it).
func dataFiles() map[string]any {
	return map[string]any{
		"commands.yaml":   &commandsFile{},
		"mechanisms.yaml": &mechanismsFile{},
		"replies.yaml":    &repliesFile{},
		"enhanced.yaml":   &enhancedFile{},
		"keywords.yaml":   &keywordsFile{},
		"parameters.yaml": &parametersFile{},
		"challenges.yaml": &challengesFile{},
		"hints.yaml":      &hintsFile{},
		"help.yaml":       &helpFile{}, // read by help.go
	}
}

// decodeStrict decodes one YAML document into out, rejecting unknown fields
// and trailing documents.
func decodeStrict(data []byte, out any) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(out); err != nil {
		return err
	}
	var extra any
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return errors.New("more than one YAML document")
	}
	return nil
}

// ---------------------------------------------------------------------
// The loaded knowledge base.

// detailKey is how the IANA registry lists a code's meaning, whatever
// its class: "X.7.8".
func detailKey(c smtp.EnhancedCode) string { return fmt.Sprintf("X.%d.%d", c.Subject, c.Detail) }

// enhPattern matches a hint's enhanced code; class -1 is any class ("X").
type enhPattern struct {
	class, subject, detail int
}

func (p enhPattern) match(c smtp.EnhancedCode) bool {
	return (p.class < 0 || p.class == c.Class) && p.subject == c.Subject && p.detail == c.Detail
}

type classInfo struct {
	Entry
	note string
}

type providerCode struct {
	rec
	provider string
	code     smtp.EnhancedCode
	re       *regexp.Regexp
}

type challenge struct {
	Entry
	re *regexp.Regexp
}

type hint struct {
	Hint
	codes    []smtp.CodePattern
	enhanced []enhPattern
	re       *regexp.Regexp
	provider string
	fallback bool
	replaces []string
}

type keyword struct {
	Entry
	args string
}

type kb struct {
	commands   map[string]Entry
	mechs      map[string]Entry
	replyClass map[int]classInfo
	replyCat   map[int]Entry
	replies    map[int]Entry
	enhClass   map[int]classInfo
	enhSubject map[int]Entry
	enhDetail  map[string]Entry
	provCodes  []providerCode
	keywords   map[string]keyword
	params     map[string]Entry // "MAIL SIZE"
	paramOrder []string
	challenges []challenge
	hints      []hint
	all        []Entry
}

var loadOnce = sync.OnceValues(func() (*kb, error) { return load(dataFS) })

// base returns the knowledge base. The data is embedded and checked by the
// tests, so a load error is a bug in the data files.
func base() *kb {
	k, err := loadOnce()
	if err != nil {
		panic("explain: " + err.Error())
	}
	return k
}

// ciRegexp compiles a data pattern, case-insensitive.
func ciRegexp(p string) (*regexp.Regexp, error) {
	return regexp.Compile("(?i)" + p)
}

// fsys is what load reads; the embedded data in production, a test
// directory in tests.
type fsys interface {
	ReadFile(name string) ([]byte, error)
}

func load(fs fsys) (*kb, error) {
	files := dataFiles()
	for name, v := range files {
		b, err := fs.ReadFile("data/" + name)
		if err != nil {
			return nil, err
		}
		if err := decodeStrict(b, v); err != nil {
			return nil, fmt.Errorf("data/%s: %w", name, err)
		}
	}
	k := &kb{
		commands:   map[string]Entry{},
		mechs:      map[string]Entry{},
		replyClass: map[int]classInfo{},
		replyCat:   map[int]Entry{},
		replies:    map[int]Entry{},
		enhClass:   map[int]classInfo{},
		enhSubject: map[int]Entry{},
		enhDetail:  map[string]Entry{},
		keywords:   map[string]keyword{},
		params:     map[string]Entry{},
	}
	l := &loader{k: k}
	l.commands(files["commands.yaml"].(*commandsFile))
	l.mechanisms(files["mechanisms.yaml"].(*mechanismsFile))
	l.replies(files["replies.yaml"].(*repliesFile))
	l.enhanced(files["enhanced.yaml"].(*enhancedFile))
	l.keywords(files["keywords.yaml"].(*keywordsFile))
	l.parameters(files["parameters.yaml"].(*parametersFile))
	l.challenges(files["challenges.yaml"].(*challengesFile))
	l.hints(files["hints.yaml"].(*hintsFile))
	if err := errors.Join(l.errs...); err != nil {
		return nil, err
	}
	return k, nil
}

// loader files the decoded data into a kb, collecting every problem so
// that one run reports them all.
type loader struct {
	k    *kb
	errs []error
}

func (l *loader) bad(file string, i int, what string, err error) {
	l.errs = append(l.errs, fmt.Errorf("data/%s: entry %d (%s): %w", file, i+1, what, err))
}

func (l *loader) fail(err error) { l.errs = append(l.errs, err) }

// commands files the commands of commands.yaml.
func (l *loader) commands(cf *commandsFile) {
	k := l.k
	for i, c := range cf.Commands {
		verb := strings.ToUpper(strings.TrimSpace(c.Verb))
		if err := c.check(); err != nil || verb == "" {
			l.bad("commands.yaml", i, c.Verb, errors.Join(err, errIf(verb == "", "empty verb")))
			continue
		}
		e := c.entry(KindCommand, verb, "")
		if err := put(k, k.commands, verb, e, e, "command"); err != nil {
			l.bad("commands.yaml", i, verb, err)
		}
	}
}

// mechanisms files the SASL mechanisms of mechanisms.yaml.
func (l *loader) mechanisms(mf *mechanismsFile) {
	k := l.k
	for i, m := range mf.Mechanisms {
		name := strings.ToUpper(strings.TrimSpace(m.Name))
		if err := m.check(); err != nil || name == "" {
			l.bad("mechanisms.yaml", i, m.Name, errors.Join(err, errIf(name == "", "empty name")))
			continue
		}
		e := m.entry(KindMechanism, name, "")
		if err := put(k, k.mechs, name, e, e, "mechanism"); err != nil {
			l.bad("mechanisms.yaml", i, name, err)
		}
	}
}

// replies files reply classes, categories and codes, and checks that
// every class and category RFC 5321 4.2.1 defines is there.
func (l *loader) replies(rf *repliesFile) {
	k := l.k
	for i, c := range rf.Classes {
		if err := errors.Join(c.check(), errIf(c.Note == "", "empty note"), errIf(c.Digit < 1 || c.Digit > 5, "digit out of range")); err != nil {
			l.bad("replies.yaml", i, "class", err)
			continue
		}
		e := c.entry(KindReplyClass, fmt.Sprintf("%dyz", c.Digit), "")
		if err := put(k, k.replyClass, c.Digit, classInfo{Entry: e, note: c.Note}, e, "class"); err != nil {
			l.bad("replies.yaml", i, "class", err)
		}
	}
	for i, c := range rf.Categories {
		if err := errors.Join(c.check(), errIf(c.Digit < 0 || c.Digit > 9, "digit out of range")); err != nil {
			l.bad("replies.yaml", i, "category", err)
			continue
		}
		e := c.entry(KindReplyCategory, fmt.Sprintf("x%dz", c.Digit), "")
		if err := put(k, k.replyCat, c.Digit, e, e, "category"); err != nil {
			l.bad("replies.yaml", i, "category", err)
		}
	}
	for i, r := range rf.Replies {
		if err := errors.Join(r.check(), errIf(r.Code < 200 || r.Code > 599, "code out of range")); err != nil {
			l.bad("replies.yaml", i, strconv.Itoa(r.Code), err)
			continue
		}
		e := r.entry(KindReply, strconv.Itoa(r.Code), "")
		if err := put(k, k.replies, r.Code, e, e, "reply code"); err != nil {
			l.bad("replies.yaml", i, strconv.Itoa(r.Code), err)
		}
	}
	for d := 2; d <= 5; d++ {
		if _, ok := k.replyClass[d]; !ok {
			l.fail(fmt.Errorf("data/replies.yaml: class %d missing", d))
		}
	}
	for d := 0; d <= 5; d++ {
		if _, ok := k.replyCat[d]; !ok {
			l.fail(fmt.Errorf("data/replies.yaml: category %d missing", d))
		}
	}
}

// enhanced files enhanced status classes, subjects, IANA details and
// provider meanings; details need their subject, provider codes their provider.
func (l *loader) enhanced(ef *enhancedFile) {
	k := l.k
	for i, c := range ef.Classes {
		if err := errors.Join(c.check(), errIf(c.Note == "", "empty note"), errIf(c.Digit != 2 && c.Digit != 4 && c.Digit != 5, "class must be 2, 4 or 5")); err != nil {
			l.bad("enhanced.yaml", i, "class", err)
			continue
		}
		e := c.entry(KindEnhancedClass, fmt.Sprintf("%d.X.X", c.Digit), "")
		if err := put(k, k.enhClass, c.Digit, classInfo{Entry: e, note: c.Note}, e, "class"); err != nil {
			l.bad("enhanced.yaml", i, "class", err)
		}
	}
	for _, d := range []int{2, 4, 5} {
		if _, ok := k.enhClass[d]; !ok {
			l.fail(fmt.Errorf("data/enhanced.yaml: class %d missing", d))
		}
	}
	for i, s := range ef.Subjects {
		if err := errors.Join(s.check(), errIf(s.Digit < 0 || s.Digit > 999, "subject out of range")); err != nil {
			l.bad("enhanced.yaml", i, "subject", err)
			continue
		}
		e := s.entry(KindEnhancedSubject, fmt.Sprintf("X.%d.X", s.Digit), "")
		if err := put(k, k.enhSubject, s.Digit, e, e, "subject"); err != nil {
			l.bad("enhanced.yaml", i, "subject", err)
		}
	}
	for i, d := range ef.Details {
		code := strings.TrimSpace(d.Code)
		p, ok := parseEnhPattern(code)
		if err := errors.Join(d.check(), errIf(!ok || p.class >= 0, "code must look like X.7.8")); err != nil {
			l.bad("enhanced.yaml", i, d.Code, err)
			continue
		}
		if _, ok := k.enhSubject[p.subject]; !ok {
			l.bad("enhanced.yaml", i, code, errors.New("subject not defined under subjects"))
			continue
		}
		e := d.entry(KindEnhanced, code, "")
		if err := put(k, k.enhDetail, code, e, e, "detail"); err != nil {
			l.bad("enhanced.yaml", i, code, err)
		}
	}
	seenPC := map[string]bool{}
	for i, p := range ef.ProviderCodes {
		c, ok := parseEnhanced(p.Code)
		prov := strings.ToLower(strings.TrimSpace(p.Provider))
		if err := errors.Join(p.check(), errIf(!ok, "malformed code"), errIf(k.providerNamed(prov) == "", "unknown provider")); err != nil {
			l.bad("enhanced.yaml", i, p.Provider+" "+p.Code, err)
			continue
		}
		key := prov + " " + c.String()
		if seenPC[key] {
			l.bad("enhanced.yaml", i, key, errors.New("duplicate provider code"))
			continue
		}
		seenPC[key] = true
		pc := providerCode{rec: p.rec, provider: prov, code: c}
		if p.Pattern != "" {
			re, err := ciRegexp(p.Pattern)
			if err != nil {
				l.bad("enhanced.yaml", i, key, err)
				continue
			}
			pc.re = re
		}
		k.provCodes = append(k.provCodes, pc)
		k.all = append(k.all, k.providerEntry(pc))
	}
}

// keywords files the EHLO keywords of keywords.yaml.
func (l *loader) keywords(kf *keywordsFile) {
	k := l.k
	for i, kw := range kf.Keywords {
		name := strings.ToUpper(strings.Join(strings.Fields(kw.Keyword), " "))
		validArgs := kw.Args == "" || kw.Args == argBytes || kw.Args == argMechanisms || kw.Args == argSeconds || kw.Args == argList
		if err := errors.Join(kw.check(), errIf(name == "", "empty keyword"), errIf(!validArgs, "args must be bytes, mechanisms, seconds or list")); err != nil {
			l.bad("keywords.yaml", i, kw.Keyword, err)
			continue
		}
		e := kw.entry(KindKeyword, name, "")
		if err := put(k, k.keywords, name, keyword{Entry: e, args: kw.Args}, e, "keyword"); err != nil {
			l.bad("keywords.yaml", i, name, err)
		}
	}
}

// parameters files the MAIL and RCPT parameters, in file order.
func (l *loader) parameters(paf *parametersFile) {
	k := l.k
	for i, p := range paf.Parameters {
		cmd := strings.ToUpper(strings.TrimSpace(p.Command))
		name := strings.ToUpper(strings.TrimSpace(p.Name))
		if err := errors.Join(p.check(), errIf(cmd != "MAIL" && cmd != "RCPT", "command must be MAIL or RCPT"), errIf(name == "" || strings.Contains(name, "="), "name must be given without =")); err != nil {
			l.bad("parameters.yaml", i, p.Name, err)
			continue
		}
		topic := cmd + " " + name
		e := p.entry(KindParameter, topic, "")
		if err := put(k, k.params, topic, e, e, "parameter"); err != nil {
			l.bad("parameters.yaml", i, topic, err)
			continue
		}
		k.paramOrder = append(k.paramOrder, topic)
	}
}

// challenges files the decoded 334 challenges and their patterns.
func (l *loader) challenges(chf *challengesFile) {
	k := l.k
	seenCh := map[string]bool{}
	for i, c := range chf.Challenges {
		re, err := ciRegexp(c.Match)
		if err = errors.Join(c.check(), err, errIf(c.Topic == "", "empty topic"), errIf(c.Match == "", "empty match"), errIf(seenCh[c.Topic], "duplicate topic")); err != nil {
			l.bad("challenges.yaml", i, c.Topic, err)
			continue
		}
		seenCh[c.Topic] = true
		e := c.entry(KindChallenge, c.Topic, "")
		k.challenges = append(k.challenges, challenge{Entry: e, re: re})
		k.all = append(k.all, e)
	}
}

// hints files the hints, then checks that what each replaces exists.
func (l *loader) hints(hf *hintsFile) {
	k := l.k
	seenHint := map[string]bool{}
	for i, h := range hf.Hints {
		var herrs []error
		herrs = append(herrs, errIf(h.ID == "", "empty id"), errIf(seenHint[h.ID], "duplicate id"),
			errIf(strings.TrimSpace(h.Text) == "", "empty text"), errIf(strings.TrimSpace(h.Source) == "", "empty source"),
			errIf(len(h.Codes) == 0 && len(h.Enhanced) == 0 && h.Pattern == "", "needs codes, enhanced or pattern"))
		x := hint{Hint: Hint{ID: h.ID, Text: h.Text, Source: h.Source}, fallback: h.Fallback, replaces: h.Replaces}
		for _, c := range h.Codes {
			p, err := smtp.ParseCodePattern(strings.TrimSpace(c))
			herrs = append(herrs, err)
			x.codes = append(x.codes, p)
		}
		for _, e := range h.Enhanced {
			p, ok := parseEnhPattern(e)
			herrs = append(herrs, errIf(!ok, "bad enhanced code "+strconv.Quote(e)))
			x.enhanced = append(x.enhanced, p)
		}
		if h.Pattern != "" {
			re, err := ciRegexp(h.Pattern)
			herrs = append(herrs, err)
			x.re = re
		}
		if h.Provider != "" {
			x.provider = k.providerNamed(h.Provider)
			herrs = append(herrs, errIf(x.provider == "", "unknown provider "+strconv.Quote(h.Provider)))
		}
		if err := errors.Join(herrs...); err != nil {
			l.bad("hints.yaml", i, h.ID, err)
			continue
		}
		seenHint[h.ID] = true
		k.hints = append(k.hints, x)
	}

	for _, h := range k.hints {
		for _, r := range h.replaces {
			if !seenHint[r] || r == h.ID {
				l.fail(fmt.Errorf("data/hints.yaml: %s: replaces unknown hint %q", h.ID, r))
			}
		}
	}
}

func errIf(cond bool, msg string) error {
	if cond {
		return errors.New(msg)
	}
	return nil
}

// parseEnhPattern parses a hint's enhanced code: "5.7.139" or "X.3.4".
func parseEnhPattern(s string) (enhPattern, bool) {
	s = strings.TrimSpace(s)
	if rest, ok := strings.CutPrefix(s, "X."); ok {
		c, ok := parseEnhanced("5." + rest)
		return enhPattern{class: -1, subject: c.Subject, detail: c.Detail}, ok
	}
	c, ok := parseEnhanced(s)
	return enhPattern{class: c.Class, subject: c.Subject, detail: c.Detail}, ok
}

// providerNamed returns the canonical provider (internal/provider's
// catalogue) for a name, an alias, a submission host, or a host name or
// text its detect pattern recognizes; "" if none.
func (k *kb) providerNamed(s string) string {
	if p := provider.Find(s); p != nil {
		return p.Name
	}
	return ""
}

func (k *kb) detectProvider(text string) string {
	if p := provider.Detect(text); p != nil {
		return p.Name
	}
	return ""
}

func (k *kb) providerTitle(name string) string {
	if p := provider.Named(name); p != nil {
		return p.Title
	}
	return name
}

// put files v under key in m and its entry e in the list of all entries;
// a key already taken is a duplicate of what.
func put[K comparable, V any](k *kb, m map[K]V, key K, v V, e Entry, what string) error {
	if _, dup := m[key]; dup {
		return errors.New("duplicate " + what)
	}
	m[key] = v
	k.all = append(k.all, e)
	return nil
}
