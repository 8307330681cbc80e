package sandbox

import (
	"fmt"
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
