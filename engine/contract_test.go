package engine_test

import (
	"testing"

	"github.com/smtprun/smtprun/engine"
)

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
