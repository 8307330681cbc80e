package fault

import (
	"strings"
	"sync"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in                string
		verb, arg, reply  string
		nth               int
		close, hasPattern bool
	}{
		{in: "rcpt#3=550 5.1.1 No such user", verb: "RCPT", nth: 3, reply: "550 5.1.1 No such user"},
		{in: "RCPT:bob@example.com=450 4.2.1 Mailbox busy", verb: "RCPT", arg: "bob@example.com", reply: "450 4.2.1 Mailbox busy"},
		{in: "data=421 4.7.0 Try again later,close", verb: "DATA", reply: "421 4.7.0 Try again later", close: true},
		{in: "data=421 4.7.0 Try again later", verb: "DATA", reply: "421 4.7.0 Try again later", close: true}, // 421 always closes
		{in: "mail:*@example.org=451 4.7.1 Later,CLOSE", verb: "MAIL", arg: "*@example.org", reply: "451 4.7.1 Later", close: true},
		{in: "message#2=552 5.2.2 Over quota", verb: Message, nth: 2, reply: "552 5.2.2 Over quota"},
		{in: "/^EHLO localhost$/=421 4.7.0 Try again later, closing connection.", hasPattern: true, reply: "421 4.7.0 Try again later, closing connection.", close: true},
		{in: "/a=b/=550 x", hasPattern: true, reply: "550 x"},
		{in: "quit=554", verb: "QUIT", reply: "554 5.0.0 Failed by a fault plan"},
		{in: "connect=554 5.7.1 No SMTP service here", verb: Connect, reply: "554 5.7.1 No SMTP service here"},
		{in: "CONNECT#2=421 4.3.2 Service not available", verb: Connect, nth: 2, reply: "421 4.3.2 Service not available", close: true},
	} {
		p, err := Parse(tc.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.in, err)
			continue
		}
		if p.Verb != tc.verb || p.Arg != tc.arg || p.Nth != tc.nth || p.Close != tc.close || (p.Pattern != nil) != tc.hasPattern || p.Reply.String() != tc.reply {
			t.Errorf("Parse(%q) = %+v (reply %q)", tc.in, p, p.Reply)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		in       string
		col, spn int
		msg      string
	}{
		{"rcpt#3", 7, 1, "want TARGET=REPLY"},
		{"rcpx#3=550 x", 1, 4, "did you mean rcpt?"},
		{"rcpt#0=550 x", 6, 1, "count from 1"},
		{"rcpt:=550 x", 6, 1, "after :"},
		{"rcpt=250 OK", 6, 3, "not an error"},
		{"rcpt=55 x", 6, 2, "three digits"},
		{"rcpt=", 6, 1, "want a reply"},
		{"rcpt=no.such.name", 6, 12, "neither a reply"},
		{"/[a/=550 x", 2, 2, "not a regular expression"},
		{"/abc=550 x", 1, 10, "closing /"},
		{"message:x=550 y", 8, 2, "no argument"},
		{"connect:x=554 y", 8, 2, "the greeting has no argument"},
		{"connect=550 5.7.1 No", 9, 12, "554 (the server then answers 503 to all but QUIT) or 421"},
		{"connect=450", 9, 3, "not 450"},
		{"connect=gmail.auth.bad_credentials", 9, 26, "not 535"},
		{"conect=554", 1, 6, "did you mean connect?"},
		{"rcpt=550 a\x1bb", 11, 1, "control character"},
	} {
		_, err := Parse(tc.in)
		se, ok := err.(*SyntaxError)
		if !ok {
			t.Errorf("Parse(%q) = %v, want a *SyntaxError", tc.in, err)
			continue
		}
		if se.Col != tc.col || se.Span != tc.spn || !strings.Contains(se.Msg, tc.msg) {
			t.Errorf("Parse(%q): column %d span %d %q; want column %d span %d with %q", tc.in, se.Col, se.Span, se.Msg, tc.col, tc.spn, tc.msg)
		}
	}
}

