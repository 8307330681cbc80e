// Package suggest finds the likely intended word for a typo: every "did you
// mean" in smtprun (steps, flags, scenarios, knowledge-base topics) comes
// from here, so they all agree on what counts as close.
package suggest

import "strings"

// Closest returns the candidate closest to word, if it is close enough to
// be a plausible typo ("startls" -> "starttls"), or "". Case is ignored;
// the candidate is returned as given. Every "did you mean" in smtprun
// (steps, scenarios, knowledge-base topics) comes from here.
func Closest(word string, candidates []string) string {
	lw := strings.ToLower(word)
	best, bestDist := "", -1
	for _, c := range candidates {
		lc := strings.ToLower(c)
		d := editDistance(lw, lc)
		if lw != "" && (strings.HasPrefix(lc, lw) || strings.HasPrefix(lw, lc)) {
			d = min(d, 2) // a shortened or lengthened name ("greylist")
		}
		if bestDist < 0 || d < bestDist || d == bestDist && c < best {
			best, bestDist = c, d
		}
	}
	limit := max(2, len(word)/3)
	if len(word) <= 4 {
		limit = 1
	}
	if bestDist < 0 || bestDist > limit {
		return ""
	}
	return best
}

// editDistance is the Damerau (optimal string alignment) distance, so a
// swapped pair of letters counts as one typo.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}
