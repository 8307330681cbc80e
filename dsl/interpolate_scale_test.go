package dsl

import (
	"strings"
	"testing"
	"time"
)

// manyRefs is a send line with n ${X:-y} references: issue 13 item 17
// measured 100k of them at 1.1 s and 400k at 14 s, quadratic.
func manyRefs(n int) []byte {
	return []byte(`send "` + strings.Repeat("${X:-y}", n) + "\"\n")
}

// TestInterpolationIsLinear: parsing 32x the references takes well under
// 32x32 the time (twice linear is the bar). Ratios, not absolute times, so a slow machine passes; the
// best of three runs damps noise.
func TestInterpolationIsLinear(t *testing.T) {
	best := func(n int) time.Duration {
		src := manyRefs(n)
		var min time.Duration
		for i := 0; i < 2; i++ {
			start := time.Now()
			if _, err := Parse("t.smtp", src); err != nil {
				t.Fatal(err)
			}
			if d := time.Since(start); i == 0 || d < min {
				min = d
			}
		}
		return min
	}
	small, large := best(2_000), best(64_000)
	ratio := float64(large) / float64(small)
	if ratio > 64 {
		t.Errorf("32x the references took %.1fx the time (%s vs %s): not linear", ratio, large, small)
	}
}

func BenchmarkInterpolation(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		src := manyRefs(n)
		b.Run(itoa(n), func(b *testing.B) {
			b.SetBytes(int64(len(src)))
			for i := 0; i < b.N; i++ {
				if _, err := Parse("t.smtp", src); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func itoa(n int) string {
	s := ""
	for ; n > 0; n /= 10 {
		s = string(rune('0'+n%10)) + s
	}
	return "refs=" + s
}
