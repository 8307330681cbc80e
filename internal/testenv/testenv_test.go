package testenv

import (
	"strings"
	"testing"
)

// recorder is a testing.TB that records how a test ended instead of ending.
type recorder struct {
	testing.TB
	skipped, failed string
}

func (r *recorder) Helper()                   {}
func (r *recorder) Skip(args ...any)          { r.skipped = args[0].(string) }
func (r *recorder) Fatalf(f string, a ...any) { r.failed = f }

func TestMissing(t *testing.T) {
	t.Setenv(RequireVar, "")
	r := &recorder{TB: t}
	Missing(r, "swaks is not installed")
	if r.skipped != "swaks is not installed" || r.failed != "" {
		t.Errorf("without %s: skipped %q, failed %q; want a skip", RequireVar, r.skipped, r.failed)
	}

	t.Setenv(RequireVar, "1")
	r = &recorder{TB: t}
	Missing(r, "swaks is not installed")
	if r.skipped != "" || !strings.Contains(r.failed, "integration tests must run here") {
		t.Errorf("with %s=1: skipped %q, failed %q; want a failure", RequireVar, r.skipped, r.failed)
	}
}
