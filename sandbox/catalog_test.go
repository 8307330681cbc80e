package sandbox

import (
	"slices"
	"strings"
	"testing"
)

// The embedded profiles and scenarios must load: a broken file would make
// every public function panic.
func TestCatalogLoads(t *testing.T) {
	c, err := loadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range c.profiles {
		names = append(names, p.Name)
	}
	if got, want := strings.Join(names, ","), "aol,gmail,office365,postfix,yahoo"; got != want {
		t.Errorf("profiles = %s, want %s", got, want)
	}
	if len(Scenarios()) != len(behaviours()) {
		t.Errorf("Scenarios() has %d entries, want %d", len(Scenarios()), len(behaviours()))
	}
	for _, sc := range Scenarios() {
		if sc.Description == "" || strings.Contains(sc.Description, "\n") {
			t.Errorf("scenario %s: want a one-line description, got %q", sc.Name, sc.Description)
		}
	}
	for _, p := range Profiles() {
		if u, pw := PracticeCredentials(p.Name); u == "" || pw == "" {
			t.Errorf("profile %s has no practice credentials", p.Name)
		}
	}
}

// A brand's ports and OAuth scope are the provider catalogue's: a profile
// that writes them again is refused, and what the catalogue says arrives.
func TestProfilesReadTheProviderCatalogue(t *testing.T) {
	raw, err := profileFiles.ReadFile("profiles/gmail.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, extra := range []string{"ports: [587]\n", "oauth_extra"} {
		src := string(raw)
		if extra == "oauth_extra" {
			src = strings.Replace(src, "oauth:\n", "oauth:\n  scope: https://mail.google.com/\n", 1)
		} else {
			src = strings.Replace(src, "ip:", extra+"ip:", 1)
		}
		if _, err := parseProfile([]byte(src)); err == nil {
			t.Errorf("a profile with its own %q loaded", extra)
		}
	}
	g := mustCatalog().byName["gmail"]
	if !slices.Equal(g.Ports, []int{587, 465, 25}) || g.OAuth.Scope != "https://mail.google.com/" {
		t.Errorf("gmail: ports %v, scope %q", g.Ports, g.OAuth.Scope)
	}
}
