package docs

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// Someone with a Postfix of their own writes the env file by hand from
// testing.md: every key .ci/setup-postfix writes must be described there.
func TestTestingPageDescribesThePostfixEnvFile(t *testing.T) {
	script, err := os.ReadFile("../.ci/setup-postfix")
	if err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile("testing.md")
	if err != nil {
		t.Fatal(err)
	}
	keys := regexp.MustCompile(`SMTPRUN_POSTFIX_[A-Z0-9_]+=`).FindAllString(string(script), -1)
	if len(keys) == 0 {
		t.Fatal("found no SMTPRUN_POSTFIX_ keys in .ci/setup-postfix")
	}
	for _, k := range keys {
		if !strings.Contains(string(page), "\n"+k) {
			t.Errorf("docs/testing.md does not describe %s, which .ci/setup-postfix writes", strings.TrimSuffix(k, "="))
		}
	}
	if !strings.Contains(string(page), "SMTPRUN_POSTFIX_ENV") {
		t.Error("docs/testing.md does not name SMTPRUN_POSTFIX_ENV")
	}
}
