package smtp

import "testing"

func TestParseEnhancedCode(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want EnhancedCode
		ok   bool
	}{
		{"5.7.8", EnhancedCode{5, 7, 8}, true},
		{"5.7.139", EnhancedCode{5, 7, 139}, true},
		{"2.0.0", EnhancedCode{2, 0, 0}, true},
		{"4.4.2", EnhancedCode{4, 4, 2}, true},
		{"5.999.999", EnhancedCode{5, 999, 999}, true},
		// RFC 3463 2: no leading zeros, one to three digits, class 2/4/5.
		{"5.07.8", EnhancedCode{}, false},
		{"5.7.08", EnhancedCode{}, false},
		{"5.7.1000", EnhancedCode{}, false},
		{"3.7.8", EnhancedCode{}, false},
		{"55.7.8", EnhancedCode{}, false},
		{"5.7", EnhancedCode{}, false},
		{"5.7.8.9", EnhancedCode{}, false},
		{"5..8", EnhancedCode{}, false},
		{"5.x.8", EnhancedCode{}, false},
		{"", EnhancedCode{}, false},
	} {
		got, err := ParseEnhancedCode(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseEnhancedCode(%q) = %v, %v", tc.in, got, err)
		}
		if tc.ok && got.String() != tc.in {
			t.Errorf("%q prints as %q", tc.in, got)
		}
	}
}

func TestReplyEnhanced(t *testing.T) {
	for _, tc := range []struct {
		code int
		text string
		want string
	}{
		{535, "5.7.8 Username and Password not accepted.", "5.7.8"},
		{534, "5.7.9  https://support.google.com", "5.7.9"},
		{250, "2.0.0", "2.0.0"},
		{250, "2.1.0, OK", "2.1.0"},
		{535, "5.07.8 leading zero", ""}, // not a code by RFC 3463
		{535, "4.7.8 wrong class", ""},   // RFC 2034 3: class follows the reply
		{220, "smtp.gmail.com ESMTP", ""},
		{550, "", ""},
	} {
		r := &Reply{Code: tc.code, Text: []string{tc.text}}
		if got := r.EnhancedCode(); got != tc.want {
			t.Errorf("%d %q: %q, want %q", tc.code, tc.text, got, tc.want)
		}
	}
}
