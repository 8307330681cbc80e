package dsl

import (
	"fmt"
	"sort"
	"strings"
)

// checkOrder follows the conversation statically, counting the replies the
// server owes: connect owes a greeting, send and message one reply each,
// auth the reply after its exchange, and expect reads one. There are no
// branches in the language, so the count is exact, and forgetting an expect
// (or adding one too many) is caught before anything is sent. Lines written
// with send after DATA's 354 are message content and owe nothing until the
// lone "." that ends them.
func checkOrder(s *Script) ErrorList {
	var errs ErrorList
	connected := false
	tls := false
	owed := []*Step{} // steps whose replies are unread, oldest first
	afterData := 0    // 0: not in DATA; 1: DATA sent; 2: DATA answered (content follows)
	// After a raw step nobody knows how many replies are owed (the bytes
	// may hold any number of commands), so counting stops until the next
	// connect.
	unknown := false
	for _, st := range s.Steps {
		if st.Note != nil {
			continue // narration: no effect on the conversation
		}
		if unknown && st.Connect == nil {
			if st.Quit != nil {
				connected = false
			}
			continue
		}
		needConn := func(word string) {
			if !connected {
				errs = append(errs, &Error{Pos: st.Pos, Span: len(word), Title: "not connected",
					Label: fmt.Sprintf("`%s` needs a connection", word),
					Notes: []string{"help: start with connect \"HOST:PORT\"; after quit or a closed connection, connect again"}})
			}
		}
		needNothingOwed := func(word string) {
			if len(owed) > 0 {
				first := owed[0]
				errs = append(errs, &Error{Pos: st.Pos, Span: len(word), Title: "unread reply",
					Label: fmt.Sprintf("the reply to line %d (%s) has not been read", first.Pos.Line, describeStep(s, first)),
					Notes: []string{fmt.Sprintf("help: add `expect` before `%s`; %s reads its own replies", word, word)}})
				owed = owed[:0]
			}
		}
		switch {
		case st.Connect != nil:
			connected, tls, afterData, unknown = true, st.Connect.TLS, 0, false
			owed = append(owed[:0], st)
		case st.Send != nil:
			needConn("send")
			text, static := st.Send.Text.Static()
			switch {
			case afterData == 2 && static && text != ".":
				// message content written by hand: no reply
			case afterData == 2:
				afterData = 0
				owed = append(owed, st)
			default:
				if static && strings.EqualFold(strings.TrimSpace(text), "DATA") {
					afterData = 1
				} else {
					afterData = 0
				}
				owed = append(owed, st)
			}
		case st.Raw != nil:
			needConn("raw")
			unknown = true
		case st.Expect != nil && st.Expect.Closed:
			needConn("expect")
			connected, tls, afterData = false, false, 0
			owed = owed[:0]
		case st.Expect != nil:
			needConn("expect")
			if len(owed) == 0 && connected {
				errs = append(errs, &Error{Pos: st.Pos, Span: len("expect"), Title: "nothing to expect",
					Label: "every reply the server owes has already been read",
					Notes: []string{"help: each connect, send, message and auth is answered by exactly one reply; remove this expect or add the command it checks"}})
				continue
			}
			if len(owed) > 0 {
				if afterData == 1 && owed[len(owed)-1].Send != nil && len(owed) == 1 {
					afterData = 2
				}
				owed = owed[1:]
			}
		case st.StartTLS != nil:
			needConn("starttls")
			needNothingOwed("starttls")
			if tls {
				errs = append(errs, &Error{Pos: st.Pos, Span: len("starttls"), Title: "already encrypted",
					Label: "the connection already uses TLS", Notes: []string{"help: RFC 3207 allows one TLS negotiation per connection; remove this line, or connect without `tls`"}})
			}
			tls = true
		case st.Auth != nil:
			needConn("auth")
			needNothingOwed("auth")
			owed = append(owed, st)
		case st.Message != nil:
			needConn("message")
			switch {
			case st.Message.Binary && afterData == 2:
				errs = append(errs, &Error{Pos: st.Pos, Span: len("message"), Title: "binary message after DATA",
					Label: "message binary is sent with BDAT, which replaces DATA",
					Notes: []string{"help: remove send \"DATA\" and its expect 354; announce the body with MAIL FROM:<...> BODY=BINARYMIME"}})
			case !st.Message.Binary && afterData != 2:
				errs = append(errs, &Error{Pos: st.Pos, Span: len("message"), Title: "message outside DATA",
					Label: "message content is sent after the server's 354 to DATA",
					Notes: []string{"help: precede it with:  send \"DATA\"  and  expect 354"}})
			}
			afterData = 0
			owed = append(owed, st)
		case st.Quit != nil:
			needConn("quit")
			needNothingOwed("quit")
			connected, tls, afterData = false, false, 0
		}
	}
	return errs
}

func describeStep(s *Script, st *Step) string {
	line, _ := SourceLine(s.Source, st.Pos.Line)
	line = strings.TrimSpace(line)
	if i := strings.Index(line, " #"); i > 0 {
		line = strings.TrimSpace(line[:i])
	}
	if len(line) > 40 {
		line = line[:37] + "..."
	}
	return "`" + line + "`"
}

func sortErrors(errs ErrorList) {
	sort.SliceStable(errs, func(i, j int) bool {
		a, b := errs[i].Pos, errs[j].Pos
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
}
