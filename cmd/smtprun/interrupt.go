package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

// interruptContext is smtprun's one interrupt policy, which the
// dispatcher applies to every long-running command: the first SIGINT or
// SIGTERM cancels the context, which lets the command end politely (QUIT
// where it can, a partial summary, a server's orderly stop). After it the
// signals' default action is restored, so a second Ctrl-C always ends the
// program, whatever the command is stuck in, as with most tools.
//
// The handler is installed aside: the first signal.Notify starts the
// runtime's signal thread, which costs a few hundred microseconds here,
// a tenth of a whole run, and the command can parse its script
// meanwhile. Nothing that can wait (a dial, a FIFO, a read from the
// network) starts before it is in place: the context's Done waits for it.
// A Ctrl-C before then ends the program at once, as it does while the
// program starts.
func interruptContext() (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	armed := make(chan struct{})
	done := make(chan struct{})
	go func() {
		sigs := make(chan os.Signal, 1)
		signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
		close(armed)
		select {
		case <-sigs:
			signal.Reset(os.Interrupt, syscall.SIGTERM)
			cancel()
		case <-done:
			// Not waited for: Stop waits for the signal thread to be
			// idle, and the program is about to exit.
			signal.Stop(sigs)
		}
	}()
	return armedContext{ctx, armed}, func() {
		close(done)
		cancel()
	}
}

// armedContext is a context whose Done is handed out only once the
// interrupt handler that cancels it is installed.
type armedContext struct {
	context.Context
	armed <-chan struct{}
}

func (c armedContext) Done() <-chan struct{} {
	<-c.armed
	return c.Context.Done()
}
