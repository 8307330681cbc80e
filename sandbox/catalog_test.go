package sandbox

import (
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
	if len(Scenarios()) != len(behaviours) {
		t.Errorf("Scenarios() has %d entries, want %d", len(Scenarios()), len(behaviours))
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
