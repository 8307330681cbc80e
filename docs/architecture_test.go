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

// The package table says what each package imports, as the code does.
func TestArchitecturePackageImports(t *testing.T) {
	for _, row := range tableRows(t, "packages") {
		dir := strings.Trim(row[0], "`")
		var want []string
		for _, m := range code.FindAllStringSubmatch(row[2], -1) {
			want = append(want, m[1])
		}
		slices.Sort(want)
		got := slices.Compact(slices.Sorted(slices.Values(imports(t, dir))))
		if !slices.Equal(got, want) {
			t.Errorf("%s imports %q; architecture.md says %q", dir, got, want)
		}
	}
}

// The dependency rules architecture.md states.
func TestArchitectureImportRules(t *testing.T) {
	for _, dir := range []string{"sandbox", "sandbox/oauthsim", "explain", "oauth", "dsl"} {
		for _, im := range imports(t, dir) {
			if im == "engine" || strings.HasPrefix(im, "cmd/") {
				t.Errorf("%s imports %s", dir, im)
			}
		}
	}
	internal, err := filepath.Glob("../internal/*")
	if err != nil || len(internal) == 0 {
		t.Fatalf("no internal packages: %v", err)
	}
	for _, d := range internal {
		dir := strings.TrimPrefix(filepath.ToSlash(d), "../")
		for _, im := range imports(t, dir) {
			if !strings.HasPrefix(im, "internal/") {
				t.Errorf("%s imports %s, outside internal/", dir, im)
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
