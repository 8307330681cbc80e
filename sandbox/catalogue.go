package sandbox

import (
	"fmt"
	"sort"
	"strings"

	"github.com/smtprun/smtprun/internal/replies"
	"github.com/smtprun/smtprun/internal/suggest"
)

// A reply text in a profile or in scenarios.yaml may name a reply of the
// shared catalogue instead of repeating it: "@gmail.auth.bad_credentials"
// is that entry's template, so the sandbox and explain keep one copy of
// each real text, with its source.
const cataloguePrefix = "@"

// resolveReply returns the text to parse for a profile or scenario reply,
// and the catalogue name it came from ("" for a text written in place).
func resolveReply(text string) (string, string, error) {
	name, ok := strings.CutPrefix(strings.TrimSpace(text), cataloguePrefix)
	if !ok {
		return text, "", nil
	}
	r, found := replies.Lookup(name)
	if !found {
		msg := fmt.Sprintf("no reply %q in the catalogue (internal/replies)", name)
		if best := suggest.Closest(name, replies.Names()); best != "" {
			msg += fmt.Sprintf("; did you mean %q?", best)
		}
		return "", "", fmt.Errorf("%s", msg)
	}
	return r.Template, name, nil
}

// parseNamedReply is parseReply for a text that may be a catalogue name.
func parseNamedReply(text string) (replyTemplate, string, error) {
	resolved, name, err := resolveReply(text)
	if err != nil {
		return replyTemplate{}, "", err
	}
	r, err := parseReply(resolved)
	r.catalogue = name
	return r, resolved, err
}

// ReplySource says where one reply the sandbox sends comes from.
type ReplySource struct {
	Profile  string
	Scenario string // "" for the profile's own reply
	Host     string // a scenario's reply for one host name only, else ""
	Key      string // the profile's reply key; "" for a scenario's reply
	// Catalogue is the catalogue reply the text is (internal/replies), ""
	// for a text written in the profile or scenarios file.
	Catalogue string
}

// ReplySources lists every reply text of every profile and scenario with
// where it comes from, profiles in name order, keys sorted.
func ReplySources() []ReplySource {
	c := mustCatalog()
	var out []ReplySource
	for _, p := range c.profiles {
		keys := make([]string, 0, len(p.replies))
		for k := range p.replies {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			out = append(out, ReplySource{Profile: p.Name, Key: k, Catalogue: p.replies[k].catalogue})
		}
	}
	for _, sc := range c.scenarios {
		if sc.Reply == "" {
			continue
		}
		for _, p := range c.profiles {
			if sc.appliesTo(p.Name) {
				out = append(out, ReplySource{Profile: p.Name, Scenario: sc.Name, Catalogue: sc.replyFor(p.Name).catalogue})
			}
		}
		hosts := make([]string, 0, len(sc.hostReplies))
		for h := range sc.hostReplies {
			hosts = append(hosts, h)
		}
		sort.Strings(hosts)
		for _, h := range hosts {
			out = append(out, ReplySource{Profile: c.profileForHost(h).Name, Scenario: sc.Name, Host: h, Catalogue: sc.hostReplies[h].catalogue})
		}
	}
	return out
}
