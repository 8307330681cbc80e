package explain

import (
	"strings"
	"testing"
)

// The knowledge base covers what OAuth logins meet: the mechanisms, the
// JSON challenge, Exchange's 5.7.30, and OAuth advice for 5.7.139 and 5.7.3.
func TestOAuthKnowledge(t *testing.T) {
	for _, tc := range []struct {
		arg, entry, hint string
	}{
		{"XOAUTH2", "access token", ""},
		{"OAUTHBEARER", "GS2 header", ""},
		{`{"status":"401","schemes":"bearer","scope":"https://mail.google.com/"}`, "empty line (XOAUTH2) or a single ^A byte", ""},
		{"334 eyJzdGF0dXMiOiI0MDAiLCJzY2hlbWVzIjoiQmVhcmVyIiwic2NvcGUiOiJodHRwczovL21haWwuZ29vZ2xlLmNvbS8ifQ==", "OAuth token", ""},
		{"550 5.7.30 Basic authentication is not supported for Client Submission.", "OAuth 2.0", "o365-basic-auth-retired"},
		{"535 5.7.139 Authentication unsuccessful, basic authentication is disabled.", "OAuth 2.0", "o365-basic-auth-disabled"},
		{"535 5.7.3 Authentication unsuccessful", "SMTP.Send", "o365-auth-unsuccessful"},
	} {
		entries, hints, err := Lookup(tc.arg)
		if err != nil {
			t.Errorf("%s: %v", tc.arg, err)
			continue
		}
		var text strings.Builder
		for _, e := range entries {
			text.WriteString(e.Text + "\n")
		}
		if !strings.Contains(text.String(), tc.entry) {
			t.Errorf("%s: entries lack %q:\n%s", tc.arg, tc.entry, text.String())
		}
		if tc.hint != "" && (len(hints) == 0 || hints[0].ID != tc.hint) {
			t.Errorf("%s: hints %+v, want %s first", tc.arg, hints, tc.hint)
		}
	}
}
