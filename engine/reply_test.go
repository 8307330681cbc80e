package engine_test

import (
	"testing"

	"github.com/smtprun/smtprun/engine"
	"github.com/smtprun/smtprun/explain"
)

// The engine and the knowledge base read enhanced status codes alike: the
// engine once took "5.07.8" for a code that explain rejected. RFC 3463 2
// forbids leading zeros, so neither does now.
func TestEnhancedCodeAgreesWithExplain(t *testing.T) {
	for _, code := range []string{"5.7.8", "5.7.139", "5.07.8", "5.7.08", "5.7.1000", "5.0.0", "55.7.8", "5.7"} {
		rep := &engine.Reply{Code: 535, Lines: []string{"535 " + code + " x"}, Text: []string{code + " x"}}
		_, known := explain.Enhanced(code)
		if got := rep.EnhancedCode(); (got != "") != known || known && got != code {
			t.Errorf("%s: engine reads %q, explain ok=%v", code, got, known)
		}
	}
}
