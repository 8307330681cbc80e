package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/smtprun/smtprun/sandbox"
)

const serveUsage = `smtprun serve runs an emulated provider as a real SMTP server on loopback,
for any client to practise against (swaks, Thunderbird, your own socket program).

Usage:
  smtprun serve [flags]

Flags:
  --profile NAME        provider to emulate: office365, gmail, yahoo, aol, postfix (default postfix)
  --scenario NAME       fail the way real servers do (see smtprun scenarios)
  --listen ADDR         submission with STARTTLS, like port 587 (default 127.0.0.1:2525)
  --listen-tls ADDR     implicit TLS, like port 465 (default 127.0.0.1:2465; "off" disables)
  --listen-relay ADDR   relay rules, like port 25: no AUTH, local domains only (default off)
  --ca-out FILE         write the CA certificate (PEM) that clients should trust
  --save DIR            write every accepted message to DIR as an .eml file
  --no-color            plain output

The server prints its own transcript; Ctrl-C stops it.
`

// runServe serves until stop is closed (Ctrl-C in main use).
func runServe(args []string, stdout, stderr io.Writer, stop <-chan struct{}) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	profile := fs.String("profile", "postfix", "")
	scenario := fs.String("scenario", "", "")
	listen := fs.String("listen", "127.0.0.1:2525", "")
	listenTLS := fs.String("listen-tls", "127.0.0.1:2465", "")
	listenRelay := fs.String("listen-relay", "off", "")
	caOut := fs.String("ca-out", "", "")
	save := fs.String("save", "", "")
	noColor := fs.Bool("no-color", false, "")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, serveUsage)
			return exitOK
		}
		return usageError(stderr, "serve: "+err.Error())
	}
	if fs.NArg() > 0 {
		return usageError(stderr, fmt.Sprintf("serve: unexpected argument %q", fs.Arg(0)))
	}
	known := false
	for _, p := range sandbox.Profiles() {
		known = known || p.Name == *profile
	}
	if !known {
		return usageError(stderr, fmt.Sprintf("serve: unknown profile %q (see smtprun scenarios)", *profile))
	}
	st := newStyle(stdout, *noColor)
	log := &serveLog{w: stdout, st: st}
	sb, err := sandbox.New(sandbox.Options{Scenario: *scenario, SaveDir: *save, Observer: log.event})
	if err != nil {
		return usageError(stderr, "serve: "+err.Error())
	}
	defer sb.Close()
	if *caOut != "" {
		if err := os.WriteFile(*caOut, sb.CACertPEM(), 0o644); err != nil {
			return usageError(stderr, "serve: --ca-out: "+err.Error())
		}
	}
	type listener struct {
		addr string
		mode sandbox.Mode
		what string
	}
	var want []listener
	for _, l := range []listener{
		{*listen, sandbox.Submission, "submission with STARTTLS (like port 587)"},
		{*listenTLS, sandbox.ImplicitTLS, "implicit TLS (like port 465)"},
		{*listenRelay, sandbox.Relay, "relay rules (like port 25)"},
	} {
		if l.addr != "" && l.addr != "off" {
			want = append(want, l)
		}
	}
	user, pass := sandbox.PracticeCredentials(*profile)
	fmt.Fprintf(stdout, "smtprun serve: emulating %s", *profile)
	if *scenario != "" {
		fmt.Fprintf(stdout, ", scenario %s", *scenario)
	}
	fmt.Fprintln(stdout)
	var wg sync.WaitGroup
	errs := make(chan error, len(want))
	for _, l := range want {
		ln, err := net.Listen("tcp", l.addr)
		if err != nil {
			return usageError(stderr, fmt.Sprintf("serve: cannot listen on %s: %v", l.addr, err))
		}
		fmt.Fprintf(stdout, "  listening on %s: %s\n", ln.Addr(), l.what)
		wg.Add(1)
		go func(ln net.Listener, mode sandbox.Mode) {
			defer wg.Done()
			if err := sb.Serve(ln, *profile, mode); err != nil {
				errs <- err
			}
		}(ln, l.mode)
	}
	if *caOut != "" {
		fmt.Fprintf(stdout, "  CA certificate for clients to verify with: %s\n", *caOut)
	}
	if *save != "" {
		fmt.Fprintf(stdout, "  accepted messages are saved in %s\n", *save)
	}
	fmt.Fprintf(stdout, "  practice account: %s / %s (any user name logs in with that password)\n", user, pass)
	fmt.Fprintln(stdout, "  Ctrl-C stops the server.")
	log.ready()
	code := exitOK
	select {
	case <-stop:
	case err := <-errs:
		fmt.Fprintf(stderr, "smtprun serve: %v\n", err)
		code = exitRuntime
	}
	sb.Close()
	wg.Wait()
	log.printf("smtprun serve: stopped\n")
	return code
}

// serveLog prints the server side of every conversation, prefixed with the
// connection number so interleaved clients stay readable.
type serveLog struct {
	mu      sync.Mutex
	w       io.Writer
	st      style
	started bool
}

func (l *serveLog) ready() {
	l.mu.Lock()
	l.started = true
	l.mu.Unlock()
}

func (l *serveLog) printf(format string, a ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, format, a...)
}

func (l *serveLog) event(e sandbox.Event) {
	tag := l.st.dim.Sprintf("[%d]", e.Conn)
	var text string
	switch e.Kind {
	case sandbox.ConnOpened:
		text = l.st.note.Sprintf("%s connected: %s", e.Remote, e.Line)
	case sandbox.LineReceived:
		line := "C: " + e.Line
		if e.Secret {
			line = "C: ******** (credentials)"
		}
		text = l.st.client.Sprint(line)
	case sandbox.ReplySent:
		for i, line := range e.Lines {
			if i > 0 {
				text += "\n" + tag + " "
			}
			text += l.st.reply(e.Code).Sprint("S: " + line)
		}
	case sandbox.TLSStarted:
		text = l.st.note.Sprint("TLS: " + e.Line)
	case sandbox.MessageReceived:
		text = l.st.note.Sprintf("message %s accepted, %d bytes", e.Line, e.Bytes)
		if e.Path != "" {
			text += l.st.note.Sprintf(", saved as %s", e.Path)
		}
	case sandbox.Note:
		text = l.st.note.Sprint("note: " + e.Line)
	case sandbox.ConnClosed:
		text = l.st.note.Sprint("closed")
		if e.Err != nil {
			text += l.st.note.Sprintf(" (%v)", e.Err)
		}
	default:
		return
	}
	l.printf("%s %s\n", tag, text)
}

// signalStop is closed on Ctrl-C or SIGTERM.
func signalStop() (<-chan struct{}, func()) {
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	return ctx.Done(), cancel
}
