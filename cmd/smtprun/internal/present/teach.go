package present

import (
	"encoding/base64"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/smtprun/smtprun/engine"
	"github.com/smtprun/smtprun/explain"
)

// Teacher produces the --explain lines: what each command asks and what
// each reply means, from the knowledge base in explain.
type Teacher struct {
	host string // the host connected to, for provider-specific meanings
}

// sent explains a command line.
func (t *Teacher) sent(ev engine.Sent) []string {
	switch ev.Role {
	case engine.RoleRaw:
		return helpLines("explain-raw")
	case engine.RoleEndOfData:
		return helpLines("explain-end-of-data")
	case engine.RoleUsername:
		// The user name is not secret; the password line is masked and
		// never decoded.
		if b, err := base64.StdEncoding.DecodeString(ev.Line); err == nil {
			return helpLines("explain-username", "encoded", strconv.Quote(ev.Line), "decoded", strconv.Quote(string(b)))
		}
		return nil
	case engine.RoleCommand, engine.RoleAuth, engine.RoleToken:
		// A token line is "AUTH XOAUTH2 ********": the command and its
		// mechanism are explained, the masked response is not.
	default:
		return nil // content, or AUTH responses the role note describes
	}
	var out []string
	if e, ok := explain.Command(ev.Line); ok {
		out = append(out, entryLine(e))
	}
	for _, p := range explain.Parameters(ev.Line) {
		out = append(out, entryLine(p))
	}
	return out
}

// received explains a reply: its code, its enhanced status code, each EHLO
// keyword, a decoded 334 challenge, and a hint for a known error.
func (t *Teacher) received(ev engine.Received) []string {
	rep := ev.Reply
	var out []string
	r := explain.Reply(rep.Code)
	out = append(out, fmt.Sprintf("%d %s: %s (%s)", rep.Code, r.Title, r.Text, r.Source))
	// A success code's generic detail (2.0.0, 2.1.0) says nothing the
	// reply code has not said already.
	if enh := rep.EnhancedCode(); enh != "" && !(enh[0] == '2' && strings.HasSuffix(enh, ".0")) {
		if e, ok := explain.EnhancedFor(enh, t.host); ok {
			out = append(out, fmt.Sprintf("%s %s: %s (%s)", enh, e.Title, e.Text, e.Source))
		}
	}
	verb, _, _ := strings.Cut(ev.Answers, " ")
	switch {
	case rep.Code == 250 && strings.EqualFold(verb, "EHLO") && len(rep.Text) > 1:
		for _, kw := range rep.Text[1:] {
			if e, ok := explain.Keyword(kw); ok {
				out = append(out, fmt.Sprintf("%s: %s (%s)", strings.Fields(kw + " ")[0], e.Text, e.Source))
			}
		}
	case rep.Code == 334 && len(rep.Text) > 0:
		text := strings.TrimSpace(rep.Text[0])
		if decoded, e, ok := explain.Challenge(text); ok {
			out = append(out, fmt.Sprintf("%q is base64 for %q: %s (%s)", text, decoded, e.Text, e.Source))
		}
	}
	if rep.Code >= 400 {
		if hints := explain.HintsFor(rep.Code, rep.Text, t.host); len(hints) > 0 {
			// The most specific one; the rest say it more generally.
			out = append(out, "hint: "+hints[0].Text)
		}
	}
	return out
}

func entryLine(e explain.Entry) string {
	return fmt.Sprintf("%s (%s): %s (%s)", e.Topic, e.Title, e.Text, e.Source)
}

// Explainer gives a RenderFailure's Recorder the --explain lines of each event,
// from its own Teacher (which remembers the host connected to).
func Explainer() func(engine.Event) []string {
	t := &Teacher{}
	return func(ev engine.Event) []string {
		switch ev := ev.(type) {
		case engine.Connected:
			t.host, _, _ = net.SplitHostPort(ev.Address)
			return helpLines("explain-connected")
		case engine.Sent:
			return t.sent(ev)
		case engine.Received:
			return t.received(ev)
		case engine.TLSEstablished:
			if !ev.Implicit {
				return helpLines("explain-ehlo-again")
			}
		}
		return nil
	}
}
