package dsl

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// everyNode has each step and each optional token of the language.
const everyNode = `connect "h:465" tls
expect 220
send "EHLO x"
expect 250|2xx "ok"
starttls
auth plain "${U}" "${P}"
expect 235 /(?P<id>\d+)/
send "MAIL FROM:<a@b>"
expect 250
send "DATA"
expect 354
message """ # inline
hi ${id}
"""
expect 250
message binary file "m.eml"
expect 250
raw "NOOP\r\n"
note "n"
include "other.smtp"
repeat ${N:-2} {
  repeat 2 {
    send "NOOP"
    expect 250
  }
}
quit
expect closed
bogus words here
`

// children lists the nodes a node holds, read by reflection from its
// fields: whatever Walk's switch says, a node-typed field added to a type
// is found here.
func children(n Node) []Node {
	var out []Node
	v := reflect.ValueOf(n).Elem()
	nodeType := reflect.TypeOf((*Node)(nil)).Elem()
	var add func(f reflect.Value)
	add = func(f reflect.Value) {
		switch {
		case f.Kind() == reflect.Slice:
			for i := 0; i < f.Len(); i++ {
				add(f.Index(i))
			}
		case f.Kind() == reflect.Interface || f.Kind() == reflect.Pointer:
			if !f.IsNil() && f.Type().Implements(nodeType) {
				out = append(out, f.Interface().(Node))
			}
		case f.Kind() == reflect.Struct && f.CanAddr() && f.Addr().Type().Implements(nodeType):
			out = append(out, f.Addr().Interface().(Node))
		}
	}
	for i := 0; i < v.NumField(); i++ {
		if sf := v.Type().Field(i); sf.IsExported() && !sf.Anonymous {
			add(v.Field(i))
		}
	}
	return out
}

// TestWalkVisitsEveryNode: every node a node holds is visited, after it
// and in source order, and fn(nil) closes each node fn descended into.
func TestWalkVisitsEveryNode(t *testing.T) {
	s, err := Parse("w.smtp", []byte(everyNode))
	if err != nil {
		t.Fatal(err)
	}
	var order []Node
	seen := map[Node]int{}
	var stack []Node
	Walk(s, func(n Node) bool {
		if n == nil {
			if len(stack) == 0 {
				t.Fatal("fn(nil) with no node open")
			}
			stack = stack[:len(stack)-1]
			return false
		}
		if _, dup := seen[n]; dup {
			t.Errorf("%T at %s visited twice", n, n.Pos())
		}
		seen[n] = len(order)
		order = append(order, n)
		stack = append(stack, n)
		return true
	})
	if len(stack) != 0 {
		t.Errorf("%d nodes never closed with fn(nil)", len(stack))
	}
	types := map[string]bool{}
	for i, n := range order {
		types[fmt.Sprintf("%T", n)] = true
		for _, c := range children(n) {
			if k, ok := seen[c]; !ok || k <= i {
				t.Errorf("%T at %s: child %T at %s not visited after it", n, n.Pos(), c, c.Pos())
			}
		}
		if i > 0 && n.Pos().Offset < order[i-1].Pos().Offset {
			t.Errorf("%T at %s visited after %T at %s", n, n.Pos(), order[i-1], order[i-1].Pos())
		}
	}
	var all []string
	for k := range types {
		all = append(all, k)
	}
	for _, want := range []string{"*dsl.Script", "*dsl.Connect", "*dsl.Send", "*dsl.Expect", "*dsl.Code", "*dsl.Matcher",
		"*dsl.StartTLS", "*dsl.Auth", "*dsl.Message", "*dsl.Heredoc", "*dsl.Quit", "*dsl.Raw", "*dsl.Note",
		"*dsl.Include", "*dsl.Repeat", "*dsl.Unknown", "*dsl.Word", "*dsl.String"} {
		if !types[want] {
			t.Errorf("no %s visited; visited %s", want, strings.Join(all, " "))
		}
	}
}

// TestWalkStopsWhereTold: returning false skips a node's children.
func TestWalkStopsWhereTold(t *testing.T) {
	s, err := Parse("w.smtp", []byte(everyNode))
	if err != nil {
		t.Fatal(err)
	}
	var steps, words int
	Walk(s, func(n Node) bool {
		switch n.(type) {
		case *Script:
			return true
		case Step:
			steps++
		case *Word:
			words++
		}
		return false
	})
	if steps != len(s.Steps) || words != 0 {
		t.Errorf("%d steps (want %d), %d words (want 0)", steps, len(s.Steps), words)
	}
}
