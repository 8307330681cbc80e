package engine_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/smtprun/smtprun/dsl"
	"github.com/smtprun/smtprun/engine"
	"github.com/smtprun/smtprun/internal/smtptest"
)

// BenchmarkParse measures parsing and checking a typical script.
func BenchmarkParse(b *testing.B) {
	src, err := os.ReadFile("../scripts/utep.smtp")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		s, err := dsl.Parse("utep.smtp", src)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := dsl.Check(s); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkConversation measures one whole submission on loopback against
// go-smtp's server: connect, EHLO, STARTTLS with certificate verification,
// EHLO, AUTH, MAIL, RCPT, DATA, message, QUIT.
func BenchmarkConversation(b *testing.B) {
	for _, mech := range []string{"plain", "login"} {
		b.Run(mech, func(b *testing.B) {
			g := smtptest.Start(b, false)
			src := []byte(strings.ReplaceAll(submission, "${MECH}", mech))
			s, err := dsl.Parse("bench.smtp", src)
			if err != nil {
				b.Fatal(err)
			}
			p, err := dsl.Check(s)
			if err != nil {
				b.Fatal(err)
			}
			eng := engine.New(
				engine.WithTimeout(5*time.Second),
				engine.WithRootCAs(g.PKI.Pool),
				engine.WithVars(dsl.MapVars{"ADDR": g.Addr, "USER": g.User, "PASS": g.Password}),
			)
			for b.Loop() {
				if _, err := eng.Run(context.Background(), p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
