package dsl

import (
	"bytes"
	"strings"
	"testing"
)

const repeatScript = `connect "127.0.0.1:25"
expect 220
send "EHLO x"
expect 250
repeat ${N} { # one transaction each
  # pipelined: three commands, then their replies
  send "MAIL FROM:<a@b>"
  send "RCPT TO:<c@d>"
  send "DATA"
  expect 250
  expect 250
  expect 354
  message """
Subject: ${REPEAT} of run ${ITERATION}

hi
"""
  expect 250
  repeat 2 {
    send "NOOP"
    expect 250
  }
}
quit
`

func TestRepeatParsesChecksAndFormats(t *testing.T) {
	s, err := Parse("r.smtp", []byte(repeatScript))
	if err != nil {
		t.Fatal(err)
	}
	p, err := Check(s)
	if err != nil {
		t.Fatal(err)
	}
	if p.Len() != 6 {
		t.Fatalf("%d top-level steps, want 6", p.Len())
	}
	r, ok := p.Step(4).(*Repeat)
	if !ok || len(r.Steps) != 9 || r.Count.Parts[0].Var != "N" {
		t.Fatalf("step 4 = %#v", p.Step(4))
	}
	if inner, ok := r.Steps[8].(*Repeat); !ok || len(inner.Steps) != 2 {
		t.Fatalf("nested block = %#v", r.Steps[8])
	}
	// The Program's expects inside the block are checked copies.
	if x := r.Steps[3].(*Expect); x.Codes[0].Pattern() == (&Code{}).Pattern() {
		t.Error("expect inside the block was not checked")
	}
	var b bytes.Buffer
	if err := Format(&b, s); err != nil {
		t.Fatal(err)
	}
	if b.String() != repeatScript {
		t.Errorf("format changed canonical text:\n%s", b.String())
	}
	var names []string
	for _, v := range p.Variables() {
		names = append(names, v.Name)
	}
	if got := strings.Join(names, ","); got != "N,REPEAT,ITERATION" {
		t.Errorf("variables %s", got)
	}
}

func TestRepeatErrors(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"connect \"a:25\"\nexpect 220\nrepeat 0 {\nsend \"NOOP\"\nexpect 250\n}\n", "r.smtp:3:8: invalid repeat count"},
		{"connect \"a:25\"\nexpect 220\nrepeat 2 {\nsend \"NOOP\"\n}\nquit\n", "r.smtp:5:1: unread reply in repeat"},
		{"repeat 2 {\nconnect \"a:25\"\nexpect 220\n}\n", "r.smtp:4:1: repeat changes the connection"},
		{"connect \"a:25\"\nexpect 220\nrepeat 2 {\nstarttls\n}\n", "r.smtp:5:1: repeat changes the connection"},
		{"connect \"a:25\"\nrepeat 2 {\nsend \"NOOP\"\nexpect 250\n}\n", "r.smtp:2:1: unread reply"},
		{"connect \"a:25\"\nexpect 220\nrepeat 2 {\n}\n", "r.smtp:3:10: empty repeat"},
		{"connect \"a:25\"\nexpect 220\nsend \"NOOP ${REPEAT}\"\nexpect 250\n", "r.smtp:3:12: ${REPEAT} outside a repeat block"},
		{"connect \"a:25\"\nexpect 220\nsend \"DATA\"\nexpect 354\nrepeat 2 {\nmessage \"\"\"\nx\n\"\"\"\nexpect 250\n}\n", "r.smtp:10:1: repeat changes the transaction"},
		{"connect \"a:25\"\nexpect 220\nrepeat 2 {\nsend \"NOOP\"\nexpect 250\nexpect 250\n}\n", "r.smtp:6:1: nothing to expect"},
	} {
		s, err := Parse("r.smtp", []byte(tc.src))
		if err == nil {
			_, err = Check(s)
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want %q", tc.src, err, tc.want)
		}
	}
}

func TestRepeatAsAUnitIsFine(t *testing.T) {
	// A new connection per iteration: the block connects and quits.
	src := "repeat 3 {\n  connect \"a:25\"\n  expect 220\n  starttls\n  send \"EHLO x\"\n  expect 250\n  quit\n}\n"
	s, err := Parse("r.smtp", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Check(s); err != nil {
		t.Fatal(err)
	}
}
