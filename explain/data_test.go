package explain

import (
	"io/fs"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
)

// embeddedMap copies the embedded data files into a MapFS that tests can
// alter.
func embeddedMap(t *testing.T) fstest.MapFS {
	t.Helper()
	m := fstest.MapFS{}
	entries, err := fs.ReadDir(dataFS, "data")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := dataFS.ReadFile("data/" + e.Name())
		if err != nil {
			t.Fatal(err)
		}
		m["data/"+e.Name()] = &fstest.MapFile{Data: b}
	}
	return m
}

func TestLoad(t *testing.T) {
	if _, err := load(dataFS); err != nil {
		t.Fatalf("embedded data does not load:\n%v", err)
	}
}

func TestEveryDataFileIsDecoded(t *testing.T) {
	entries, err := fs.ReadDir(dataFS, "data")
	if err != nil {
		t.Fatal(err)
	}
	known := dataFiles()
	for _, e := range entries {
		if _, ok := known[e.Name()]; !ok {
			t.Errorf("data/%s is embedded but never decoded: add it to dataFiles", e.Name())
		}
	}
	if len(entries) != len(known) {
		t.Errorf("%d files under data/, %d in dataFiles", len(entries), len(known))
	}
}

var reFirstItem = regexp.MustCompile(`(?m)^  - [a-z_]+:.*\n`)

// Every file decodes strictly: the same file with an unknown field, in a
// list item or at the top level, is an error.
func TestDataFilesParseStrictly(t *testing.T) {
	for name, v := range dataFiles() {
		b, err := dataFS.ReadFile("data/" + name)
		if err != nil {
			t.Fatal(err)
		}
		if err := decodeStrict(b, v); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		loc := reFirstItem.FindIndex(b)
		if loc == nil {
			t.Fatalf("%s: no list item found", name)
		}
		nested := string(b[:loc[1]]) + "    bogus_field: 1\n" + string(b[loc[1]:])
		if err := decodeStrict([]byte(nested), dataFiles()[name]); err == nil || !strings.Contains(err.Error(), "bogus_field") {
			t.Errorf("%s: unknown field in an entry not rejected (err %v)", name, err)
		}
		top := string(b) + "\nbogus_top: 1\n"
		if err := decodeStrict([]byte(top), dataFiles()[name]); err == nil {
			t.Errorf("%s: unknown top-level field not rejected", name)
		}
		two := string(b) + "\n---\n" + string(b)
		if err := decodeStrict([]byte(two), dataFiles()[name]); err == nil {
			t.Errorf("%s: second YAML document not rejected", name)
		}
	}
}

// load refuses data with missing fields, duplicates or bad patterns.
func TestLoadRejectsBadData(t *testing.T) {
	cases := []struct {
		file, from, to, want string
	}{
		{"commands.yaml", "source: RFC 5321 4.1.1.10", "source: \"\"", "empty source"},
		{"commands.yaml", "  - verb: HELO", "  - verb: EHLO", "duplicate command"},
		{"replies.yaml", "  - code: 535", "  - code: 250", "duplicate reply code"},
		{"replies.yaml", "  - code: 556", "  - code: 656", "code out of range"},
		{"enhanced.yaml", "  - code: X.7.30", "  - code: X.7.030", "code must look like"},
		{"enhanced.yaml", "  - provider: google", "  - provider: nobody", "unknown provider"},
		{"keywords.yaml", "    args: seconds", "    args: minutes", "args must be"},
		{"hints.yaml", "pattern: '#AUTH005'", "pattern: '#AUTH(005'", "missing closing )"},
		{"hints.yaml", `codes: ["538"]`, `codes: ["5385"]`, "a reply code has three digits"},
		{"hints.yaml", "  - id: closing", "  - id: bare-lf", "duplicate id"},
		{"hints.yaml", "replaces: [auth-required]", "replaces: [no-such-hint]", "replaces unknown hint"},
		{"challenges.yaml", `match: '^$'`, `match: ''`, "empty match"},
		{"parameters.yaml", "  - command: RCPT\n    name: NOTIFY", "  - command: DATA\n    name: NOTIFY", "command must be MAIL or RCPT"},
	}
	for _, c := range cases {
		m := embeddedMap(t)
		f := m["data/"+c.file]
		s := string(f.Data)
		if !strings.Contains(s, c.from) {
			t.Fatalf("%s: %q not found; update the test", c.file, c.from)
		}
		f.Data = []byte(strings.Replace(s, c.from, c.to, 1))
		_, err := load(m)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %q -> %q: got error %v, want one containing %q", c.file, c.from, c.to, err, c.want)
		}
	}
}

