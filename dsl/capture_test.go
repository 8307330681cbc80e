package dsl

import "testing"

// TestCapturesInBlocks: a capture inside a repeat block, nested or not, is
// a capture of the program, numbered by the top-level step that holds it;
// `check` asks IsCapture so as not to list it as a variable to set.
func TestCapturesInBlocks(t *testing.T) {
	s, err := Parse("c.smtp", []byte(`connect "h:25"
expect 220 /(?P<greet>\S+)/
repeat 2 {
  send "NOOP"
  expect 250 /(?P<outer>\d+)/
  repeat 2 {
    send "NOOP ${outer}"
    expect 250 /(?P<inner>\d+)/
  }
}
send "NOOP ${inner} ${greet}"
expect 250
`))
	if err != nil {
		t.Fatal(err)
	}
	p, err := Check(s)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		name     string
		step, ln int
	}{{"greet", 1, 2}, {"outer", 2, 5}, {"inner", 2, 8}}
	caps := p.Captures()
	if len(caps) != len(want) {
		t.Fatalf("captures %+v", caps)
	}
	for i, w := range want {
		if c := caps[i]; c.Name != w.name || c.Step != w.step || c.Pos.Line != w.ln || !p.IsCapture(w.name) {
			t.Errorf("capture %d = %+v, want %+v", i, c, w)
		}
	}
	if p.IsCapture("N") {
		t.Error("IsCapture(N) for a name no group has")
	}
}

// TestCaptureNotSecretIsFine: a group may share a name with a variable
// that is not an auth secret, and the secret's own name is free for a
// script without captures of it.
func TestCaptureNotSecretIsFine(t *testing.T) {
	s, err := Parse("c.smtp", []byte(`connect "h:587"
expect 220
send "EHLO x"
expect 250 /(?P<SMTP_USER>\S+)/
starttls
auth plain "${SMTP_USER}" "${SMTP_PASS}"
expect 235
`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Check(s); err != nil {
		t.Fatal(err)
	}
}
