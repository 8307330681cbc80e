package dsl

import (
	"reflect"
	"strings"
	"testing"

	"github.com/alecthomas/participle/v2"
)

// Every run builds the grammar once, and in a fresh process each 4 KiB of
// new memory costs a page fault, so the build's allocations are most of
// its cost. Participle builds a node per struct type and re-lexes a
// struct's tags at each field boundary it peeks across, so the budget
// fails a grammar that goes back to a node per argument (2,062
// allocations and 275 KB), a field per step or a captured keyword per
// step (3,265 and 503 KB). Allocations are the same on every run; time is
// not.
func TestGrammarBuildBudget(t *testing.T) {
	const maxAllocs = 1300
	// AllocsPerRun's warm-up run makes the lexer's symbol table, which is
	// shared.
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

// Each step node's keyword, which the lowering takes from keyword(), is
// the literal its first tag matches, and a keyword of the registry; every
// registered keyword has its node.
func TestStepNodesMatchTheirKeywords(t *testing.T) {
	seen := map[string]bool{}
	for _, st := range stepTypes() {
		kw := st.keyword()
		typ := reflect.TypeOf(st).Elem()
		if _, unknown := st.(*gUnknown); unknown {
			if kw != "" {
				t.Errorf("%s: keyword %q, want none", typ.Name(), kw)
			}
			continue
		}
		var tag string
		for i := range typ.NumField() {
			if tag = typ.Field(i).Tag.Get("parser"); tag != "" {
				break
			}
		}
		if !strings.HasPrefix(strings.TrimPrefix(tag, "@"), "'"+kw+"'") {
			t.Errorf("%s: keyword() is %q, its first tag is %q", typ.Name(), kw, tag)
		}
		seen[kw] = true
	}
	for _, kw := range Keywords() {
		if !seen[kw] {
			t.Errorf("registered keyword %q has no step node", kw)
		}
	}
	if len(seen) != len(Keywords()) {
		t.Errorf("%d step nodes with keywords, %d registered keywords", len(seen), len(Keywords()))
	}
}
