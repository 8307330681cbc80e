package engine_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/smtprun/smtprun/dsl"
	"github.com/smtprun/smtprun/engine"
	"github.com/smtprun/smtprun/internal/smtptest"
)

// Parse, check, and run a program against a real SMTP server
// (emersion/go-smtp, in-process on 127.0.0.1), then print each step's
// outcome. The auth step reads the reply that ends its exchange (235) and
// leaves it for the expect after it to check.
func Example() {
	srv, err := smtptest.Listen(false)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()

	const src = `connect "${ADDR}"
expect 220
send "EHLO client.example"
expect 250
starttls
send "EHLO client.example"
expect 250 /AUTH/
auth plain "${USER}" "${PASS}"
expect 235
send "MAIL FROM:<student@example.test>"
send "RCPT TO:<teacher@example.test>"
send "DATA"
expect 250
expect 250
expect 354
message """
Subject: hello

sent by an example
"""
expect 250
quit
`
	script, err := dsl.Parse("submission.smtp", []byte(src))
	if err != nil {
		fmt.Println(err)
		return
	}
	prog, err := dsl.Check(script)
	if err != nil {
		fmt.Println(err)
		return
	}
	vars := dsl.MapVars{"ADDR": srv.Addr, "USER": srv.User, "PASS": srv.Password}
	passwords := 0
	e := engine.New(
		engine.WithTimeout(10*time.Second),
		engine.WithRootCAs(srv.PKI.Pool), // the test server's CA
		engine.WithVars(vars),
		engine.WithObserver(engine.ObserverFunc(func(ev engine.Event) {
			if s, ok := ev.(engine.Sent); ok && s.Role.Secret() {
				passwords++ // masked already: the observer never sees a secret
			}
		})),
	)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := e.Run(ctx, prog)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, o := range res.Outcomes {
		codes := ""
		for _, r := range o.Replies {
			codes += fmt.Sprint(" ", r.Reply.Code)
		}
		fmt.Printf("line %2d %-8s ok=%v%s\n", o.Line, o.Kind, o.OK, codes)
	}
	fmt.Println(res.Steps, "steps,", res.Replies, "replies,", res.Messages, "message; secret lines:", passwords)
	fmt.Println("the server accepted", len(srv.Messages()), "message from", srv.Messages()[0].From)
	// Output:
	// line  1 connect  ok=true
	// line  2 expect   ok=true 220
	// line  3 send     ok=true
	// line  4 expect   ok=true 250
	// line  5 starttls ok=true 220
	// line  6 send     ok=true
	// line  7 expect   ok=true 250
	// line  8 auth     ok=true 235
	// line  9 expect   ok=true
	// line 10 send     ok=true
	// line 11 send     ok=true
	// line 12 send     ok=true
	// line 13 expect   ok=true 250
	// line 14 expect   ok=true 250
	// line 15 expect   ok=true 354
	// line 16 message  ok=true
	// line 21 expect   ok=true 250
	// line 22 quit     ok=true 221
	// 18 steps, 10 replies, 1 message; secret lines: 1
	// the server accepted 1 message from student@example.test
}

// A failed expectation is an *engine.AssertError; its Diagnostic renders
// like every script error, with the server's reply under the caret.
func Example_failure() {
	srv, err := smtptest.Listen(false)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	src := []byte(`connect "${ADDR}"
expect 554
`)
	script, err := dsl.Parse("greeting.smtp", src)
	if err != nil {
		fmt.Println(err)
		return
	}
	prog, err := dsl.Check(script)
	if err != nil {
		fmt.Println(err)
		return
	}
	_, err = engine.New(engine.WithTimeout(10*time.Second), engine.WithVars(dsl.MapVars{"ADDR": srv.Addr})).
		Run(context.Background(), prog)
	var ae *engine.AssertError
	if errors.As(err, &ae) {
		fmt.Print(dsl.Render(ae.Diagnostic(), src, dsl.Styler{}))
	}
	// Output:
	// error: expectation failed
	//  --> greeting.smtp:2:8
	//   |
	// 2 | expect 554
	//   |        ^^^ server replied 220 localhost ESMTP Service Ready
	//   |
}
