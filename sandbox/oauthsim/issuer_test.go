package oauthsim

import (
	"testing"
	"time"
)

// Expired grants are dropped once there are many, so serve stays small.
func TestIssuerSweeps(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	is := NewIssuer(Config{Clock: func() time.Time { return now }, TokenTTL: time.Minute})
	p := gmail
	is.mu.Lock()
	defer is.mu.Unlock()
	for i := 0; i < sweepAbove+10; i++ {
		is.tokens(p, "", p.Scope)
	}
	now = now.Add(2 * time.Minute)
	is.tokens(p, "", p.Scope)
	if len(is.access) != 1 {
		t.Errorf("%d access tokens kept, want the one still valid", len(is.access))
	}
}
