package engine

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"strings"
	"testing"
)

// TestEveryErrorTypeRedacts makes the one exit structural (issue 13, item
// 9): every type in this package with an Error method also has redact,
// so maskErr masks it by its own method and a new error type cannot skip
// the masker. Events are held to the same rule by the compiler.
func TestEveryErrorTypeRedacts(t *testing.T) {
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, ".", func(fi fs.FileInfo) bool {
		return !strings.HasSuffix(fi.Name(), "_test.go")
	}, 0)
	if err != nil {
		t.Fatal(err)
	}
	methods := map[string]map[string]bool{}
	for _, pkg := range pkgs {
		for _, f := range pkg.Files {
			for _, d := range f.Decls {
				fd, ok := d.(*ast.FuncDecl)
				if !ok || fd.Recv == nil || len(fd.Recv.List) != 1 {
					continue
				}
				typ := fd.Recv.List[0].Type
				if st, ok := typ.(*ast.StarExpr); ok {
					typ = st.X
				}
				id, ok := typ.(*ast.Ident)
				if !ok {
					continue
				}
				if methods[id.Name] == nil {
					methods[id.Name] = map[string]bool{}
				}
				methods[id.Name][fd.Name.Name] = true
			}
		}
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
