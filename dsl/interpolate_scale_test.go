package dsl

import (
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// refs is n ${X:-y} references: a review measured 100k of them on
// one line at 1.1 s and 400k at 14 s to check, quadratic, because each
// reference searched the rest of the line for a line break.
func refs(n int) string { return strings.Repeat("${X:-y}", n) }

// TestInterpolationIsLinear decodes references followed by a long plain
// tail. Linear decoding costs about what the two parts cost alone; the
// quadratic decoder scanned the tail once per reference (8000 x 4 MB,
// a second). The bar, four times the parts' sum, leaves room for noise and
// the race detector while the old code took thirteen times the parts.
func TestInterpolationIsLinear(t *testing.T) {
	tail := strings.Repeat("a", 4<<20)
	decode := func(body string) time.Duration {
		var best time.Duration
		for i := 0; i < 2; i++ {
			s := &String{Raw: `"` + body + `"`}
			runtime.GC()
			start := time.Now()
			if err := s.decode(); err != nil {
				t.Fatal(err)
			}
			if d := time.Since(start); i == 0 || d < best {
				best = d
			}
		}
		return best
	}
	alone := decode(refs(8000)) + decode(tail)
	together := decode(refs(8000) + tail)
	if together > 4*alone {
		t.Errorf("8000 references before a 4 MB tail took %s, the parts alone %s: decoding is not linear", together, alone)
	}
}

func BenchmarkInterpolation(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		src := []byte(`send "` + refs(n) + "\"\n")
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
