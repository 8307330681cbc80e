package dsl

import (
	"os"
	"strings"
	"testing"
)

// TestLibraryDocsShowTheExamples: every Go block of docs/library.md is
// code of a compiled Example function, so the page cannot drift from
// what the code does (the examples' Output comments are checked by go
// test).
func TestLibraryDocsShowTheExamples(t *testing.T) {
	doc, err := os.ReadFile("../docs/library.md")
	if err != nil {
		t.Fatal(err)
	}
	var examples []string
	for _, f := range []string{"example_test.go", "../engine/example_test.go"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		examples = append(examples, normalize(string(b)))
	}
	blocks := strings.Split(string(doc), "```go\n")
	if len(blocks) < 5 {
		t.Fatalf("only %d Go blocks in docs/library.md", len(blocks)-1)
	}
	for _, b := range blocks[1:] {
		code, _, _ := strings.Cut(b, "```")
		found := false
		for _, ex := range examples {
			found = found || strings.Contains(ex, normalize(code))
		}
		if !found {
			t.Errorf("docs/library.md shows code no Example has:\n%s", code)
		}
	}
}

// normalize drops indentation, which differs between a function body and
// a page.
func normalize(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSpace(l)
	}
	return strings.Join(lines, "\n")
}
