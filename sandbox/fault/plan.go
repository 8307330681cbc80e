package fault

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/smtprun/smtprun/internal/suggest"
)

// Plan is one parsed fault plan.
type Plan struct {
	Source string // the plan as written
	// Verb is the command it watches, upper case ("RCPT", "MAIL", ...),
	// Message for the end of a message (after the final dot or BDAT
	// LAST), or Connect for the greeting; "" with Pattern: any command.
	Verb string
	// Nth, when above 0, fails only the Nth matching command counted from
	// when the plan was set, once; 0 fails every matching command.
	Nth int
	// Arg, when set, is a glob ("*" matches any run of characters) the
	// command's argument must match, without regard to case: the address
	// for MAIL and RCPT, the rest of the line for other commands.
	Arg string
	// Pattern, when set, is a regular expression the whole command line
	// must match (an AUTH line as the transcript shows it, masked).
	Pattern *regexp.Regexp
	Reply   Reply
	Close   bool // hang up after the reply
}

// Message is the Verb of a plan that fails the end of a message.
const Message = "MESSAGE"

// Connect is the Verb of a plan that refuses a connection's greeting.
// RFC 5321 3.1 and 3.8 allow two refusals there: 554, after which the
// server answers 503 to every command but QUIT, and 421, after which it
// hangs up.
const Connect = "CONNECT"

// Reply is what a plan answers: a code and its text lines, as a server
// writes them without "NNN-" prefixes, and the catalogue name it came
// from, if any.
type Reply struct {
	Code  int
	Lines []string
	Name  string
}

// String writes the reply as one line per text line.
func (r Reply) String() string {
	out := make([]string, len(r.Lines))
	for i, l := range r.Lines {
		sep := "-"
		if i == len(r.Lines)-1 {
			sep = " "
		}
		out[i] = strconv.Itoa(r.Code) + sep + l
	}
	return strings.Join(out, "\n")
}

// verbs are the commands a plan may name: RFC 5321's and the extensions
// the sandbox serves, "message" for the end of a message and "connect"
// for the greeting.
var verbs = map[string]bool{
	Connect: true, "HELO": true, "EHLO": true, "STARTTLS": true, "AUTH": true, "MAIL": true, "RCPT": true,
	"DATA": true, "BDAT": true, "RSET": true, "NOOP": true, "VRFY": true, "QUIT": true, Message: true,
}

// SyntaxError is a plan that does not parse: Col is the 1-based column of
// the mistake in Source, Span how many columns it covers.
type SyntaxError struct {
	Source string
	Col    int
	Span   int
	Msg    string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("fault plan %q, column %d: %s", e.Source, e.Col, e.Msg)
}