func mustParse(t *testing.T, s string) Plan {
	t.Helper()
	p, err := Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestMatch: which commands of one conversation each plan fails, the same
// every time.
func TestMatch(t *testing.T) {
	conv := []Command{
		{Verb: "EHLO", Arg: "localhost", Line: "EHLO localhost"},
		{Verb: "MAIL", Arg: "me@example.org", Line: "MAIL FROM:<me@example.org>"},
		{Verb: "RCPT", Arg: "a@example.com", Line: "RCPT TO:<a@example.com>"},
		{Verb: "RCPT", Arg: "Bob@Example.com", Line: "RCPT TO:<Bob@Example.com>"},
		{Verb: "RCPT", Arg: "c@example.com", Line: "RCPT TO:<c@example.com>"},
		{Verb: "DATA", Line: "DATA"},
		{Verb: Message, Arg: "120"},
		{Verb: "RCPT", Arg: "d@example.com", Line: "RCPT TO:<d@example.com>"},
		{Verb: Connect},
	}
	for _, tc := range []struct {
		plans []string
		want  string // the indexes of conv that fail, and by which plan
	}{
		{[]string{"rcpt#2=550 x"}, "3:rcpt#2"},
		{[]string{"rcpt:bob@example.com=550 x"}, "3:rcpt:bob@example.com"},
		{[]string{"rcpt:*@example.com=550 x"}, "2:* 3:* 4:* 7:*"},
		{[]string{"rcpt=450 x"}, "2:rcpt 3:rcpt 4:rcpt 7:rcpt"},
		{[]string{"/^ehlo localhost/=421 x"}, "0:/"},
		{[]string{"message=552 x"}, "6:message"},
		{[]string{"rcpt#1=550 x", "rcpt#3=551 y"}, "2:rcpt#1 4:rcpt#3"},
		{[]string{"rcpt:c@example.com=550 x", "rcpt#3=551 y"}, "4:rcpt:c"},
		{[]string{"mail#2=550 x"}, ""},
		{[]string{"connect=554 x"}, "8:connect"},
		{[]string{"/.*/=554 x"}, "0:/ 1:/ 2:/ 3:/ 4:/ 5:/ 7:/"}, // a pattern is for command lines: not the end of a message, not the greeting
	} {
		var ps Plans
		for _, s := range tc.plans {
			ps.Add(mustParse(t, s))
		}
		var got []string
		for i, c := range conv {
			if p, ok := ps.Match(c); ok {
				got = append(got, strings.Join([]string{itoa(i), p.Source}, ":"))
			}
		}
		if !matchesWant(got, tc.want) {
			t.Errorf("%q: fails %q, want %q", tc.plans, got, tc.want)
		}
	}
}

func itoa(i int) string { return string(rune('0' + i)) }

// matchesWant compares "i:source" entries by index and a prefix of the
// plan's source.
func matchesWant(got []string, want string) bool {
	w := strings.Fields(want)
	if len(w) != len(got) {
		return false
	}
	for i := range w {
		idx, prefix, _ := strings.Cut(w[i], ":")
		gi, gs, _ := strings.Cut(got[i], ":")
		if gi != idx || !strings.HasPrefix(gs, strings.TrimSuffix(prefix, "*")) {
			return false
		}
	}
	return true
}

// TestPlansChangeWhileServing: Set, Clear and List from one goroutine
// while others match (go test -race finds a missing lock).
func TestPlansChangeWhileServing(t *testing.T) {
	var ps Plans
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 500 {
				ps.Match(Command{Verb: "RCPT", Arg: "a@b"})
			}
		}()
	}
	for range 100 {
		ps.Set(mustParse(t, "rcpt#2=550 x"))
		ps.List()
		ps.Clear()
	}
	wg.Wait()
	ps.Set(mustParse(t, "rcpt#2=550 x"))
	ps.Match(Command{Verb: "RCPT"})
	if _, ok := ps.Match(Command{Verb: "RCPT"}); !ok {
		t.Fatal("the second RCPT after Set did not fail: Set does not restart the count")
	}
	if l := ps.List(); len(l) != 1 || l[0].Fired != 1 || !l[0].Spent {
		t.Errorf("List = %+v, want one spent plan that fired once", l)
	}
	if _, ok := ps.Match(Command{Verb: "RCPT"}); ok {
		t.Error("a spent rcpt#2 failed again")
	}
}

func TestMagic(t *testing.T) {
	for _, tc := range []struct {
		addr, reply string
		close, ok   bool
	}{
		{"fail-550@example.com", "550 5.0.0 <fail-550@example.com>: failed on request (smtprun magic recipient)", false, true},
		{"FAIL-421@example.com", "421 4.0.0 <FAIL-421@example.com>: failed on request (smtprun magic recipient)", true, true},
		{"fail-250@example.com", "", false, false},
		{"fail-55@example.com", "", false, false},
		{"failure@example.com", "", false, false},
		{"bob@fail-550.example.com", "", false, false},
		{"reply+no.such.name@example.com", "", false, false},
	} {
		p, ok := Magic(tc.addr)
		if ok != tc.ok || ok && (p.Reply.String() != tc.reply || p.Close != tc.close) {
			t.Errorf("Magic(%q) = %q close %v, %v; want %q close %v, %v", tc.addr, p.Reply, p.Close, ok, tc.reply, tc.close, tc.ok)
		}
	}
}

// TestCatalogueReplies: a plan or a magic recipient may name a catalogue
// reply; its text is the catalogue's template, line by line.
func TestCatalogueReplies(t *testing.T) {
	p := mustParse(t, "auth=gmail.auth.bad_credentials")
	want := "535-5.7.8 Username and Password not accepted. For more information, go to\n535 5.7.8  https://support.google.com/mail/?p=BadCredentials {session} - gsmtp"
	if p.Reply.String() != want || p.Reply.Name != "gmail.auth.bad_credentials" {
		t.Errorf("reply %q (%s), want\n%s", p.Reply, p.Reply.Name, want)
	}
	if m, ok := Magic("reply+gmail.auth.bad_credentials@example.com"); !ok || m.Reply.String() != want {
		t.Errorf("magic recipient: %q, %v", m.Reply, ok)
	}
	_, err := Parse("auth=gmail.auth.bad_credential")
	if se, ok := err.(*SyntaxError); !ok || !strings.Contains(se.Msg, "did you mean gmail.auth.bad_credentials?") {
		t.Errorf("a misspelt name: %v", err)
	}
}
