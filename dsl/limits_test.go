package dsl

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func TestMagnitude(t *testing.T) {
	for _, tc := range []struct {
		n    uint64
		want string
	}{
		{0, "0"}, {2000, "2000"}, {999_999, "999999"}, {1_000_000, "10^6"}, {10_000_000, "10^7"},
		{20_000_000, "2×10^7"}, {10_000_001, "10000001"}, {1_234_567_890, "1234567890"},
		{1e12, "10^12"}, {2e12, "2×10^12"}, {15_000_000_000_001, "about 1.5×10^13"}, {math.MaxUint64, "more than 10^19"},
	} {
		if got := Magnitude(tc.n); got != tc.want {
			t.Errorf("Magnitude(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
}

// TestExpansionSaturates: counts whose product overflows 64 bits are
// refused, not wrapped round to a small number.
func TestExpansionSaturates(t *testing.T) {
	src := "connect \"h:25\"\nexpect 220\n" + strings.Repeat("repeat 10000000 {\n", 5) + "send \"NOOP\"\nexpect 250\n" + strings.Repeat("}\n", 5)
	s, err := Parse("big.smtp", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	_, err = Check(s)
	if err == nil || !strings.Contains(err.Error(), "big.smtp:3:8: too many steps: repeat 10000000 × 10000000 × 10000000 × 10000000 × 10000000 expands to more than 10^19 steps") {
		t.Fatalf("got %v", err)
	}
}

// TestScriptSizeLimits: a script past MaxScriptLines or MaxScriptBytes is
// refused at the first line past the limit, before it is parsed; one at
// the limit is parsed.
func TestScriptSizeLimits(t *testing.T) {
	line := "send \"NOOP\"\n"
	long := strings.Repeat("x", 1000)
	for _, tc := range []struct {
		name string
		src  string
		want string // "" for accepted
	}{
		{"lines at the limit", strings.Repeat(line, MaxScriptLines), ""},
		{"lines at the limit, no final newline", strings.Repeat(line, MaxScriptLines-1) + "quit", ""},
		{"one line too many", strings.Repeat(line, MaxScriptLines) + "quit", "s.smtp:20001:1: script too long: the script has 20001 lines; at most 20000"},
		{"a million lines", strings.Repeat(line, 1_000_000), "s.smtp:20001:1: script too long: the script has 1000000 lines"},
		{"bytes before lines", strings.Repeat("note \""+long+"\"\n", 20_001), "s.smtp:1041:257: script too large"},
		{"a last line without newline past the limit", strings.Repeat("\n", MaxScriptLines) + "quit", "s.smtp:20001:1: script too long: the script has 20001 lines"},
		{"bytes", strings.Repeat("note \""+long+"\"\n", 2000), "s.smtp:1041:257: script too large: the script is 2016000 bytes; at most 1048576"},
		{"one line of too many bytes", "send \"" + strings.Repeat("a", MaxScriptBytes) + "\"\n", "s.smtp:1:1048577: script too large"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("s.smtp", []byte(tc.src))
			var e *Error
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want == "":
			case !errors.As(err, &e) || !strings.HasPrefix(e.Error(), tc.want):
				t.Fatalf("got %v, want %s", err, tc.want)
			default:
				if l, ok := SourceLine([]byte(tc.src), e.Pos.Line); !ok || e.Pos.Column > len(l)+1 {
					t.Errorf("position %s is not in the source", Where(e.Pos))
				}
			}
		})
	}
}
