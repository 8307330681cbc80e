package sandbox

import (
	"bytes"
	"strings"
	"testing"

	"github.com/smtprun/smtprun/dsl"
)

// FuzzRecordRoundTrip: whatever a client sends, the recording of it is a
// script that parses and checks, and its steps send the same bytes: a
// command line as send or raw, message content as message (dot-stuffed
// again by the engine) or raw.
func FuzzRecordRoundTrip(f *testing.F) {
	f.Add("EHLO laptop", false, "Subject: hi\r\n\r\nbody\r\n..dot\r\n")
	f.Add("MAIL FROM:<${HOME}@example.org>", false, "a\nb\r\n")
	f.Add("NOOP \x00\x7f\xff", true, "\"\"\"\r\n")
	f.Add("RCPT TO:<a@b> \\ \"", false, "x\ry\r\n")
	f.Fuzz(func(t *testing.T, line string, bareLF bool, wire string) {
		if strings.ContainsAny(line, "\r\n") {
			return // one line is what the session hands over
		}
		for _, l := range strings.SplitAfter(wire, "\n") {
			if l == ".\r\n" || l == ".\n" {
				return // the end of the message: never content
			}
		}
		sb := &Sandbox{recordBound: maxRecordedBytes, opts: Options{MaxMemoryBytes: 1 << 30}}
		r := &sessionRecorder{sb: sb}
		expect := func(code string) dsl.Step {
			return &dsl.Expect{Kw: word("expect"), Codes: []*dsl.Code{{Word: word(code)}}}
		}
		r.add(expect("220"), 0)
		r.add(lineStep(line, bareLF), len(line))
		r.add(expect("5xx"), 0)
		r.add(&dsl.Send{Kw: word("send"), Text: lit("DATA")}, 4)
		r.add(expect("354"), 0)
		r.recordData([]byte(wire))
		r.endData(".\r\n")
		r.add(expect("250"), 0)
		script := &dsl.Script{Steps: append([]dsl.Step{&dsl.Connect{Kw: word("connect"), Address: lit("mail.example.edu:25")}}, r.steps...)}
		var b bytes.Buffer
		if err := dsl.Format(&b, script); err != nil {
			t.Fatalf("format: %v", err)
		}
		parsed, err := dsl.Parse("recorded.smtp", b.Bytes())
		if err != nil {
			t.Fatalf("parse: %v\n%s", err, b.String())
		}
		prog, err := dsl.Check(parsed)
		if err != nil {
			t.Fatalf("check: %v\n%s", err, b.String())
		}
		all := prog.Steps()
		if len(all) != 8 {
			t.Fatalf("%d steps:\n%s", len(all), b.String())
		}
		steps := []dsl.Step{all[2], all[6]}
		if len(steps) != 2 {
			t.Fatalf("%d steps:\n%s", len(steps), b.String())
		}
		vars := dsl.MapVars{}
		end := "\r\n"
		if bareLF {
			end = "\n"
		}
		switch st := steps[0].(type) {
		case *dsl.Send:
			got, _ := st.Text.Expand(vars)
			if got+"\r\n" != line+end {
				t.Errorf("send %q, client sent %q", got, line+end)
			}
		case *dsl.Raw:
			got, _ := st.Text.Expand(vars)
			if got != line+end {
				t.Errorf("raw %q, client sent %q", got, line+end)
			}
		default:
			t.Errorf("line recorded as %T", st)
		}
		switch st := steps[1].(type) {
		case *dsl.Message:
			got, _ := st.Inline.Expand(vars)
			// What the server receives, after dot-unstuffing, is the
			// same (a client's undoubled dot is lost either way).
			sent := strings.ReplaceAll(got, "\n", "\r\n")
			var received strings.Builder
			for _, l := range strings.SplitAfter(wire, "\r\n") {
				received.WriteString(strings.TrimPrefix(l, "."))
			}
			if sent != received.String() {
				t.Errorf("message sends %q, the server received %q\n%s", sent, received.String(), b.String())
			}
		case *dsl.Raw:
			got, _ := st.Text.Expand(vars)
			if got != wire+".\r\n" {
				t.Errorf("raw %q, client sent %q", got, wire+".\r\n")
			}
		default:
			t.Errorf("message recorded as %T", st)
		}
	})
}
