package sandbox

import (
	"strconv"
	"testing"

	"github.com/smtprun/smtprun/explain"
	"github.com/smtprun/smtprun/internal/smtp"
)

// The knowledge base knows every reply code and enhanced status code the
// sandbox can send, from every profile and every scenario: a learner who
// meets one in practice can always have it explained, by its own entry
// (not a meaning pieced together from its digits). Provider meanings count
// for the provider that uses them.
func TestKnowledgeBaseKnowsSandboxReplies(t *testing.T) {
	replies := map[string]bool{}   // "535"
	details := map[string]bool{}   // "X.7.8"
	provCodes := map[string]bool{} // "microsoft 5.7.139"
	for _, e := range explain.All() {
		switch {
		case e.Kind == explain.KindReply:
			replies[e.Topic] = true
		case e.Kind == explain.KindEnhanced && e.Provider == "":
			details[e.Topic] = true
		case e.Kind == explain.KindEnhanced:
			provCodes[e.Provider+" "+e.Topic] = true
		}
	}
	c := mustCatalog()
	check := func(p *profile, where string, r replyTemplate) {
		t.Helper()
		if !replies[strconv.Itoa(r.code)] {
			t.Errorf("%s, %s: reply code %d has no entry in explain/data/replies.yaml", p.Name, where, r.code)
		}
		for _, line := range r.lines {
			enh, ok := smtp.LeadingEnhancedCode(line)
			if !ok {
				continue
			}
			if enh.Class != r.code/100 {
				t.Errorf("%s, %s: enhanced code %s in a %d reply (RFC 2034 3)", p.Name, where, enh, r.code)
			}
			key := "X." + strconv.Itoa(enh.Subject) + "." + strconv.Itoa(enh.Detail)
			if !details[key] && !provCodes[explain.ProviderOf(p.Name)+" "+enh.String()] {
				t.Errorf("%s, %s: the knowledge base does not know %s", p.Name, where, enh)
			}
		}
	}
	n := 0
	for _, p := range c.profiles {
		for key, r := range p.replies {
			check(p, "replies."+key, r)
			n++
		}
		// The sandbox's own replies for the --save quota.
		for _, q := range []*quotaError{{full: true}, {}} {
			check(p, "save quota", q.reply())
		}
		for _, sc := range c.scenarios {
			if sc.appliesTo(p.Name) && (sc.Reply != "" || sc.replies[p.Name].lines != nil) {
				check(p, "scenario "+sc.Name, sc.replyFor(p.Name))
				n++
			}
		}
	}
	if n < len(replyKeys)*len(c.profiles) {
		t.Errorf("only %d replies checked", n)
	}
}
