package dsl

import (
	"slices"
	"strings"
	"testing"
)

// TestRegistryCoversEverySwitch parses each registered step's example and
// sends the step through every type switch over steps: the lowering,
// Check (which panics on a type it does not know), the order check's
// keyword lookup, the variable collector and Format. A step added to the
// registry and ast.go but forgotten in one of them fails here.
func TestRegistryCoversEverySwitch(t *testing.T) {
	kinds := StepKinds()
	if len(kinds) != 11 {
		t.Errorf("%d step kinds; update this count when adding a step, with its cases", len(kinds))
	}
	for _, k := range kinds {
		t.Run(k.Keyword, func(t *testing.T) {
			s, err := Parse("r.smtp", []byte(k.Example+"\n"))
			if err != nil {
				t.Fatalf("example %q: %v", k.Example, err)
			}
			if len(s.Steps) != 1 {
				t.Fatalf("example %q is %d steps", k.Example, len(s.Steps))
			}
			st := s.Steps[0]
			if _, unknown := st.(*Unknown); unknown || st.Keyword() != k.Keyword {
				t.Fatalf("example %q lowers to %T (%q)", k.Example, st, st.Keyword())
			}
			if w := keywordOf(st); w.Text != k.Keyword || w.Pos() != st.Pos() {
				t.Errorf("keywordOf = %q at %v", w.Text, w.Pos())
			}
			Check(s) // order errors are expected for a lone step; a panic is not
			collectVariables(s)
			text, err := FormatStep(st)
			if err != nil {
				t.Fatalf("format: %v", err)
			}
			if !strings.HasPrefix(text, k.Keyword) {
				t.Errorf("format wrote %q", text)
			}
			if _, ok := stepRules()[k.Keyword]; !ok {
				t.Errorf("no rule in stepRules to explain a malformed %s", k.Keyword)
			}
			if _, ok := usageOf(k.Keyword); !ok || k.Usage == "" || k.Doc == "" {
				t.Errorf("registry entry incomplete: %+v", k)
			}
		})
	}
}

// TestSuggestionsComeFromTheRegistry: the keyword list in errors is the
// registry's, in its order.
func TestSuggestionsComeFromTheRegistry(t *testing.T) {
	s, _ := Parse("r.smtp", []byte("startls\n"))
	_, err := Check(s)
	list, _ := err.(ErrorList)
	if len(list) != 1 || !slices.Contains(list[0].Notes, "steps are: "+strings.Join(Keywords(), ", ")) || !strings.Contains(list[0].Label, "`starttls`") {
		t.Fatalf("got %v", err)
	}
}
