package engine

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// TestEveryErrorTypeRedacts makes the one exit structural, so that no
// error can carry a secret past it: every type in this package with an Error method also has redact,
// so maskErr masks it by its own method and a new error type cannot skip
// the masker. Events are held to the same rule by the compiler.
func TestEveryErrorTypeRedacts(t *testing.T) {
	methods := map[string]map[string]bool{}
	for _, m := range packageMethods(t) {
		if methods[m.typ] == nil {
			methods[m.typ] = map[string]bool{}
		}
		methods[m.typ][m.name] = true
	}
	n := 0
	for typ, m := range methods {
		if !m["Error"] {
			continue
		}
		n++
		if !m["redact"] {
			t.Errorf("%s has an Error method but no redact: errors of this type would leave Run unmasked", typ)
		}
	}
	if n < 5 {
		t.Fatalf("found only %d error types: the scan is broken", n)
	}
}

// method is one method declared in this package's (non-test) source.
type method struct {
	typ, name string
	pointer   bool // declared on *typ
}

// packageMethods reads the package's source for its methods, so the
// structural tests find a new type without anyone adding it to a list.
func packageMethods(t *testing.T) []method {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var out []method
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Recv == nil || len(fd.Recv.List) != 1 {
				continue
			}
			typ, ptr := fd.Recv.List[0].Type, false
			if st, ok := typ.(*ast.StarExpr); ok {
				typ, ptr = st.X, true
			}
			if id, ok := typ.(*ast.Ident); ok {
				out = append(out, method{typ: id.Name, name: fd.Name.Name, pointer: ptr})
			}
		}
	}
	return out
}
