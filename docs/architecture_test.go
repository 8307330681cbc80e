package docs

import (
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/smtprun/smtprun/internal/provider"
	"github.com/smtprun/smtprun/internal/sasl"
	"github.com/smtprun/smtprun/internal/smtp"
	"github.com/smtprun/smtprun/oauth"
)

const module = "github.com/smtprun/smtprun/"

// tableRows returns the rows of the Markdown table between the comment
// "<!-- NAME: ..." and "<!-- end NAME -->" in architecture.md, each as
// its cells, trimmed; the header and the rule are left out.
func tableRows(t *testing.T, name string) [][]string {
	t.Helper()
	page, err := os.ReadFile("architecture.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(page), "<!-- "+name+":")
	if !ok {
		t.Fatalf("architecture.md has no %s table", name)
	}
	body, _, ok := strings.Cut(rest, "<!-- end "+name+" -->")
	if !ok {
		t.Fatalf("architecture.md: the %s table has no end", name)
	}
	var rows [][]string
	for _, line := range strings.Split(body, "\n")[1:] {
		if !strings.HasPrefix(line, "|") {
			continue
		}
		var cells []string
		for _, c := range strings.Split(strings.Trim(line, "|"), "|") {
			cells = append(cells, strings.TrimSpace(c))
		}
		rows = append(rows, cells)
	}
	if len(rows) < 3 {
		t.Fatalf("architecture.md: the %s table is empty", name)
	}
	return rows[2:]
}

func yes(b bool) string {
	if b {
		return "yes"
	}
	return ""
}

// The tables in architecture.md are the code's tables, row for row.
func TestArchitectureTablesAreTheCode(t *testing.T) {
	var verbs [][]string
	for _, c := range smtp.Table() {
		var codes []string
		for _, r := range c.Replies {
			codes = append(codes, strconv.Itoa(r))
		}
		verbs = append(verbs, []string{c.Verb, strings.Join(codes, ", "), yes(c.Histogram)})
	}
	var mechs [][]string
	for _, m := range sasl.Mechanisms() {
		mechs = append(mechs, []string{m.Name, yes(m.InitialResponse), yes(m.OAuth)})
	}
	var brands [][]string
	for _, p := range provider.All() {
		for _, b := range append([]string{p.Name}, p.Aliases...) {
			if len(p.Hosts[b]) == 0 {
				continue
			}
			_, builtin := oauth.Lookup(b)
			brands = append(brands, []string{b, p.Name, yes(builtin)})
		}
	}
	for _, tc := range []struct {
		name string
		want [][]string
	}{{"verbs", verbs}, {"mechanisms", mechs}, {"brands", brands}} {
		var got [][]string
		for _, row := range tableRows(t, tc.name) {
			for i := range row {
				row[i] = strings.Trim(row[i], "`")
			}
			got = append(got, row)
		}
		if len(got) != len(tc.want) {
			t.Errorf("%s: the page has %d rows, the code %d", tc.name, len(got), len(tc.want))
			continue
		}
		for i, w := range tc.want {
			g := got[i]
			// The brands table may say more after "no".
			if len(g) == 3 && strings.HasPrefix(g[2], "no") {
				g = []string{g[0], g[1], ""}
			}
			if !slices.Equal(g, w) {
				t.Errorf("%s row %d: the page says %q, the code %q", tc.name, i+1, g, w)
			}
		}
	}
}

// imports lists the module's packages that the non-test files of dir
// import.
func imports(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		ast, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, im := range ast.Imports {
			if p, _ := strconv.Unquote(im.Path.Value); strings.HasPrefix(p, module) {
				out = append(out, strings.TrimPrefix(p, module))
			}
		}
	}
	return out
}

var code = regexp.MustCompile("`([^`]+)`")

// Every package of the module is in a layer of architecture.md, and
// imports only what the layers allow.
func TestArchitectureLayers(t *testing.T) {
	type entry struct {
		pattern string // "engine", or "sandbox/..." for it and its subpackages
		layer   int
	}
	var layers []entry
	for _, row := range tableRows(t, "layers") {
		n, err := strconv.Atoi(row[0])
		if err != nil {
			t.Fatalf("layer %q", row[0])
		}
		for _, m := range code.FindAllStringSubmatch(row[1], -1) {
			layers = append(layers, entry{m[1], n})
		}
	}
	// layerOf is the layer of a package and the pattern that placed it.
	layerOf := func(pkg string) (int, string) {
		for _, e := range layers {
			base, tree := strings.CutSuffix(e.pattern, "/...")
			if pkg == base || tree && strings.HasPrefix(pkg, base+"/") {
				return e.layer, e.pattern
			}
		}
		return 0, ""
	}
	var dirs []string
	err := filepath.WalkDir("..", func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() && path != ".." && (strings.HasPrefix(name, ".") || name == "testdata" || name == "docs") {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go") {
			dir := filepath.ToSlash(filepath.Dir(strings.TrimPrefix(path, "../")))
			if !slices.Contains(dirs, dir) {
				dirs = append(dirs, dir)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) < 10 {
		t.Fatalf("found only the packages %v", dirs)
	}
	for _, dir := range dirs {
		from, fromPat := layerOf(dir)
		if from == 0 {
			t.Errorf("%s is in no layer of architecture.md", dir)
			continue
		}
		for _, im := range slices.Compact(slices.Sorted(slices.Values(imports(t, dir)))) {
			to, toPat := layerOf(im)
			switch {
			case to == 0:
				t.Errorf("%s imports %s, which is in no layer", dir, im)
			case to < from:
				t.Errorf("%s (layer %d) imports %s (layer %d): imports go down", dir, from, im, to)
			case to == from && (fromPat != toPat || !strings.HasSuffix(fromPat, "/...")):
				// Within a layer only a package's own tree: sandbox
				// and sandbox/oauthsim, internal/sasl and internal/smtp.
				t.Errorf("%s imports %s, of its own layer %d", dir, im, to)
			}
		}
	}
}

// The binary links no test package: test helpers (httptest's recorder,
// the testing package, smtprun's own test servers) stay in tests.
func TestBinaryLinksNoTestPackage(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "../cmd/smtprun").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, p := range strings.Fields(string(out)) {
		if p == "testing" || strings.HasSuffix(p, "/httptest") || strings.HasPrefix(p, module+"internal/smtptest") || strings.HasPrefix(p, module+"internal/testenv") {
			t.Errorf("cmd/smtprun links %s", p)
		}
	}
}
