package dsl

import (
	"strings"

	"github.com/smtprun/smtprun/internal/sasl"
)

// StepKind describes one step of the language: the registry below is the
// single list that the keyword list, the usage texts in errors, the
// suggestions and the help all read. Adding a step means adding an entry
// here, a type in ast.go and its cases in the type switches of parse,
// check, order and format; TestRegistryCoversEverySwitch fails until
// every switch knows it.
type StepKind struct {
	Keyword string
	Usage   string // one line, as shown after "usage: "
	Doc     string // what the step does, in a sentence
	Example string // a line that parses as this step
}

var stepKinds = []StepKind{
	{"connect", `connect "HOST:PORT" [tls]`, "open a connection; tls means implicit TLS (port 465)", `connect "mx.example:587"`},
	{"send", `send "COMMAND LINE"`, "write one command line; CRLF is appended", `send "NOOP"`},
	{"expect", `expect CODES ["substring" | /regex/]   e.g. expect 250|251 "ok"; or: expect closed`, "read one reply and check its code and text", `expect 250 "ok"`},
	{"starttls", `starttls`, "upgrade the connection to TLS (RFC 3207)", `starttls`},
	{"auth", "auth " + strings.Join(mechanisms, "|") + ` "USER" "SECRET"`, "authenticate with a SASL mechanism (RFC 4954)", `auth plain "u" "p"`},
	{"message", "message [binary] \"\"\" (content lines, then \"\"\" alone on a line)  or  message [binary] file \"PATH\"", "send a message's content after DATA's 354, or with BDAT", `message file "m.eml"`},
	{"quit", `quit`, "send QUIT, expect 221 and close", `quit`},
	{"raw", `raw "BYTES"   (exact bytes, no CRLF added; \r \n \t \xNN allowed)`, "write exact bytes", `raw "NOOP\r\n"`},
	{"note", `note "TEXT"   (narration for the transcript)`, "narrate; nothing is sent", `note "hello"`},
	{"include", `include "PATH"   (a script's steps spliced here; PATH relative to this file)`, "splice the steps of another script here", `include "common/login.smtp"`},
	{"repeat", `repeat COUNT {   (COUNT a number, ${NAME} or ${NAME:-NUMBER}; the steps on the lines after it, then } alone on a line)`, "run the steps of the block COUNT times in a row on the same connection; ${REPEAT} is the iteration, from 1", "repeat 2 {\n  send \"NOOP\"\n  expect 250\n}"},
}

// StepKinds lists the steps of language version 1, in the order help
// shows them. The slice is a copy.
func StepKinds() []StepKind { return append([]StepKind(nil), stepKinds...) }

// Keywords are the step words of language version 1.
func Keywords() []string {
	out := make([]string, len(stepKinds))
	for i, k := range stepKinds {
		out[i] = k.Keyword
	}
	return out
}

func usageOf(keyword string) (string, bool) {
	for _, k := range stepKinds {
		if k.Keyword == keyword {
			return k.Usage, true
		}
	}
	return "", false
}

// mechanisms are the SASL mechanisms the auth step accepts, lower-case:
// those of the mechanism table, which the engine runs.
var mechanisms = sasl.Names()

// Mechanisms lists the SASL mechanisms the auth step accepts, lower-case.
// The slice is a copy.
func Mechanisms() []string { return append([]string(nil), mechanisms...) }
