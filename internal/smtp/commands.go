package smtp

import "strings"

// The command verbs smtprun knows: RFC 5321 4.1.1 and the extensions it
// speaks (STARTTLS RFC 3207, AUTH RFC 4954, BDAT RFC 3030). Written once so
// the client, the emulated servers and the knowledge base agree on the
// spelling.
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

// Commands lists the verbs, in the order RFC 5321 4.1.1 presents them,
// with the extensions after.
func Commands() []string {
	return []string{CmdEHLO, CmdHELO, CmdMAIL, CmdRCPT, CmdDATA, CmdRSET, CmdVRFY, CmdEXPN, CmdHELP, CmdNOOP, CmdQUIT,
		CmdSTARTTLS, CmdAUTH, CmdBDAT}
}

// SplitCommand splits a command line into its verb, upper-cased (verbs are
// case-insensitive, RFC 5321 2.4), and its argument, trimmed.
func SplitCommand(line string) (verb, arg string) {
	line = strings.TrimLeft(line, " \t")
	verb, arg, _ = strings.Cut(line, " ")
	return strings.ToUpper(verb), strings.TrimSpace(arg)
}
