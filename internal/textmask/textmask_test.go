package textmask

import "testing"

func TestReplaceFold(t *testing.T) {
	for _, tc := range []struct {
		s, old string
		word   bool
		want   string
	}{
		{"token EWBABC refused", "EwBAbc", false, "token * refused"},
		{"a%2fb and A%2FB", "a%2Fb", false, "* and *"},
		{"client_secret=abc, abcdef, xabc, abc-1", "abc", true, "client_secret=*, abcdef, xabc, *-1"},
		{"abc", "abc", true, "*"},
		{"nothing here", "abc", false, "nothing here"},
		{"short", "longer than it", false, "short"},
	} {
		if got, _ := ReplaceFold(tc.s, tc.old, "*", tc.word); got != tc.want {
			t.Errorf("ReplaceFold(%q, %q, %v) = %q, want %q", tc.s, tc.old, tc.word, got, tc.want)
		}
	}
}
