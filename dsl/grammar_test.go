package dsl

import (
	"testing"

	"github.com/alecthomas/participle/v2"
)

// Every run builds the grammar once, and in a fresh process each 4 KiB of
// new memory costs a page fault, so the build's allocations are most of
// its cost. Participle re-lexes a struct's tags at each field boundary it
// peeks across, so the budget fails a grammar that goes back to a field
// per step or a captured keyword per step (3,265 allocations, 503 KB,
// before the union). Allocations are the same on every run; time is not.
func TestGrammarBuildBudget(t *testing.T) {
	const maxAllocs = 2300
	// AllocsPerRun's warm-up run builds the lexer, which is shared.
	allocs := testing.AllocsPerRun(5, func() {
		participle.MustBuild[gScript](grammarOptions()...)
	})
	t.Logf("building the grammar: %.0f allocations", allocs)
	if allocs > maxAllocs {
		t.Errorf("building the grammar takes %.0f allocations, over the budget of %d", allocs, maxAllocs)
	}
}

func BenchmarkGrammarBuild(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		participle.MustBuild[gScript](grammarOptions()...)
	}
}