// Parse reads one plan:
//
//	rcpt#3=550 5.1.1 No such user
//	rcpt:bob@example.com=office365.rcpt.recipient_not_found
//	mail:*@example.org=451 4.7.1 Try again later,close
//	/^EHLO localhost/=421 4.7.0 Try again later, closing connection.
//	message=554 5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException
//	connect#2=421 4.3.2 Service not available
//
// A reply is a 4xx or 5xx code with its text, or a name from the reply
// catalogue; ",close" at the end hangs up after it (a 421 always does,
// RFC 5321 3.8).
func Parse(src string) (Plan, error) {
	p := Plan{Source: src}
	fail := func(col, span int, format string, args ...any) (Plan, error) {
		return Plan{}, &SyntaxError{Source: src, Col: col + 1, Span: max(span, 1), Msg: fmt.Sprintf(format, args...)}
	}
	var reply string
	var rest int
	if strings.HasPrefix(src, "/") {
		end := closingSlash(src)
		if end < 0 {
			return fail(0, len(src), "a pattern starts with / and needs a closing /")
		}
		re, err := regexp.Compile("(?i)" + src[1:end])
		if err != nil {
			return fail(1, end-1, "not a regular expression: %s", strings.TrimPrefix(err.Error(), "error parsing regexp: "))
		}
		p.Pattern = re
		if end+1 >= len(src) || src[end+1] != '=' {
			return fail(end+1, 1, "want = and the reply after the pattern")
		}
		reply, rest = src[end+2:], end+2
	} else {
		eq := strings.IndexByte(src, '=')
		if eq < 0 {
			return fail(len(src), 1, "want TARGET=REPLY, as in rcpt#3=550 5.1.1 No such user")
		}
		reply, rest = src[eq+1:], eq+1
		name, cond := src[:eq], ""
		if i := strings.IndexAny(name, "#:"); i >= 0 {
			name, cond = name[:i], name[i:]
		}
		p.Verb = strings.ToUpper(name)
		if !verbs[p.Verb] {
			hint := ""
			if best := suggest.Closest(strings.ToLower(name), strings.Split(verbList(), ", ")); best != "" {
				hint = fmt.Sprintf(" (did you mean %s?)", best)
			}
			return fail(0, len(name), "%q is not a command a plan can fail%s; want one of %s, or /PATTERN/", name, hint, verbList())
		}
		switch {
		case strings.HasPrefix(cond, "#"):
			n, err := strconv.Atoi(cond[1:])
			if err != nil || n < 1 || n > 1_000_000 {
				return fail(len(name)+1, len(cond)-1, "want a count from 1, as in %s#3", name)
			}
			p.Nth = n
		case strings.HasPrefix(cond, ":"):
			if p.Arg = cond[1:]; p.Arg == "" {
				return fail(len(name)+1, 1, "want an address or text after :, as in rcpt:bob@example.com")
			}
			switch p.Verb {
			case Message:
				return fail(len(name), len(cond), "the end of a message has no argument; use message or message#N")
			case Connect:
				return fail(len(name), len(cond), "the greeting has no argument; use connect or connect#N")
			}
		}
	}
	if body, ok := cutSuffixFold(reply, ",close"); ok {
		reply, p.Close = body, true
	}
	r, col, span, msg := parseReply(reply)
	if msg != "" {
		return fail(rest+col, span, "%s", msg)
	}
	if p.Verb == Connect && r.Code != 421 && r.Code != 554 {
		return fail(rest, len(reply), "a greeting is refused with 554 (the server then answers 503 to all but QUIT) or 421 (and it hangs up), RFC 5321 3.1; not %d", r.Code)
	}
	p.Reply = r
	if r.Code == 421 {
		p.Close = true
	}
	return p, nil
}

func closingSlash(s string) int {
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '/':
			return i
		}
	}
	return -1
}

func cutSuffixFold(s, suffix string) (string, bool) {
	if len(s) >= len(suffix) && strings.EqualFold(s[len(s)-len(suffix):], suffix) {
		return s[:len(s)-len(suffix)], true
	}
	return s, false
}

// parseReply reads "550 5.1.1 text" or a catalogue name; col and msg say
// what is wrong.
func parseReply(s string) (r Reply, col, span int, msg string) {
	if s == "" {
		return r, 0, 1, "want a reply after =: a code and text (550 5.1.1 No such user) or a catalogue name"
	}
	if s[0] >= '0' && s[0] <= '9' {
		code, text, _ := strings.Cut(s, " ")
		n, err := strconv.Atoi(code)
		if err != nil || len(code) != 3 {
			return r, 0, len(code), "a reply code is three digits"
		}
		if n < 400 || n > 599 {
			return r, 0, 3, fmt.Sprintf("%d is not an error: a fault answers with a 4xx or 5xx code", n)
		}
		if i := strings.IndexFunc(text, func(c rune) bool { return c < ' ' || c == 0x7f }); i >= 0 {
			return r, len(code) + 1 + i, 1, "a control character in the reply text"
		}
		if text == "" {
			text = defaultText(n)
		}
		return Reply{Code: n, Lines: []string{text}}, 0, 0, ""
	}
	if rep, ok := catalogue(s); ok {
		return rep, 0, 0, ""
	}
	return r, 0, len(s), fmt.Sprintf("%q is neither a reply (550 5.1.1 text) nor a name in the reply catalogue%s", s, catalogueHint(s))
}

// defaultText is the text of a reply given by its code alone.
func defaultText(code int) string {
	class := code / 100
	return fmt.Sprintf("%d.0.0 Failed by a fault plan", class)
}

func verbList() string {
	return "connect, helo, ehlo, starttls, auth, mail, rcpt, data, bdat, message, rset, noop, vrfy, quit"
}
