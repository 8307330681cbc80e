package engine_test

import (
	"context"
	"crypto/tls"
	"strings"
	"testing"
	"time"

	"github.com/smtprun/smtprun/dsl"
	"github.com/smtprun/smtprun/engine"
	"github.com/smtprun/smtprun/internal/smtptest"
)

// BenchmarkConversationLean compares one whole submission (STARTTLS,
// AUTH PLAIN, one message, QUIT) against go-smtp's server as the command
// runs it (events for a transcript, outcomes) and as load mode runs it
// (lean, TLS sessions resumed). Run with -benchmem: the allocations per
// conversation are the figure the README quotes.
func BenchmarkConversationLean(b *testing.B) {
	g := smtptest.Start(b, false)
	src := strings.ReplaceAll(submission, "${MECH}", "plain")
	s, err := dsl.Parse("bench.smtp", []byte(src))
	if err != nil {
		b.Fatal(err)
	}
	p, err := dsl.Check(s)
	if err != nil {
		b.Fatal(err)
	}
	base := []engine.Option{engine.WithTimeout(5 * time.Second), engine.WithRootCAs(g.PKI.Pool),
		engine.WithVars(dsl.MapVars{"ADDR": g.Addr, "USER": g.User, "PASS": g.Password})}
	for _, mode := range []string{"transcript", "lean"} {
		b.Run(mode, func(b *testing.B) {
			opts := append([]engine.Option(nil), base...)
			events := 0
			opts = append(opts, engine.WithObserver(engine.ObserverFunc(func(engine.Event) { events++ })))
			if mode == "lean" {
				opts = append(opts, engine.WithLean(true), engine.WithTLSSessionCache(tls.NewLRUClientSessionCache(8)))
			}
			eng := engine.New(opts...)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := eng.Run(context.Background(), p); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(events)/float64(b.N), "events/op")
		})
	}
}
