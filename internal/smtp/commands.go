package smtp

import (
	"slices"
	"strings"
)

// The command verbs smtprun knows: RFC 5321 4.1.1 and the extensions it
// speaks (STARTTLS RFC 3207, AUTH RFC 4954, BDAT RFC 3030). The client,
// the emulated servers and the knowledge base spell them through these.
const (
	CmdHELO     = "HELO"
	CmdEHLO     = "EHLO"
	CmdSTARTTLS = "STARTTLS"
	CmdAUTH     = "AUTH"
	CmdMAIL     = "MAIL"
	CmdRCPT     = "RCPT"
	CmdDATA     = "DATA"
	CmdBDAT     = "BDAT"
	CmdRSET     = "RSET"
	CmdNOOP     = "NOOP"
	CmdVRFY     = "VRFY"
	CmdEXPN     = "EXPN"
	CmdHELP     = "HELP"
	CmdQUIT     = "QUIT"
)

// The pseudo-verbs: replies that answer no command line. Their spelling
// cannot be a command's (a verb has no parentheses), so a queue of
// awaited replies can hold commands and these side by side.
const (
	// Greeting is the reply the server owes on connect (RFC 5321 3.1).
	Greeting = `(greeting)`
	// Message is the reply to a message's content: after the final "."
	// of DATA (RFC 5321 4.1.1.4) or the last BDAT chunk (RFC 3030).
	Message = `(message)`
)

// Command is one entry of the command table.
type Command struct {
	// Verb is the command verb, upper case, or a pseudo-verb.
	Verb string
	// Replies are the success and intermediate codes (below 400) that may
	// answer it, for a command that has codes of its own (RFC 5321
	// 4.3.2): 354 answers DATA alone, 221 QUIT. Nil means any code below
	// 400 that no other command lists; failures (4yz, 5yz) may answer
	// any command.
	Replies []int
	// Histogram: load mode gives its replies a latency row of their own,
	// named after the verb; the replies to other lines share "other".
	Histogram bool
	// Pseudo marks Greeting and Message: replies, not command lines.
	Pseudo bool
}

// commands is the table, in the order of a conversation: load mode's
// summary lists its rows in this order.
var commands = []Command{
	{Verb: Greeting, Replies: []int{220}, Histogram: true, Pseudo: true},
	{Verb: CmdEHLO, Histogram: true},
	{Verb: CmdHELO, Histogram: true},
	// RFC 3207 4: 220 Ready to start TLS, as the greeting.
	{Verb: CmdSTARTTLS, Replies: []int{220}, Histogram: true},
	// RFC 4954 4 and 6: 334 for each challenge, 235 at the end.
	{Verb: CmdAUTH, Replies: []int{235, 334}, Histogram: true},
	{Verb: CmdMAIL, Histogram: true},
	{Verb: CmdRCPT, Histogram: true},
	{Verb: CmdDATA, Replies: []int{354}, Histogram: true},
	{Verb: CmdBDAT, Histogram: true},
	{Verb: Message, Histogram: true, Pseudo: true},
	{Verb: CmdRSET, Histogram: true},
	{Verb: CmdNOOP, Histogram: true},
	{Verb: CmdQUIT, Replies: []int{221}, Histogram: true},
	{Verb: CmdVRFY, Histogram: true},
	{Verb: CmdEXPN, Histogram: true},
	{Verb: CmdHELP, Histogram: true},
}

// Table returns the command table, pseudo-verbs included, in the order
// of a conversation. The slice is a copy.
func Table() []Command { return slices.Clone(commands) }

// Lookup finds a verb or pseudo-verb, exactly as spelled (verbs upper
// case).
func Lookup(verb string) (Command, bool) {
	i := slices.IndexFunc(commands, func(c Command) bool { return c.Verb == verb })
	if i < 0 {
		return Command{}, false
	}
	return commands[i], true
}

// IsCommand reports whether verb, upper case, is a command smtprun knows
// (not a pseudo-verb).
func IsCommand(verb string) bool {
	c, ok := Lookup(verb)
	return ok && !c.Pseudo
}

// Commands lists the command verbs, without the pseudo-verbs, in the
// table's order.
func Commands() []string {
	var verbs []string
	for _, c := range commands {
		if !c.Pseudo {
			verbs = append(verbs, c.Verb)
		}
	}
	return verbs
}

// CanAnswer reports whether a reply with code may answer verb. Only the
// codes some commands have of their own are told apart (Command.Replies):
// a failure may answer anything, and so may any code a line smtprun does
// not know as a command (a SASL response typed by hand, an extension).
func CanAnswer(verb string, code int) bool {
	c, ok := Lookup(verb)
	if code >= 400 || !ok {
		return true
	}
	if c.Replies != nil {
		return slices.Contains(c.Replies, code)
	}
	return !slices.ContainsFunc(commands, func(o Command) bool { return slices.Contains(o.Replies, code) })
}

// SplitCommand splits a command line into its verb, upper-cased (verbs are
// case-insensitive, RFC 5321 2.4), and its argument, trimmed.
func SplitCommand(line string) (verb, arg string) {
	line = strings.TrimLeft(line, " \t")
	verb, arg, _ = strings.Cut(line, " ")
	return strings.ToUpper(verb), strings.TrimSpace(arg)
}
