package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

// interruptContext is cancelled by the first SIGINT or SIGTERM, which
// lets the engine end politely (QUIT where it can). After it the signals'
// default action is restored, so a second Ctrl-C always ends the program,
// whatever the run is stuck in (issue 13, item 11), as with most tools.
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
