package smtp

import "testing"

func TestCodePattern(t *testing.T) {
	for _, tc := range []struct {
		pat      string
		code     int
		want     bool
		parseErr bool
	}{
		{"250", 250, true, false},
		{"250", 251, false, false},
		{"25x", 251, true, false},
		{"25X", 259, true, false},
		{"2xx", 221, true, false},
		{"2xx", 354, false, false},
		{"2x0", 0, false, true},
		{"999", 0, false, true},
		{"25", 0, false, true},
		{"2a0", 0, false, true},
		{"150", 0, false, true},
	} {
		p, err := ParseCodePattern(tc.pat)
		if (err != nil) != tc.parseErr {
			t.Fatalf("ParseCodePattern(%q) error = %v", tc.pat, err)
		}
		if err == nil && p.Matches(tc.code) != tc.want {
			t.Errorf("%q.Matches(%d) = %v", tc.pat, tc.code, !tc.want)
		}
	}
}
