package sandbox

import (
	"bytes"
	_ "embed"
	"fmt"
	"net/mail"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
)

//go:embed identity.yaml
var identityFile []byte

// identityRule is what one provider does when the sender is not the
// account that logged in (identity.yaml).
type identityRule struct {
	Does       string         `yaml:"does"`
	Source     string         `yaml:"source"`
	MailFrom   *identityReply `yaml:"mail_from"`
	HeaderFrom *identityReply `yaml:"header_from"`
}

type identityReply struct {
	At     string `yaml:"at"` // "mail" or "message"
	Reply  string `yaml:"reply"`
	Source string `yaml:"source"`
	reply  replyTemplate
}

var loadIdentity = sync.OnceValues(func() (map[string]*identityRule, error) {
	c, err := loadCatalog()
	if err != nil {
		return nil, err
	}
	dec := yaml.NewDecoder(bytes.NewReader(identityFile))
	dec.KnownFields(true)
	var out map[string]*identityRule
	if err := dec.Decode(&out); err != nil {
		return nil, fmt.Errorf("identity.yaml: %w", err)
	}
	for name, rule := range out {
		p, ok := c.byName[name]
		if !ok || rule.Does == "" {
			return nil, fmt.Errorf("identity.yaml: %s: an unknown profile, or no does", name)
		}
		for _, r := range []*identityReply{rule.MailFrom, rule.HeaderFrom} {
			if r == nil {
				continue
			}
			if (r.At != "mail" && r.At != "message") || strings.TrimSpace(r.Source) == "" {
				return nil, fmt.Errorf("identity.yaml: %s: at must be mail or message, and a source is required", name)
			}
			if r.reply, err = parseReply(r.Reply); err == nil {
				err = checkPlaceholders(r.Reply, profileKnows(p))
			}
			if err != nil {
				return nil, fmt.Errorf("identity.yaml: %s: %w", name, err)
			}
		}
	}
	return out, nil
})

// sameAddress compares two addresses as the providers do: without regard
// to case, and an unknown one (empty) as no mismatch.
func sameAddress(a, b string) bool { return a == "" || b == "" || strings.EqualFold(a, b) }

// headerFrom is the address of the message's From: header ("" without
// one, or one that does not parse) and whether there is one at all.
func headerFrom(head []byte) (string, bool) {
	end := bytes.Index(head, []byte("\r\n\r\n"))
	if end < 0 {
		end = len(head)
	}
	lines := strings.Split(string(head[:end]), "\r\n")
	for i, line := range lines {
		name, value, ok := strings.Cut(line, ":")
		if !ok || !strings.EqualFold(strings.TrimRight(name, " \t"), "From") {
			continue // a continuation line starts with white space, so it is no From
		}
		for _, more := range lines[i+1:] {
			if more == "" || (more[0] != ' ' && more[0] != '\t') {
				break
			}
			value += more
		}
		list, err := mail.ParseAddressList(value)
		if err != nil || len(list) == 0 {
			return "", true
		}
		return list[0].Address, true
	}
	return "", false
}

// identityAtMail refuses MAIL FROM an address the account may not use,
// where the provider does so at MAIL; true if it did.
func (ss *session) identityAtMail(from string) bool {
	rules, _ := loadIdentity()
	rule := rules[ss.p.Name]
	if ss.authUser == "" || rule == nil || rule.MailFrom == nil || rule.MailFrom.At != "mail" || sameAddress(ss.authUser, from) {
		return false
	}
	ss.coachIdentity(rule, from, "", true)
	ss.send(rule.MailFrom.reply, "sender_identity")
	return true
}

// identityAtMessage checks the envelope sender and the From: header at
// the end of a message; true if the provider refuses it there. A message
// whose head was not kept (the memory budget) is not judged.
func (ss *session) identityAtMessage(sp *spool) bool {
	if ss.authUser == "" || len(sp.head) == 0 && sp.size > 0 {
		return false
	}
	rules, _ := loadIdentity()
	rule := rules[ss.p.Name]
	from, hasFrom := headerFrom(sp.head)
	mailOff := !sameAddress(ss.authUser, ss.from)
	headerOff := hasFrom && !sameAddress(ss.authUser, from)
	if mailOff || headerOff {
		ss.coachIdentity(rule, ss.from, from, hasFrom)
	}
	switch {
	case rule == nil:
	case mailOff && rule.MailFrom != nil && rule.MailFrom.At == "message":
		ss.send(rule.MailFrom.reply, "sender_identity")
		return true
	case headerOff && rule.HeaderFrom != nil && rule.HeaderFrom.At == "message":
		ss.send(rule.HeaderFrom.reply, "sender_identity")
		return true
	case headerOff && rule.MailFrom == nil && rule.HeaderFrom == nil:
		where := "as Gmail does"
		if sp.rewriteFrom(ss.authUser) {
			where = "in the saved message too"
		}
		ss.emit(Note, fmt.Sprintf("%s: the From: header %s is rewritten to %s, %s", ss.p.Name, replySafe(from), replySafe(ss.authUser), where))
	}
	return false
}

// coachIdentity tells a client under --explain which addresses disagree
// and what this provider does then.
func (ss *session) coachIdentity(rule *identityRule, mailFrom, header string, hasFrom bool) {
	parts := []string{"AUTH user " + ss.authUser}
	if !sameAddress(ss.authUser, mailFrom) {
		parts = append(parts, "MAIL FROM "+mailFrom)
	}
	switch {
	case !hasFrom:
		parts = append(parts, "no From: header")
	case !sameAddress(ss.authUser, header):
		parts = append(parts, "From: "+header)
	}
	does := "this server accepts it, but Office 365 refuses it (550 5.7.60 or 554 5.2.252 SendAsDenied), Yahoo and AOL too (550 Request failed; Mailbox unavailable, 554 6.6.0), and Gmail rewrites From: to the account"
	if rule != nil {
		does = rule.Does
	}
	ss.diagnose("sender_identity", replySafe(strings.Join(parts, ", ")+"; "+does))
}
