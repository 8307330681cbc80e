package explain

import (
	"strings"
	"testing"

	"github.com/smtprun/smtprun/internal/replies"
)

// TestCatalogueRepliesExplained: every catalogue reply, pasted as it was
// seen, is explained first with its provider's meaning and source, and
// its fix is among the hints.
func TestCatalogueRepliesExplained(t *testing.T) {
	for _, r := range replies.All() {
		t.Run(r.Name, func(t *testing.T) {
			es, hs, err := Lookup(r.Text())
			if err != nil {
				t.Fatal(err)
			}
			first := es[0]
			if first.Kind != KindProviderReply || first.Provider != r.Brand {
				t.Fatalf("first entry %s %s (%s), want the provider reply", first.Kind, first.Topic, first.Provider)
			}
			got, _ := replies.Lookup(first.Topic)
			if got.Template != r.Template {
				t.Fatalf("explained as %s, want %s", first.Topic, r.Name)
			}
			if !strings.Contains(first.Text, got.Meaning) || first.Source != got.Provenance() {
				t.Errorf("entry %+v lacks the meaning or the source", first)
			}
			fixed := false
			for _, h := range hs {
				fixed = fixed || h.Text == got.Fix
			}
			if !fixed {
				t.Errorf("hints %+v lack the fix %q", hs, got.Fix)
			}
		})
	}
}

// TestMisreadingsFixed: the replies explain used to misread.
func TestMisreadingsFixed(t *testing.T) {
	tests := []struct{ reply, notWant string }{
		{"534-5.7.14 Please log in via your web browser and then try again.", "another AUTH mechanism"},
		{"534-5.7.9 Please log in with your web browser and then try again. Learn more at\n534 5.7.9  https://support.google.com/mail/?p=WebLoginRequired x - gsmtp", "Application-specific password required"},
		{"550 5.7.30 Basic authentication is not supported for Client Submission.", "has retired password logins"},
	}
	for _, tt := range tests {
		es, hs, err := Lookup(tt.reply)
		if err != nil {
			t.Fatal(err)
		}
		var all strings.Builder
		for _, e := range es {
			all.WriteString(e.Title + " " + e.Text + "\n")
		}
		for _, h := range hs {
			all.WriteString(h.Text + "\n")
		}
		if strings.Contains(all.String(), tt.notWant) {
			t.Errorf("%q is still explained as %q:\n%s", tt.reply, tt.notWant, all.String())
		}
	}
	// The basic-auth hint states MC786329 with its date.
	_, hs, _ := Lookup("550 5.7.30 Basic authentication is not supported for Client Submission.")
	if len(hs) == 0 || !strings.Contains(hs[0].Text, "MC786329 (updated 27 Jan 2026)") {
		t.Errorf("hints %+v", hs)
	}
}

// TestGenericTextIsNotAProvidersReply: Postfix's wording, which one
// catalogue provider shares, is not claimed for that provider.
func TestGenericTextIsNotAProvidersReply(t *testing.T) {
	es, _, _ := Lookup("530 5.7.0 Must issue a STARTTLS command first")
	if es[0].Kind == KindProviderReply {
		t.Errorf("a generic reply was taken for %s", es[0].Topic)
	}
}
