// Package textmask replaces secrets in text without regard to the case
// of ASCII letters: a server that upper-cases its echo, or a
// percent-encoding written with lower-case hex digits, still shows the
// secret, just differently spelt.
package textmask

import "strings"

// ReplaceFold replaces each ASCII-case-insensitive occurrence of old in
// s with mask; with word, only those that no letter or digit continues
// on either side. ok says whether anything was replaced.
func ReplaceFold(s, old, mask string, word bool) (string, bool) {
	if old == "" || len(old) > len(s) {
		return s, false
	}
	ls, lo := Lower(s), Lower(old)
	var b strings.Builder
	last := 0
	for i := 0; i+len(lo) <= len(ls); {
		j := strings.Index(ls[i:], lo)
		if j < 0 {
			break
		}
		j += i
		end := j + len(lo)
		if word && ((j > 0 && isAlnum(ls[j-1])) || (end < len(ls) && isAlnum(ls[end]))) {
			i = j + 1
			continue
		}
		b.WriteString(s[last:j])
		b.WriteString(mask)
		last, i = end, end
	}
	if last == 0 {
		return s, false
	}
	b.WriteString(s[last:])
	return b.String(), true
}

// Lower lower-cases ASCII letters only, so that byte offsets stay those
// of the original (strings.ToLower may change a string's length).
func Lower(s string) string {
	i := 0
	for i < len(s) && !('A' <= s[i] && s[i] <= 'Z') {
		i++
	}
	if i == len(s) {
		return s
	}
	b := []byte(s)
	for ; i < len(b); i++ {
		if c := b[i]; 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}
