package sandbox

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/smtprun/smtprun/internal/replies"
)

// TestCatalogueRepliesAreSent: every catalogue reply a profile or a
// scenario names is sent, word for word up to its variable parts, by the
// conversation Reproductions gives for it, with a real client and TLS.
func TestCatalogueRepliesAreSent(t *testing.T) {
	reps := Reproductions()
	if len(reps) < 20 {
		t.Fatalf("only %d reproductions", len(reps))
	}
	for _, rp := range reps {
		t.Run(rp.Reply+"/"+rp.Host+"/"+rp.Scenario, func(t *testing.T) {
			entry, ok := replies.Lookup(rp.Reply)
			if !ok {
				t.Fatalf("no catalogue entry %s", rp.Reply)
			}
			sb := newTestSandbox(t, Options{Scenario: rp.Scenario})
			got := playSteps(t, sb, rp)
			want := wirePattern(entry.Template)
			if !want.MatchString(strings.Join(got, "\n")) {
				t.Fatalf("got\n  %s\nwant the catalogue's\n  %s", strings.Join(got, "\n  "), strings.ReplaceAll(entry.Template, "\n", "\n  "))
			}
			// explain recognises what the sandbox sent as that reply.
			if m := replies.Match(strings.Join(got, "\n")); len(m) == 0 || m[0].Template != entry.Template {
				t.Errorf("Match(sent reply) = %v, want %s", m, rp.Reply)
			}
		})
	}
}

// playSteps runs a reproduction's conversation and returns its last
// reply; it checks that the server hangs up after it when it should.
func playSteps(t *testing.T, sb *Sandbox, rp Reproduction) []string {
	t.Helper()
	var c *testClient
	var last []string
	code := func(st Step) string {
		if st.Code == 0 {
			return ""
		}
		return strconv.Itoa(st.Code)
	}
	user, pass := PracticeCredentials(rp.Profile)
	for _, st := range rp.Steps {
		switch st.Op {
		case StepConnect:
			c = dial(t, sb, rp.Host+":"+strconv.Itoa(rp.Port))
			last = c.reply(code(st))
		case StepSend:
			last = c.cmd(st.Line, code(st))
		case StepStartTLS:
			c.cmd("STARTTLS", "220")
			c.handshake()
		case StepAuthLogin:
			p := pass
			if st.Password != "" {
				p = st.Password
			}
			c.authLogin(user, p)
			last = c.reply(code(st))
		default:
			t.Fatalf("unknown step %q", st.Op)
		}
	}
	if rp.Closes {
		c.expectClosed()
	}
	return last
}

// wirePattern matches a reply made from a template, whole lines with
// their codes.
func wirePattern(template string) *regexp.Regexp {
	var b strings.Builder
	last := 0
	for _, m := range placeholderRE().FindAllStringIndex(template, -1) {
		b.WriteString(regexp.QuoteMeta(template[last:m[0]]))
		b.WriteString(`[^\n]+?`)
		last = m[1]
	}
	b.WriteString(regexp.QuoteMeta(template[last:]))
	return regexp.MustCompile("^" + b.String() + "$")
}

// TestEveryPasswordScenarioIsReproduced: the scenarios that answer a
// password login with a catalogue reply are all in Reproductions.
func TestEveryCatalogueScenarioIsReproduced(t *testing.T) {
	seen := map[string]bool{}
	for _, rp := range Reproductions() {
		seen[rp.Scenario] = true
	}
	for _, sc := range mustCatalog().scenarios {
		uses := sc.reply.catalogue != ""
		for _, r := range sc.replies {
			uses = uses || r.catalogue != ""
		}
		if uses && !seen[sc.Name] {
			t.Errorf("scenario %s sends a catalogue reply but no reproduction plays it", sc.Name)
		}
	}
}

// TestUnknownCatalogueNameIsAnError: a profile text naming a reply the
// catalogue lacks is refused, with the closest name.
func TestUnknownCatalogueNameIsAnError(t *testing.T) {
	_, _, err := parseNamedReply("@gmail.auth.bad_credential")
	if err == nil || !strings.Contains(err.Error(), `did you mean "gmail.auth.bad_credentials"`) {
		t.Fatalf("err = %v", err)
	}
}

// TestGmailClosesAfterEmptyEHLO, and only then: a named EHLO goes on.
func TestGmailClosesAfterEmptyEHLO(t *testing.T) {
	sb := newTestSandbox(t, Options{})
	c := dial(t, sb, "smtp.gmail.com:587")
	c.reply("220")
	c.cmd("EHLO localhost", "250") // smtp.gmail.com takes it (Go's net/smtp sends it)
	c.cmd("EHLO", "501")
	c.expectClosed()

	sb = newTestSandbox(t, Options{Scenario: "ehlo-rejected"})
	c = dial(t, sb, "smtp.gmail.com:587")
	c.reply("220")
	c.cmd("EHLO client.example.org", "250")
	c.cmd("EHLO [127.0.0.1]", "421")
	c.expectClosed()
}
