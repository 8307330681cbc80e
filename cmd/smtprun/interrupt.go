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
func interruptContext() (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case <-sigs:
			signal.Reset(os.Interrupt, syscall.SIGTERM)
			cancel()
		case <-done:
		}
	}()
	return ctx, func() {
		signal.Stop(sigs)
		close(done)
		cancel()
	}
}
