package smtp

import (
	"strings"
	"testing"
)

// The codes a command has of its own answer it and nothing else; the
// rest answer any command but those; failures answer anything, and so
// does any code after a line that is not a known command.
func TestCanAnswer(t *testing.T) {
	for _, tc := range []struct {
		verb string
		code int
		want bool
	}{
		{Greeting, 220, true},
		{Greeting, 250, false},
		{CmdSTARTTLS, 220, true},
		{CmdEHLO, 220, false},
		{CmdEHLO, 250, true},
		{CmdQUIT, 221, true},
		{CmdQUIT, 250, false},
		{CmdNOOP, 221, false},
		{CmdDATA, 354, true},
		{CmdDATA, 250, false},
		{CmdRCPT, 354, false},
		{CmdAUTH, 334, true},
		{CmdAUTH, 235, true},
		{CmdAUTH, 250, false},
		{CmdMAIL, 235, false},
		{Message, 250, true},
		{Message, 354, false},
		{CmdMAIL, 451, true},
		{CmdDATA, 554, true},
		{Greeting, 554, true},
		{"dXNlcg==", 334, true}, // a SASL response typed by hand
		{"XCLIENT", 220, true},
	} {
		if got := CanAnswer(tc.verb, tc.code); got != tc.want {
			t.Errorf("CanAnswer(%s, %d) = %v, want %v", tc.verb, tc.code, got, tc.want)
		}
	}
}

// Commands are what a client may send: upper case, no pseudo-verbs, and
// each found by Lookup.
func TestCommands(t *testing.T) {
	for _, v := range Commands() {
		if v != strings.ToUpper(v) || strings.HasPrefix(v, "(") || !IsCommand(v) {
			t.Errorf("command %q", v)
		}
	}
	for _, p := range []string{Greeting, Message} {
		if c, ok := Lookup(p); !ok || !c.Pseudo || IsCommand(p) {
			t.Errorf("pseudo-verb %q: %+v %v", p, c, ok)
		}
	}
	if IsCommand("ehlo") {
		t.Error("Lookup is exact: verbs are upper case by then")
	}
}
