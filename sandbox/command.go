package sandbox

import (
	"strings"
	"unicode"

	"github.com/smtprun/smtprun/internal/smtp"
)

// command is one command line as the session reads it. The transcript's
// masking is decided here, from the same split the AUTH handler uses, so
// the two cannot disagree: a review found "AUTH PLAIN<TAB>blob" logged
// whole because the mask looked for a space while the parser split on
// any white space.
type command struct {
	verb string // upper-cased
	arg  string // trimmed
	// For AUTH: the mechanism and the initial response, and whether the
	// line carries more than a mechanism (a credential, or junk that may
	// be one). Any such AUTH line is masked in the transcript.
	mech     string
	response string
	fields   int
	secret   bool
}

// parseCommand splits a line into verb and argument at the first white
// space (RFC 5321 says SP; Postfix accepts any white space, and so do the
// people typing at nc). White space is unicode.IsSpace throughout, the
// same as strings.Fields below, so the verb is always the line's first
// field: no separator can hide an AUTH from the mask.
func parseCommand(line string) command {
	line = strings.TrimLeftFunc(line, unicode.IsSpace)
	verb, arg := line, ""
	if i := strings.IndexFunc(line, unicode.IsSpace); i >= 0 {
		verb, arg = line[:i], line[i:]
	}
	c := command{verb: strings.ToUpper(verb), arg: strings.TrimSpace(arg)}
	if c.verb == smtp.CmdAUTH {
		f := strings.Fields(c.arg)
		c.fields = len(f)
		if len(f) >= 1 {
			c.mech = strings.ToUpper(f[0])
		}
		if len(f) >= 2 {
			c.response = f[1]
		}
		// Everything after the mechanism may be a credential, whatever
		// separates it and however many fields there are.
		c.secret = len(f) >= 2
	}
	return c
}

// secretMask replaces a credential in what the session reports.
const secretMask = "********"

// shown is the line as the transcript may show it: an AUTH line with a
// response keeps only its verb and mechanism. The credential never leaves
// the session, so no observer can print it by mistake.
func (c command) shown(line string) string {
	if !c.secret {
		return line
	}
	return c.verb + " " + c.mech + " " + secretMask
}

// isAuthLine reports whether a (possibly truncated) line is an AUTH
// command, for masking a line too long to parse.
func isAuthLine(line string) bool {
	return parseCommand(line).verb == smtp.CmdAUTH
}
