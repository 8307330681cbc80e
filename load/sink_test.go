package load_test

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/smtprun/smtprun/dsl"
	"github.com/smtprun/smtprun/engine"
	"github.com/smtprun/smtprun/internal/testenv"
	"github.com/smtprun/smtprun/load"
)

// startSink runs Postfix's smtp-sink on a free loopback port until the
// test ends and returns its address. smtp-sink accepts every message and
// keeps nothing: the server side of the smtp-source comparison.
func startSink(tb testing.TB) string {
	tb.Helper()
	bin, err := exec.LookPath("smtp-sink")
	if err != nil {
		// Debian puts it in /usr/sbin, which a user's PATH may lack.
		bin, err = exec.LookPath("/usr/sbin/smtp-sink")
	}
	if err != nil {
		testenv.Missing(tb, "smtp-sink not installed (Debian package postfix)")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	args := []string{"-c", addr, "256"}
	if os.Geteuid() == 0 {
		args = append([]string{"-u", "nobody"}, args...)
	}
	cmd := exec.Command(bin, args...)
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return addr
		}
	}
	tb.Fatalf("smtp-sink did not listen on %s", addr)
	return ""
}

func program(tb testing.TB, path string) *dsl.Program {
	tb.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	s, err := dsl.Parse(path, src)
	if err != nil {
		tb.Fatal(err)
	}
	p, err := dsl.Check(s)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

func runLoad(tb testing.TB, cfg load.Config) *load.Report {
	tb.Helper()
	r, err := load.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	rep, err := r.Run(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	return rep
}

// TestLoadAgainstSmtpSink: 4 connections, 8 iterations of 25 pipelined
// messages each; every message accepted, every verb timed.
func TestLoadAgainstSmtpSink(t *testing.T) {
	sink := startSink(t)
	vars := dsl.MapVars{"SINK": sink, "PER": "25"}
	rep := runLoad(t, load.Config{Program: program(t, "testdata/sink-reuse.smtp"), Connections: 4, Iterations: 8,
		Engine: []engine.Option{engine.WithVars(vars), engine.WithTimeout(10 * time.Second)}})
	if rep.OK != 8 || rep.Failed != 0 || rep.Messages != 200 {
		t.Fatalf("ok %d failed %d messages %d; want 8, 0, 200; failures %+v", rep.OK, rep.Failed, rep.Messages, rep.Failures)
	}
	for name, want := range map[string]int64{load.Connect: 8, load.Greeting: 8, "EHLO": 8, "MAIL": 200, "RCPT": 200,
		"DATA": 200, load.MessageReply: 200, "QUIT": 8, load.Conversation: 8} {
		l := rep.Latency(name)
		if l == nil || l.Count != want {
			t.Errorf("%s: %+v, want %d samples", name, l, want)
			continue
		}
		if l.P50 <= 0 || l.P50 > l.P99 || l.P99 > l.Max {
			t.Errorf("%s: percentiles out of order: %+v", name, l)
		}
	}
	if rep.Latency("other") != nil {
		t.Errorf("replies counted as other: %+v", rep.Latency("other"))
	}
}

// TestLoadDotPipelinedAgainstSmtpSink: the README's fastest script, each
// message's final dot in one group with the next MAIL, RCPT and DATA: all
// messages accepted, and every reply matched to its command.
func TestLoadDotPipelinedAgainstSmtpSink(t *testing.T) {
	sink := startSink(t)
	rep := runLoad(t, load.Config{Program: program(t, "testdata/sink-reuse-dot.smtp"), Connections: 2, Iterations: 4,
		Engine: []engine.Option{engine.WithVars(dsl.MapVars{"SINK": sink, "MORE": "9"}), engine.WithTimeout(10 * time.Second)}})
	if rep.OK != 4 || rep.Messages != 40 {
		t.Fatalf("ok %d failed %d messages %d; want 4, 0, 40; failures %+v", rep.OK, rep.Failed, rep.Messages, rep.Failures)
	}
	for _, name := range []string{"MAIL", "RCPT", "DATA", load.MessageReply} {
		if l := rep.Latency(name); l == nil || l.Count != 40 {
			t.Errorf("%s: %+v, want 40 samples", name, l)
		}
	}
}

// TestScriptsCheck: every script in testdata parses and checks.
func TestScriptsCheck(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.smtp")
	if len(files) < 6 {
		t.Fatalf("found %d scripts", len(files))
	}
	for _, f := range files {
		program(t, f)
	}
}

// BenchmarkSinkReuse is smtp-source -s 20 -m 20000 -d's work, scaled by
// b.N: 20 connections, 50 messages each per op (1000 messages per op).
func BenchmarkSinkReuse(b *testing.B) {
	sink := startSink(b)
	prog := program(b, "testdata/sink-reuse.smtp")
	opts := []engine.Option{engine.WithVars(dsl.MapVars{"SINK": sink, "PER": "50"})}
	b.ReportAllocs()
	var msgs int64
	for b.Loop() {
		rep := runLoad(b, load.Config{Program: prog, Connections: 20, Iterations: 20, Engine: opts})
		msgs += rep.Messages
	}
	b.ReportMetric(float64(msgs)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkSinkNew is smtp-source -s 20's work: a new connection per
// message, 1000 messages per op.
func BenchmarkSinkNew(b *testing.B) {
	sink := startSink(b)
	prog := program(b, "testdata/sink-new.smtp")
	opts := []engine.Option{engine.WithVars(dsl.MapVars{"SINK": sink})}
	b.ReportAllocs()
	var msgs int64
	for b.Loop() {
		rep := runLoad(b, load.Config{Program: prog, Connections: 20, Iterations: 1000, Engine: opts})
		msgs += rep.Messages
	}
	b.ReportMetric(float64(msgs)/b.Elapsed().Seconds(), "msgs/s")
}
