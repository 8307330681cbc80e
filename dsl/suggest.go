package dsl

import "strings"

// suggest returns the candidate closest to word, if it is close enough to
// be a plausible typo ("startls" -> "starttls").
func suggest(word string, candidates []string) string {
	best, bestDist := "", 1<<30
	lw := strings.ToLower(word)
	for _, c := range candidates {
		if lw == c {
			return c
		}
		if d := editDistance(lw, c); d < bestDist {
			best, bestDist = c, d
		}
	}
	limit := 2
	if len(word) <= 4 {
		limit = 1
	}
	if bestDist <= limit {
		return best
	}
	return ""
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
