package suggest

import "testing"

var keywords = []string{"connect", "send", "expect", "starttls", "auth", "message", "quit", "raw", "note"}

func TestSuggest(t *testing.T) {
	for word, want := range map[string]string{
		"startls": "starttls", "STARTTLS": "starttls", "expcet": "expect", "conect": "connect",
		"mesage": "message", "qiut": "quit", "frobnicate": "", "sned": "send",
	} {
		if got := Closest(word, keywords); got != want {
			t.Errorf("Closest(%q) = %q, want %q", word, got, want)
		}
	}
}
