// Package testenv decides what an integration test does when what it needs
// from the machine (a local Postfix, swaks) is missing. On a developer's
// machine it skips, saying how to get the missing piece; in CI, which sets
// SMTPRUN_REQUIRE_INTEGRATION=1 after installing everything, it fails, so a
// broken setup cannot turn the integration suite into a row of skips that
// still reads "ok".
package testenv

import (
	"os"
	"testing"
)

// RequireVar names the environment variable that turns a missing
// integration prerequisite from a skip into a failure. .ci/run sets it.
const RequireVar = "SMTPRUN_REQUIRE_INTEGRATION"

// Required reports whether missing integration prerequisites fail tests.
func Required() bool { return os.Getenv(RequireVar) == "1" }

// Missing ends the test because a prerequisite is not available: a skip,
// or a failure when Required. why says what is missing and how to get it.
func Missing(t testing.TB, why string) {
	t.Helper()
	if Required() {
		t.Fatalf("%s (%s=1: integration tests must run here)", why, RequireVar)
		return
	}
	t.Skip(why)
}
