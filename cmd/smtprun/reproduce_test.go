package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/smtprun/smtprun/internal/replies"
	"github.com/smtprun/smtprun/sandbox"
)

// TestReproduceEveryCatalogueReply: for every catalogue reply, explain
// --reproduce either writes a script that, run under --sandbox, gets
// exactly that reply (its last expect is the reply's text with only the
// variable parts open) from a profile, a scenario or a fault plan, or
// says that nothing sends it and names the closest reply that is sent.
func TestReproduceEveryCatalogueReply(t *testing.T) {
	reproduced := 0
	for _, r := range replies.All() {
		t.Run(r.Name, func(t *testing.T) {
			code, out, errOut := cli(t, "explain", "--reproduce", r.Name)
			_, byFault := sandbox.FaultReproduction(r.Name)
			if sendable(r) || byFault {
				if code != exitOK {
					t.Fatalf("exit %d: %s", code, errOut)
				}
				reproduced++
				file := filepath.Join(t.TempDir(), "reproduce.smtp")
				if err := os.WriteFile(file, []byte(out), 0o600); err != nil {
					t.Fatal(err)
				}
				code, runOut, runErr := cli(t, "--sandbox", file)
				if code != exitOK {
					t.Fatalf("the reproduction did not get the reply (exit %d):\n%s\n%s%s", code, out, runOut, runErr)
				}
				if !strings.Contains(out, "expect "+itoa(r.Code)+" /^") {
					t.Errorf("the script does not check the reply's text:\n%s", out)
				}
				return
			}
			if code != exitUsage || !strings.Contains(errOut, "no scenario of the sandbox sends "+r.Name) || !strings.Contains(errOut, "the closest it sends is ") {
				t.Fatalf("exit %d, stderr %q", code, errOut)
			}
		})
	}
	if reproduced < 55 {
		t.Errorf("only %d catalogue replies reproduced", reproduced)
	}
}

// sendable: the sandbox sends r, or another provider's copy of its text.
func sendable(r replies.Reply) bool {
	for _, rp := range sandbox.Reproductions() {
		o, _ := replies.Lookup(rp.Reply)
		if o.Template == r.Template {
			return true
		}
	}
	return false
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestReproducePastedReply: a reply pasted as seen (other IDs, from a
// bounce) is reproduced too.
func TestReproducePastedReply(t *testing.T) {
	for _, in := range [][]string{
		{"explain", "--reproduce", "535-5.7.8 Username and Password not accepted. For more information, go to\n535 5.7.8  https://support.google.com/mail/?p=BadCredentials 5b1f17b1804b1-43e8a2c7d55sm1234567f8f.12 - gsmtp"},
		{"explain", "--reproduce", "535", "5.7.139", "Authentication", "unsuccessful,", "basic", "authentication", "is", "disabled.", "[AM0PR01CA0001.EURPRD01.PROD.OUTLOOK.COM]"},
	} {
		code, out, errOut := cli(t, in...)
		if code != exitOK || !regexp.MustCompile(`(?m)^expect 535 /`).MatchString(out) {
			t.Errorf("%q: exit %d\n%s%s", in[2], code, out, errOut)
		}
	}
	code, _, errOut := cli(t, "explain", "--reproduce", "250 fine thanks")
	if code != exitUsage || !strings.Contains(errOut, "is not a reply of the catalogue") {
		t.Errorf("unknown reply: exit %d %q", code, errOut)
	}
}

// TestExplainPastedForms: the forms people paste, one argument each.
func TestExplainPastedForms(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Diagnostic-Code: smtp; 550 5.1.1 <bob@example.com>: Recipient address rejected: User unknown", "found in Diagnostic-Code:\n550 5.1.1 <bob@example.com>"},
		{"Status: 5.1.1", "found in Status:\nStatus: 5.1.1\n  5.1.1"},
		{"Remote Server returned '550 5.1.1 RESOLVER.ADR.RecipNotFound; not found'", "found in Remote Server returned:\n550 5.1.1 RESOLVER.ADR.RecipNotFound; not found"},
		{"554 5.2.0 STOREDRV.Submission.Exception:SendAsDeniedException.MapiExceptionSendAsDenied; Failed to process message due to a permanent exception with message Cannot submit message.", "office365.send_as.denied_storedrv  Microsoft 365 / Outlook.com"},
		{"530 5.7.0 Must issue a STARTTLS command first\n535 5.7.3 Authentication unsuccessful [X.PROD.OUTLOOK.COM]", "found in reply:\n535 5.7.3"},
	}
	for _, tt := range tests {
		code, out, errOut := cli(t, "explain", tt.in)
		if code != exitOK || !strings.Contains(out, tt.want) {
			t.Errorf("explain %q: exit %d, want %q in\n%s%s", tt.in, code, tt.want, out, errOut)
		}
	}
}

// TestExplainFile: a whole bounce, and the errors for files that are not.
func TestExplainFile(t *testing.T) {
	code, out, errOut := cli(t, "explain", "--file", "../../explain/testdata/bounce/gmail-bounce.eml")
	if code != exitOK || !strings.Contains(out, "for no.such.user.4242@gmail.com (Status 5.1.1)") || !strings.Contains(out, "gmail.rcpt.no_such_user") {
		t.Errorf("exit %d\n%s%s", code, out, errOut)
	}
	empty := filepath.Join(t.TempDir(), "empty.eml")
	os.WriteFile(empty, []byte("Subject: hi\n\nnothing here\n"), 0o600)
	if code, _, errOut := cli(t, "explain", "--file", empty); code != exitUsage || !strings.Contains(errOut, "no server reply found in "+empty) {
		t.Errorf("empty: exit %d %q", code, errOut)
	}
	if code, _, errOut := cli(t, "explain", "--file", filepath.Join(t.TempDir(), "missing.eml")); code != exitUsage || !strings.Contains(errOut, "no such file") {
		t.Errorf("missing: exit %d %q", code, errOut)
	}
}

// TestScenarioSources lists every profile's replies with a source.
func TestScenarioSources(t *testing.T) {
	code, out, _ := cli(t, "scenarios", "--sources")
	for _, want := range []string{
		"profile gmail:",
		"auth_failed            gmail.auth.bad_credentials: https://github.com/dawidd6/action-send-mail/issues/205 (page dated 2024-05-31)",
		"scenario basic-auth-retired (smtp-mail.outlook.com) office365.auth.basic_disabled:",
	} {
		if code != exitOK || !strings.Contains(out, want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
}
