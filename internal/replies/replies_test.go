package replies

import (
	"strings"
	"testing"
)

// TestCatalogueLoads checks every data file: names, wire form,
// provenance, templates that fit the text as seen (parse does it; a
// failure names the entry).
func TestCatalogueLoads(t *testing.T) {
	c, err := load()
	if err != nil {
		t.Fatal(err)
	}
	if len(c.list) == 0 {
		t.Fatal("empty catalogue")
	}
}

// TestEveryEntryHasProvenance: a source with the date it was seen, or a
// from: marker, for every entry.
func TestEveryEntryHasProvenance(t *testing.T) {
	for _, r := range All() {
		switch {
		case r.Source != "" && r.Seen != "":
		case r.From == "rfc" || r.From == "memory":
		default:
			t.Errorf("%s: no source and no from: marker", r.Name)
		}
	}
}

// TestMatchFindsEachEntry: each entry's own text, as seen, matches the
// entry first among those of its code and wording; and with its IDs
// changed, it still does.
func TestMatchFindsEachEntry(t *testing.T) {
	for _, r := range All() {
		t.Run(r.Name, func(t *testing.T) {
			got := Match(r.Text())
			if len(got) == 0 || !sameText(got[0], r) {
				t.Fatalf("Match(own text) = %v, want %s first", names(got), r.Name)
			}
		})
	}
}

func sameText(a, b Reply) bool { return a.Name == b.Name || a.Template == b.Template }

func names(rs []Reply) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Name)
	}
	return out
}

func TestMatchIgnoresIDs(t *testing.T) {
	tests := []struct{ text, want string }{
		{"535-5.7.8 Username and Password not accepted. For more information, go to\n535 5.7.8  https://support.google.com/mail/?p=BadCredentials 5b1f17b1804b1-43e8a2c7d55sm12345678f8f.12 - gsmtp", "gmail.auth.bad_credentials"},
		{"535 5.7.3 Authentication unsuccessful [AM0PR02CA0001.eurprd02.prod.outlook.com 2026-11-30T10:00:00.000Z 08DC0123456789AB]", "office365.auth.unsuccessful"},
		// A part of a longer reply, as a client shows it.
		{"Username and Password not accepted. For more information, go to", "gmail.auth.bad_credentials"},
	}
	for _, tt := range tests {
		got := Match(tt.text)
		if len(got) == 0 || got[0].Name != tt.want {
			t.Errorf("Match(%q) = %v, want %s first", tt.text, names(got), tt.want)
		}
	}
}

func TestMatchNeedsTheSameCode(t *testing.T) {
	if got := Match("550 5.7.3 Authentication unsuccessful"); len(got) != 0 {
		t.Errorf("a 550 matched 535 entries: %v", names(got))
	}
}

func TestLookup(t *testing.T) {
	r, ok := Lookup("gmail.auth.bad_credentials")
	if !ok || r.Code != 535 || r.Enhanced != "5.7.8" || r.Brand != "google" {
		t.Fatalf("Lookup = %+v, %v", r, ok)
	}
	if _, ok := Lookup("gmail.nothing.here"); ok {
		t.Error("Lookup found a name that is not there")
	}
}

// TestBadEntriesAreRefused: the checks that keep the data honest.
func TestBadEntriesAreRefused(t *testing.T) {
	good := entry{Name: "gmail.auth.x", Command: "AUTH", Text: "535 5.7.8 No", Cause: "c", Meaning: "m", Fix: "f", From: "memory"}
	tests := []struct {
		name   string
		change func(*entry)
		want   string
	}{
		{"no provenance", func(e *entry) { e.From = "" }, "provenance"},
		{"source without date", func(e *entry) { e.From, e.Source = "", "https://example.com/x" }, "seen"},
		{"both", func(e *entry) { e.Source, e.Seen = "https://example.com/x", "2024-01-01" }, "not both"},
		{"bad wire form", func(e *entry) { e.Text = "535 a\n535 b" }, "NNN-"},
		{"template that does not fit", func(e *entry) { e.Template = "535 5.7.8 Yes {session}" }, "does not fit"},
		{"quoted that does not say it", func(e *entry) { e.Quoted = "(535, b'5.7.8 Yes')" }, "quoted"},
		{"name of another provider", func(e *entry) { e.Name = "yahoo.auth.x" }, "name"},
	}
	if _, err := build("gmail", "google", good); err != nil {
		t.Fatalf("the good entry: %v", err)
	}
	for _, tt := range tests {
		e := good
		tt.change(&e)
		_, err := build("gmail", "google", e)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want one saying %q", tt.name, err, tt.want)
		}
	}
}
