package engine_test

import (
	"slices"
	"testing"

	"github.com/smtprun/smtprun/dsl"
	"github.com/smtprun/smtprun/engine"
	"github.com/smtprun/smtprun/internal/sasl"
)

// The language accepts exactly the mechanisms the engine can run: a name
// in one list and not the other is either a script that checks but cannot
// run, or a mechanism nobody can ask for.
func TestMechanismsMatchTheRegistry(t *testing.T) {
	lang := slices.Sorted(slices.Values(dsl.Mechanisms()))
	reg := slices.Sorted(slices.Values(sasl.Names()))
	if !slices.Equal(lang, reg) {
		t.Errorf("dsl.Mechanisms %q, sasl registry %q", lang, reg)
	}
	for _, m := range dsl.Mechanisms() {
		if _, ok := sasl.Lookup(m); !ok {
			t.Errorf("%q has no client", m)
		}
	}
}

func TestRoleNames(t *testing.T) {
	seen := map[string]bool{}
	for r := engine.RoleCommand; r <= engine.RoleQuitOnInterrupt; r++ {
		b, _ := r.MarshalText()
		if name := string(b); name == "unknown" || seen[name] {
			t.Errorf("role %d has name %q", r, name)
		} else {
			seen[name] = true
		}
	}
}
