package engine

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/smtprun/smtprun/dsl"
)

const testSecret = "hunter2-secret"

// filled returns a value of the event's type with every string field (and
// every reply line) holding the secret.
func filled(ev Event) Event {
	v := reflect.New(reflect.TypeOf(ev)).Elem()
	for i := 0; i < v.NumField(); i++ {
		f := v.Field(i)
		switch {
		case f.Kind() == reflect.String:
			f.SetString("text " + testSecret + " text")
		case f.Type() == reflect.TypeOf(&Reply{}):
			f.Set(reflect.ValueOf(&Reply{Code: 250, Lines: []string{"250 " + testSecret}, Text: []string{testSecret}}))
		}
	}
	return v.Interface().(Event)
}

// eventTypes lists the types in this package that have a redact method,
// read from the source: a new event type is found here without anyone
// adding it to a list.
func eventTypes(t *testing.T) []string {
	var names []string
	for _, m := range packageMethods(t) {
		// Events are values; errors, which redact too, are pointers.
		if m.name == "redact" && !m.pointer {
			names = append(names, m.typ)
		}
	}
	return names
}

// TestEveryEventIsMasked: each event type, with the secret in every text
// field, comes out of redact with none of it left.
func TestEveryEventIsMasked(t *testing.T) {
	samples := map[string]Event{}
	for _, ev := range []Event{StepStarted{}, Connected{}, Sent{}, Sent{Role: RolePassword}, DataSummary{}, Received{},
		TLSEstablished{}, Notice{}, Narration{}, ExpectPassed{}, Closed{}, Captured{}, OAuthRefused{}, ReplyTime{}} {
		samples[reflect.TypeOf(ev).Name()] = ev
	}
	types := eventTypes(t)
	if len(types) < 10 {
		t.Fatalf("found only %d event types: %q", len(types), types)
	}
	var r redactor
	r.add(testSecret)
	for _, name := range types {
		ev, ok := samples[name]
		if !ok {
			t.Errorf("event type %s has no sample in this test: add one", name)
			continue
		}
		in := filled(ev)
		if s, ok := in.(Sent); ok && ev.(Sent).Role != 0 {
			s.Role = ev.(Sent).Role
			in = s
		}
		out := in.redact(&r)
		if got := fmt.Sprintf("%+v", out); strings.Contains(got, testSecret) || strings.Contains(reflectReply(out), testSecret) {
			t.Errorf("%s leaks the secret: %s", name, got)
		}
		if before := reflectReply(in); strings.Contains(before, Mask) {
			t.Errorf("%s: redact changed the original reply", name)
		}
	}
}

func reflectReply(ev Event) string {
	v := reflect.ValueOf(ev)
	var b strings.Builder
	for i := 0; i < v.NumField(); i++ {
		if rep, ok := v.Field(i).Interface().(*Reply); ok && rep != nil {
			fmt.Fprint(&b, rep.Lines, rep.Text)
		}
	}
	return b.String()
}

// A credential line is masked by its role even when the redactor does
// not know the secret (a mechanism's response it was never taught).
func TestSecretRoleMaskedWithoutRedactor(t *testing.T) {
	var r redactor
	for line, want := range map[string]string{"AUTH PLAIN AHUAcA==": "AUTH PLAIN " + Mask, "dGltIGI5MTM=": Mask} {
		if got := (Sent{Line: line, Role: RoleCredentials}).redact(&r).(Sent).Line; got != want {
			t.Errorf("%q shown as %q, want %q", line, got, want)
		}
	}
}

// TestErrorsMasked: the errors Run returns pass one masking point.
func TestErrorsMasked(t *testing.T) {
	var r redactor
	r.add(testSecret)
	rep := &Reply{Code: 535, Lines: []string{"535 bad " + testSecret}, Text: []string{"bad " + testSecret}}
	inner := fmt.Errorf("dial %s: %w", testSecret, ErrClosed)
	for _, err := range []error{
		&AssertError{Want: "235", Got: rep, Reason: "code"},
		&ProtocolError{Msg: "m " + testSecret, Detail: testSecret},
		&NetError{Op: "connect to " + testSecret, Err: inner},
		&PolicyError{Msg: testSecret},
		&TimeoutError{Op: testSecret},
		&dsl.Error{Title: "t", Label: testSecret, Notes: []string{testSecret}},
		dsl.ErrorList{{Label: testSecret}},
		inner,
	} {
		got := r.maskErr(err)
		text := got.Error()
		if d, ok := got.(interface{ Diagnostic() *dsl.Error }); ok {
			text += fmt.Sprintf("%+v", *d.Diagnostic())
		}
		if strings.Contains(text, testSecret) {
			t.Errorf("%T leaks: %s", err, text)
		}
		if !errors.Is(got, ErrClosed) && errors.Is(err, ErrClosed) {
			t.Errorf("%T: masking lost the wrapped cause", err)
		}
	}
	if rep.Lines[0] != "535 bad "+testSecret {
		t.Error("masking an error changed the reply it carries")
	}
}

// BenchmarkMaskReplyLine is the masker's cost on one reply line that
// holds no secret, with an OAuth token and a password known: every
// reply of a run with secrets pays it.
func BenchmarkMaskReplyLine(b *testing.B) {
	var r redactor
	r.add("EwBAbC/dEf+GhI=jKlMnOp/0123456789abcdefghijklmnopqrstuvwxyz")
	r.add(testSecret)
	line := "250-smtp.example.com Hello client.example.org [192.0.2.1], pleased to meet you"
	b.ReportAllocs()
	for b.Loop() {
		r.show(line)
	}
}
