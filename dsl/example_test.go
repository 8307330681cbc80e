package dsl_test

import (
	"errors"
	"fmt"
	"os"

	"github.com/smtprun/smtprun/dsl"
)

// Parse a script, check it into a Program, and print it back in
// canonical form.
func Example() {
	src := []byte(`# a submission, step by step
connect   "${HOST:-127.0.0.1}:587"
expect 220
send "EHLO client.example"
expect 2XX   # any success
quit
`)
	script, err := dsl.Parse("hello.smtp", src)
	if err != nil {
		fmt.Println(err)
		return
	}
	prog, err := dsl.Check(script)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(prog.Len(), "steps")
	for _, v := range prog.Variables() {
		fmt.Printf("uses ${%s} at %s (default given: %v)\n", v.Name, v.Pos, v.HasDefault)
	}
	if err := dsl.Format(os.Stdout, script); err != nil {
		fmt.Println(err)
	}
	// Output:
	// 5 steps
	// uses ${HOST} at hello.smtp:2:12 (default given: true)
	// # a submission, step by step
	// connect "${HOST:-127.0.0.1}:587"
	// expect 220
	// send "EHLO client.example"
	// expect 2xx # any success
	// quit
}

// Every error found is positioned, and Render draws it Hurl-style with
// the source line and a caret under the mistake.
func ExampleRender() {
	src := []byte(`connect "mail.example.edu:25"
expect 220
startls
`)
	script, err := dsl.Parse("typo.smtp", src)
	if err == nil {
		_, err = dsl.Check(script)
	}
	var list dsl.ErrorList
	if errors.As(err, &list) {
		for _, e := range list {
			fmt.Print(dsl.Render(e, src, dsl.Styler{}))
		}
	}
	// Output:
	// error: unknown step
	//  --> typo.smtp:3:1
	//   |
	// 3 | startls
	//   | ^^^^^^^ did you mean `starttls`?
	//   | steps are: connect, send, expect, starttls, auth, message, quit, raw, note, include, repeat
	//   |
}

// Check refuses what could only fail at run time, such as a capture used
// before the expect that defines it, here in the first iteration of a
// repeat block.
func ExampleCheck() {
	src := []byte(`connect "mail.example.edu:25"
expect 220
send "EHLO client.example"
expect 250
repeat 2 {
  send "NOOP ${qid}"
  expect 250 /(?P<qid>[0-9A-F]+)/
}
`)
	script, err := dsl.Parse("capture.smtp", src)
	if err != nil {
		fmt.Println(err)
		return
	}
	_, err = dsl.Check(script)
	fmt.Println(err)
	// Output:
	// capture.smtp:6:14: capture used before it is defined: ${qid} is captured by the expect at capture.smtp:7:14, which runs later
}

// Walk visits every node, inside repeat blocks too; fn(nil) follows the
// children of each node it descended into, so a visitor can keep a stack.
func ExampleWalk() {
	script, err := dsl.Parse("walk.smtp", []byte(`connect "h:25"
expect 220
repeat ${N:-3} {
  send "NOOP"
  expect 250 "ok"
}
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	var open []dsl.Node
	dsl.Walk(script, func(n dsl.Node) bool {
		if n == nil {
			open = open[:len(open)-1]
			return false
		}
		blocks := 0
		for _, o := range open {
			if _, ok := o.(*dsl.Repeat); ok {
				blocks++
			}
		}
		switch n := n.(type) {
		case dsl.Step:
			fmt.Printf("%*s%s at %s\n", 2*blocks, "", n.Keyword(), n.Pos())
		case *dsl.String:
			fmt.Printf("%*s  string %s\n", 2*blocks, "", n.Raw)
		}
		open = append(open, n)
		return true
	})
	// Output:
	// connect at walk.smtp:1:1
	//   string "h:25"
	// expect at walk.smtp:2:1
	// repeat at walk.smtp:3:1
	//     string ${N:-3}
	//   send at walk.smtp:4:3
	//     string "NOOP"
	//   expect at walk.smtp:5:3
	//     string "ok"
}
