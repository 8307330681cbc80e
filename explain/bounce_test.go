package explain

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// TestBounceFixtures: each constructed bounce (testdata/bounce) gives
// the replies its golden file lists, each explained.
func TestBounceFixtures(t *testing.T) {
	files, _ := filepath.Glob("testdata/bounce/*.eml")
	more, _ := filepath.Glob("testdata/bounce/*.txt")
	files = append(files, more...)
	if len(files) < 6 {
		t.Fatalf("fixtures: %v", files)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			f, err := os.Open(file)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			found, err := ParseBounce(f)
			if err != nil {
				t.Fatal(err)
			}
			got := renderFound(ExplainFound(found))
			golden := strings.TrimSuffix(file, filepath.Ext(file)) + ".golden"
			if *update {
				os.WriteFile(golden, []byte(got), 0o644)
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("got\n%s\nwant\n%s", got, want)
			}
		})
	}
}

func renderFound(ex []Explained) string {
	var b strings.Builder
	for _, e := range ex {
		fmt.Fprintf(&b, "reply: %q\nstatus: %s\nrecipient: %s\nfound in: %s\n", e.Reply, e.Status, e.Recipient, e.Where)
		for _, en := range e.Entries {
			fmt.Fprintf(&b, "  %s %s\n", en.Kind, en.Topic)
		}
		b.WriteString("\n")
	}
	return b.String()
}

func TestFindRepliesForms(t *testing.T) {
	tests := []struct {
		name, in string
		want     []Found
	}{
		{"diagnostic code", "Diagnostic-Code: smtp; 550 5.1.1 <bob@example.com>: Recipient address rejected: User unknown",
			[]Found{{Reply: "550 5.1.1 <bob@example.com>: Recipient address rejected: User unknown", Where: "Diagnostic-Code"}}},
		{"status alone", "Status: 5.1.1", []Found{{Status: "5.1.1", Where: "Status"}}},
		{"outlook", "Remote Server returned '550 5.1.1 RESOLVER.ADR.RecipNotFound; not found'",
			[]Found{{Reply: "550 5.1.1 RESOLVER.ADR.RecipNotFound; not found", Where: "Remote Server returned"}}},
		{"multi-line reply", "535-5.7.8 Username and Password not accepted. For more information, go to\n535 5.7.8  https://support.google.com/mail/?p=BadCredentials x - gsmtp",
			[]Found{{Reply: "535-5.7.8 Username and Password not accepted. For more information, go to\n535 5.7.8  https://support.google.com/mail/?p=BadCredentials x - gsmtp", Where: "reply"}}},
		{"several replies", "530 5.7.0 Must issue a STARTTLS command first\n\n535 5.7.3 Authentication unsuccessful",
			[]Found{{Reply: "530 5.7.0 Must issue a STARTTLS command first", Where: "reply"}, {Reply: "535 5.7.3 Authentication unsuccessful", Where: "reply"}}},
		{"joined by a client", "Diagnostic-Code: smtp; 550-5.1.1 a 550-5.1.1 b 550 5.1.1 c",
			[]Found{{Reply: "550-5.1.1 a\n550-5.1.1 b\n550 5.1.1 c", Where: "Diagnostic-Code"}}},
		{"nothing", "hello world", nil},
		{"a bare code", "250", []Found{{Reply: "250", Where: "reply"}}},
		{"a bare code with a hyphen", "250-", []Found{{Reply: "250-", Where: "reply"}}},
	}
	for _, tt := range tests {
		got := FindReplies(tt.in)
		if fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("%s: FindReplies = %+v, want %+v", tt.name, got, tt.want)
		}
	}
}

func TestParseBounceLimits(t *testing.T) {
	big := strings.NewReader(strings.Repeat("x", MaxBounceBytes+1))
	if _, err := ParseBounce(big); err == nil {
		t.Error("a message over the limit was read")
	}
	var nested strings.Builder
	nested.WriteString("MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b0\n\n")
	for i := range 10 {
		fmt.Fprintf(&nested, "--b%d\nContent-Type: multipart/mixed; boundary=b%d\n\n", i, i+1)
	}
	if _, err := ParseBounce(strings.NewReader(nested.String())); err == nil || !strings.Contains(err.Error(), "nested") {
		t.Errorf("deep nesting: err = %v", err)
	}
}

// FuzzFindReplies: no input makes FindReplies or ParseBounce panic or
// loop.
func FuzzFindReplies(f *testing.F) {
	for _, s := range []string{"250", "250-", "550-5.1.1 a\n550 5.1.1 b", "Diagnostic-Code: smtp; 550-5.1.1 a 550", "Status: 5.1.1\n", "Remote Server returned '"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		FindReplies(s)
		splitJoined(s)
		ParseBounce(strings.NewReader(s))
	})
}
