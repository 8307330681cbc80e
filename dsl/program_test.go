package dsl

import (
	"fmt"
	"sync"
	"testing"
)

const pipelined = `connect "${ADDR}"
expect 220
send "EHLO me"
expect 250 /PIPELINING/
auth plain "${USER:-me}" "${PASS}"
expect 235
send "MAIL FROM:<a@b.test>"
send "RCPT TO:<c@d.test>"
send "DATA"
expect 250
expect 250
expect 354
message """
Subject: ${SUBJECT:-hi}

"""
expect 250
quit
`

// TestCheckLeavesTheScriptAlone: Check derives into the Program's own
// nodes, so a Script may be checked from several goroutines (run with
// -race) and is not changed by it.
func TestCheckLeavesTheScriptAlone(t *testing.T) {
	s, err := Parse("p.smtp", []byte(pipelined))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	progs := make([]*Program, 4)
	for i := range progs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			progs[i], _ = Check(s)
		}()
	}
	wg.Wait()
	for _, p := range progs {
		x := p.Step(3).(*Expect)
		if x.Match.Regexp() == nil || !x.CodeMatches(250) || x.CodeMatches(251) {
			t.Errorf("program's expect not derived: %+v", x)
		}
	}
	if x := s.Steps[3].(*Expect); x.Match.Regexp() != nil || x.CodeMatches(250) {
		t.Error("Check wrote into the script's expect")
	}
}

// TestProgramFacts: what Check derives once, for the engine and reports.
func TestProgramFacts(t *testing.T) {
	s, err := Parse("p.smtp", []byte(pipelined))
	if err != nil {
		t.Fatal(err)
	}
	p, err := Check(s)
	if err != nil {
		t.Fatal(err)
	}
	vs := p.Variables()
	type v struct {
		name      string
		line, col int
		def, sec  bool
	}
	wantVs := []v{{"ADDR", 1, 10, false, false}, {"USER", 5, 13, true, false}, {"PASS", 5, 27, false, true}, {"SUBJECT", 14, 10, true, false}}
	if len(vs) != len(wantVs) {
		t.Fatalf("variables: %+v", vs)
	}
	for i, w := range wantVs {
		g := vs[i]
		if g.Name != w.name || g.Pos.Line != w.line || g.Pos.Column != w.col || g.HasDefault != w.def || g.Secret != w.sec {
			t.Errorf("variable %d: %+v, want %+v", i, g, w)
		}
	}
}

// TestTokenSpans: every token an error can point at knows where it starts
// and ends, read from the token itself, whatever the spacing.
func TestTokenSpans(t *testing.T) {
	src := "connect   \"h:465\"   tls\nexpect   220|2xx    /x/\nauth    plian \"u\"  \"p\"\n  starttls\nquit   \nmessage   binary  file \"m\"\nexpect closed\n"
	s, err := Parse("s.smtp", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	at := func(w interface {
		Pos() Pos
		End() Pos
	}) string {
		return fmt.Sprintf("%d:%d-%d:%d", w.Pos().Line, w.Pos().Column, w.End().Line, w.End().Column)
	}
	c := s.Steps[0].(*Connect)
	x := s.Steps[1].(*Expect)
	a := s.Steps[2].(*Auth)
	m := s.Steps[5].(*Message)
	for _, tc := range []struct{ what, got, want string }{
		{"connect", at(c), "1:1-1:24"},
		{"address", at(c.Address), "1:11-1:18"},
		{"tls", at(c.TLS), "1:21-1:24"},
		{"code 1", at(x.Codes[0]), "2:10-2:13"},
		{"code 2", at(x.Codes[1]), "2:14-2:17"},
		{"matcher", at(x.Match), "2:21-2:24"},
		{"mechanism", at(&a.Mechanism), "3:9-3:14"},
		{"user", at(a.User), "3:15-3:18"},
		{"secret", at(a.Secret), "3:20-3:23"},
		{"starttls", at(s.Steps[3]), "4:3-4:11"},
		{"quit", at(s.Steps[4]), "5:1-5:5"},
		{"binary", at(m.Binary), "6:11-6:17"},
		{"file", at(m.File), "6:24-6:27"},
		{"closed", at(s.Steps[6].(*Expect).Closed), "7:8-7:14"},
	} {
		if tc.got != tc.want {
			t.Errorf("%s at %s, want %s", tc.what, tc.got, tc.want)
		}
	}
}