func TestEntriesAreComplete(t *testing.T) {
	seen := map[string]bool{}
	for _, e := range All() {
		key := e.Kind + "|" + strings.ToUpper(e.Topic) + "|" + e.Provider
		if seen[key] {
			t.Errorf("duplicate topic %s %q (provider %q)", e.Kind, e.Topic, e.Provider)
		}
		seen[key] = true
		if e.Topic == "" || e.Kind == "" || strings.TrimSpace(e.Title) == "" || strings.TrimSpace(e.Text) == "" || strings.TrimSpace(e.Source) == "" {
			t.Errorf("incomplete entry %+v", e)
		}
		// Short texts for learners: one or two sentences.
		if e.Provider == "" && len(e.Text) > 260 {
			t.Errorf("%s %s: text is %d bytes; keep it to one or two short sentences", e.Kind, e.Topic, len(e.Text))
		}
	}
	for _, h := range base().hints {
		if h.ID == "" || strings.TrimSpace(h.Text) == "" || strings.TrimSpace(h.Source) == "" {
			t.Errorf("incomplete hint %+v", h.Hint)
		}
		if len(h.Text) > 260 {
			t.Errorf("hint %s: text is %d bytes; keep it to one or two lines", h.ID, len(h.Text))
		}
	}
}

func TestAllReturnsACopy(t *testing.T) {
	a := All()
	a[0].Text = "changed"
	if All()[0].Text == "changed" {
		t.Fatal("All exposes the knowledge base")
	}
}

// The contents the teaching mode relies on are all there.
func TestRequiredContent(t *testing.T) {
	have := map[string]bool{}
	for _, e := range All() {
		have[e.Kind+" "+e.Topic+" "+e.Provider] = true
	}
	need := func(kind, provider string, topics ...string) {
		t.Helper()
		for _, topic := range topics {
			if !have[kind+" "+topic+" "+provider] {
				t.Errorf("missing %s %q %s", kind, topic, provider)
			}
		}
	}
	need(KindCommand, "", "EHLO", "HELO", "STARTTLS", "AUTH", "MAIL", "RCPT", "DATA", "BDAT", "RSET", "NOOP", "VRFY", "EXPN", "HELP", "QUIT")
	need(KindMechanism, "", "PLAIN", "LOGIN", "CRAM-MD5", "XOAUTH2", "OAUTHBEARER")
	need(KindReply, "", "211", "214", "220", "221", "235", "250", "251", "252", "334", "354", "421", "432", "450", "451",
		"452", "454", "455", "500", "501", "502", "503", "504", "521", "530", "534", "535", "538", "550", "551", "552",
		"553", "554", "555", "556")
	need(KindReplyClass, "", "2yz", "3yz", "4yz", "5yz")
	need(KindReplyCategory, "", "x0z", "x1z", "x2z", "x3z", "x4z", "x5z")
	need(KindEnhancedClass, "", "2.X.X", "4.X.X", "5.X.X")
	need(KindEnhancedSubject, "", "X.0.X", "X.1.X", "X.2.X", "X.3.X", "X.4.X", "X.5.X", "X.6.X", "X.7.X")
	for _, r := range []struct{ subject, last int }{{1, 10}, {2, 4}, {3, 5}, {4, 7}, {5, 6}, {6, 10}, {7, 30}} {
		for d := 0; d <= r.last; d++ {
			need(KindEnhanced, "", "X."+strconv.Itoa(r.subject)+"."+strconv.Itoa(d))
		}
	}
	need(KindEnhanced, "", "X.0.0")
	need(KindEnhanced, "microsoft", "5.7.57", "5.7.139", "5.7.3")
	need(KindEnhanced, "google", "5.7.9", "5.7.8")
	need(KindKeyword, "", "SIZE", "PIPELINING", "8BITMIME", "SMTPUTF8", "CHUNKING", "BINARYMIME", "DSN",
		"ENHANCEDSTATUSCODES", "STARTTLS", "AUTH", "AUTH=", "REQUIRETLS", "VRFY", "ETRN", "DELIVERBY", "MT-PRIORITY",
		"RRVS", "XCLIENT", "XFORWARD", "8 BITMIME")
}

func TestHelp(t *testing.T) {
	if _, err := loadHelp(dataFS); err != nil {
		t.Fatal(err)
	}
	got, ok := Help("connection-refused", "port", "2525")
	if !ok || !strings.Contains(got, "port 2525 there") {
		t.Errorf("Help(connection-refused) = %q, %v", got, ok)
	}
	if _, ok := Help("no-such-code"); ok {
		t.Error("an unknown code has help")
	}
}
