//go:build !race

// Timing under the race detector says nothing about the algorithm: it
// slows the decoder's own code twentyfold but not the memchr that made it
// quadratic, so the ratio hides the defect. .ci/run runs this file
// without -race.

package dsl

import (
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// refs is a string literal with n ${X:-y} references: issue 13 item 17
// measured 100k of them at 1.1 s and 400k at 14 s to check, quadratic.
func refs(n int) string { return `"` + strings.Repeat("${X:-y}", n) + `"` }

// TestInterpolationIsLinear: decoding 32x the references takes well under
// 32x32 the time. It times the decoder alone (the lexer and parser are
// participle's), compares ratios rather than absolute times so a slow
// machine passes, and takes the best of three runs against noise; the
// bar is three times linear, which the quadratic decoder missed by far
// (about 200x).
func TestInterpolationIsLinear(t *testing.T) {
	best := func(n int) time.Duration {
		raw := refs(n)
		var min time.Duration
		for i := 0; i < 3; i++ {
			s := &String{Raw: raw}
			runtime.GC()
			start := time.Now()
			if err := s.decode(); err != nil {
				t.Fatal(err)
			}
			if d := time.Since(start); i == 0 || d < min {
				min = d
			}
			if len(s.Parts) != n {
				t.Fatalf("%d parts, want %d", len(s.Parts), n)
			}
		}
		return min
	}
	small, large := best(2_000), best(64_000)
	if ratio := float64(large) / float64(small); ratio > 100 {
		t.Errorf("32x the references took %.1fx the time (%s vs %s): not linear", ratio, large, small)
	}
}

func BenchmarkInterpolation(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		src := []byte("send " + refs(n) + "\n")
		b.Run("refs="+strconv.Itoa(n), func(b *testing.B) {
			b.SetBytes(int64(len(src)))
			for i := 0; i < b.N; i++ {
				if _, err := Parse("t.smtp", src); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
