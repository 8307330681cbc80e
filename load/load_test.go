package load_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/smtprun/smtprun/dsl"
	"github.com/smtprun/smtprun/engine"
	"github.com/smtprun/smtprun/internal/smtptest"
	"github.com/smtprun/smtprun/internal/testenv"
	"github.com/smtprun/smtprun/load"
	"github.com/smtprun/smtprun/sandbox"
)

func sandboxOptions(t *testing.T, scenario string) []engine.Option {
	t.Helper()
	// These tests measure load mode, not the providers' sending limits
	// (a fast run passes Gmail's 500 recipients a day).
	sb, err := sandbox.New(sandbox.Options{Scenario: scenario, NoLimits: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	user, pass := sandbox.PracticeCredentials("gmail")
	return []engine.Option{engine.WithDialer(sb), engine.WithRootCAs(sb.RootCAs()), engine.WithTimeout(10 * time.Second),
		engine.WithVars(dsl.MapVars{"SMTP_USER": user, "SMTP_PASS": pass})}
}

// TestLoadSandboxGreylisted: the first attempt of a sender/recipient pair
// is greylisted and the retries pass, so with one connection exactly the
// first iteration fails, in one group at the RCPT's expect.
func TestLoadSandboxGreylisted(t *testing.T) {
	rep := runLoad(t, load.Config{Program: program(t, "testdata/sandbox-submit.smtp"), Connections: 1, Iterations: 5,
		Engine: sandboxOptions(t, "greylisted")})
	if rep.OK != 4 || rep.Failed != 1 || rep.Messages != 4 {
		t.Fatalf("ok %d failed %d messages %d; want 4, 1, 4", rep.OK, rep.Failed, rep.Messages)
	}
	if len(rep.Failures) != 1 {
		t.Fatalf("failure groups %+v", rep.Failures)
	}
	f := rep.Failures[0]
	if f.Count != 1 || f.Code != 451 || !strings.Contains(f.Reason, "Greylisted") || f.Line != 14 || f.Source != "expect 250" || f.Iteration != 1 {
		t.Errorf("group %+v", f)
	}
	if rep.Latency("conversation").Count != 4 {
		t.Errorf("conversation histogram counts %d, want the 4 that passed", rep.Latency("conversation").Count)
	}
}

// TestLoadSandboxDropAfterData: every iteration loses its connection
// after the final dot; all are counted failed, in one group at the
// message's expect, and no message is counted accepted.
func TestLoadSandboxDropAfterData(t *testing.T) {
	rep := runLoad(t, load.Config{Program: program(t, "testdata/sandbox-submit.smtp"), Connections: 3, Iterations: 9,
		Engine: sandboxOptions(t, "drop-after-data")})
	if rep.OK != 0 || rep.Failed != 9 || rep.Messages != 0 {
		t.Fatalf("ok %d failed %d messages %d; want 0, 9, 0", rep.OK, rep.Failed, rep.Messages)
	}
	if len(rep.Failures) != 1 || rep.Failures[0].Count != 9 || rep.Failures[0].Line != 24 || !strings.Contains(rep.Failures[0].Reason, "closed") {
		t.Fatalf("failure groups %+v", rep.Failures)
	}
}

// TestLoadMaxErrorsStopsEarly: with every iteration failing, the run
// stops starting new ones after the second failure.
func TestLoadMaxErrorsStopsEarly(t *testing.T) {
	rep := runLoad(t, load.Config{Program: program(t, "testdata/sandbox-submit.smtp"), Connections: 1, Iterations: 50, MaxErrors: 2,
		Engine: sandboxOptions(t, "drop-after-data")})
	if rep.Failed != 2 || rep.Stopped != "max-errors" {
		t.Fatalf("failed %d, stopped %q; want 2, max-errors", rep.Failed, rep.Stopped)
	}
}

// TestLoadRateOpenModel: at 100 iterations a second, 20 iterations take
// about 0.2 s however fast the server is, and the conversation latency
// counts from when each was due.
func TestLoadRateOpenModel(t *testing.T) {
	start := time.Now()
	rep := runLoad(t, load.Config{Program: program(t, "testdata/sandbox-submit.smtp"), Connections: 4, Iterations: 20, Rate: 100,
		Engine: sandboxOptions(t, "")})
	if took := time.Since(start); rep.OK != 20 || took < 190*time.Millisecond || took > 5*time.Second {
		t.Fatalf("ok %d in %v; want 20 in about 0.2 s", rep.OK, took)
	}
}

// TestShardsMergeLikeOneRun: three shards of 10 iterations number them
// 1..10 between them, once each; merged, their counts are one run's, and
// each merged histogram is the merge of the shards' recorded values.
func TestShardsMergeLikeOneRun(t *testing.T) {
	g := smtptest.Start(t, false)
	prog := program(t, "testdata/gosmtp-submit.smtp")
	opts := []engine.Option{engine.WithRootCAs(g.PKI.Pool), engine.WithTimeout(10 * time.Second),
		engine.WithVars(dsl.MapVars{"ADDR": g.Addr, "USER": g.User, "PASS": g.Password})}
	var shards []*load.Report
	for i := range 3 {
		rep := runLoad(t, load.Config{Program: prog, Connections: 2, Iterations: 10, Shard: i, Shards: 3, Engine: opts})
		// Through JSON, as `smtprun load merge` reads them.
		var b bytes.Buffer
		if err := rep.WriteJSON(&b); err != nil {
			t.Fatal(err)
		}
		var back load.Report
		if err := json.Unmarshal(b.Bytes(), &back); err != nil {
			t.Fatal(err)
		}
		shards = append(shards, &back)
	}
	if got := []int{shards[0].Planned, shards[1].Planned, shards[2].Planned}; !slices.Equal(got, []int{4, 3, 3}) {
		t.Errorf("shard sizes %v, want 4 3 3", got)
	}
	var subjects []int
	for _, m := range g.Messages() {
		sc := bufio.NewScanner(bytes.NewReader(m.Data))
		for sc.Scan() {
			if n, ok := strings.CutPrefix(sc.Text(), "Subject: "); ok {
				v, _ := strconv.Atoi(n)
				subjects = append(subjects, v)
			}
		}
	}
	slices.Sort(subjects)
	if want := []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}; !slices.Equal(subjects, want) {
		t.Errorf("${ITERATION} across shards: %v, want %v", subjects, want)
	}
	merged, err := load.Merge(shards...)
	if err != nil {
		t.Fatal(err)
	}
	one := runLoad(t, load.Config{Program: prog, Connections: 2, Iterations: 10, Engine: opts})
	if merged.OK != one.OK || merged.Failed != one.Failed || merged.Messages != one.Messages || merged.Planned != one.Planned || merged.Handshakes != one.Handshakes {
		t.Errorf("merged %+v\none run %+v", merged, one)
	}
	for _, l := range one.Latencies {
		m := merged.Latency(l.Name)
		if m == nil || m.Count != l.Count {
			t.Errorf("%s: merged %+v, one run %d samples", l.Name, m, l.Count)
			continue
		}
		want := hdrhistogram.New(1, int64(time.Hour/time.Microsecond), 3)
		for _, s := range shards {
			want.Merge(s.Latency(l.Name).Histogram())
		}
		if !m.Histogram().Equals(want) {
			t.Errorf("%s: merged histogram differs from the merge of the shards' values", l.Name)
		}
	}
	if _, err := load.Merge(shards[0], shards[0]); err == nil {
		t.Error("merging a shard with itself was accepted")
	}
}

// postfix is the local Postfix set up by .ci/setup-postfix.
type postfix struct {
	submission, user, pass, rcpt, maildir string
	pool                                  *x509.CertPool
}

func loadPostfix(t testing.TB) *postfix {
	t.Helper()
	path := "/etc/smtprun-test/postfix.env"
	if p := os.Getenv("SMTPRUN_POSTFIX_ENV"); p != "" {
		path = p
	}
	data, err := os.ReadFile(path)
	if err != nil {
		testenv.Missing(t, fmt.Sprintf("Postfix test setup not found (%s); run `sudo .ci/setup-postfix`", path))
	}
	kv := map[string]string{}
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), "="); ok && !strings.HasPrefix(k, "#") {
			kv[k] = strings.Trim(v, `"'`)
		}
	}
	ca, err := os.ReadFile(kv["SMTPRUN_POSTFIX_CA"])
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	return &postfix{submission: kv["SMTPRUN_POSTFIX_SUBMISSION"], user: kv["SMTPRUN_POSTFIX_USER"], pass: kv["SMTPRUN_POSTFIX_PASS"],
		rcpt: kv["SMTPRUN_POSTFIX_RCPT"], maildir: kv["SMTPRUN_POSTFIX_MAILDIR"], pool: pool}
}

// TestLoadPostfixSTARTTLSAuthMaildir: 4 connections, 6 iterations of 3
// messages each, with STARTTLS and AUTH, against the real Postfix; the
// messages delivered to the Maildir with this run's mark are exactly the
// number reported accepted, and TLS sessions were resumed.
func TestLoadPostfixSTARTTLSAuthMaildir(t *testing.T) {
	pf := loadPostfix(t)
	run := fmt.Sprintf("load-%d", time.Now().UnixNano())
	vars := dsl.MapVars{"SUBMISSION": pf.submission, "SMTP_USER": pf.user, "SMTP_PASS": pf.pass, "RCPT": pf.rcpt, "PER": "3", "RUN": run}
	rep := runLoad(t, load.Config{Program: program(t, "testdata/postfix-submit.smtp"), Connections: 4, Iterations: 6,
		Engine: []engine.Option{engine.WithRootCAs(pf.pool), engine.WithVars(vars), engine.WithTimeout(20 * time.Second)}})
	if rep.OK != 6 || rep.Messages != 18 {
		t.Fatalf("ok %d failed %d messages %d; want 6, 0, 18; failures %+v", rep.OK, rep.Failed, rep.Messages, rep.Failures)
	}
	if rep.Handshakes != 6 || rep.Resumed == 0 {
		t.Errorf("%d handshakes, %d resumed; want 6 and some resumed", rep.Handshakes, rep.Resumed)
	}
	mark := regexp.MustCompile(`(?m)^Subject: ` + run + ` \d+\.\d+\r?$`)
	var n int
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		n = 0
		for _, dir := range []string{"new", "cur"} {
			files, _ := filepath.Glob(filepath.Join(pf.maildir, dir, "*"))
			for _, f := range files {
				if b, err := os.ReadFile(f); err == nil && mark.Match(b) {
					n++
				}
			}
		}
		if int64(n) >= rep.Messages {
			break
		}
	}
	if int64(n) != rep.Messages {
		t.Fatalf("%d messages of this run in %s, %d reported accepted", n, pf.maildir, rep.Messages)
	}
}

// TestLoadInterrupted: cancelling the context stops the run; the report
// says so and counts what finished.
func TestLoadInterrupted(t *testing.T) {
	r, err := load.New(load.Config{Program: program(t, "testdata/sandbox-submit.smtp"), Connections: 2, Duration: time.Minute,
		Engine: sandboxOptions(t, "")})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, cancel)
	start := time.Now()
	rep, err := r.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Interrupted || rep.OK == 0 || rep.Failed != 0 || time.Since(start) > 10*time.Second {
		t.Fatalf("interrupted %v ok %d failed %d after %v", rep.Interrupted, rep.OK, rep.Failed, time.Since(start))
	}
}

// BenchmarkConversation is one conversation as load mode runs it (lean
// engine, TLS sessions cached), against servers in other processes, so
// -benchmem counts the client's allocations alone: smtp-sink with a new
// connection per message, and the local Postfix with STARTTLS, AUTH and
// one message.
func BenchmarkConversation(b *testing.B) {
	cache := tls.NewLRUClientSessionCache(8)
	b.Run("smtp-sink", func(b *testing.B) {
		sink := startSink(b)
		benchConversation(b, program(b, "testdata/sink-new.smtp"), engine.WithVars(dsl.MapVars{"SINK": sink}))
	})
	b.Run("postfix-starttls-auth", func(b *testing.B) {
		pf := loadPostfix(b)
		vars := dsl.MapVars{"SUBMISSION": pf.submission, "SMTP_USER": pf.user, "SMTP_PASS": pf.pass, "RCPT": pf.rcpt, "PER": "1", "RUN": "bench"}
		benchConversation(b, program(b, "testdata/postfix-submit.smtp"), engine.WithRootCAs(pf.pool), engine.WithVars(vars),
			engine.WithTLSSessionCache(cache))
	})
}

func benchConversation(b *testing.B, prog *dsl.Program, opts ...engine.Option) {
	eng := engine.New(append(opts, engine.WithLean(true), engine.WithTimeout(20*time.Second))...)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := eng.Run(context.Background(), prog); err != nil {
			b.Fatal(err)
		}
	}
}

// TestInterruptSaysQUIT: when the load is interrupted, each open
// conversation says QUIT before it closes. The server here greets and
// never answers NOOP, so every conversation is open at the interrupt.
func TestInterruptSaysQUIT(t *testing.T) {
	quits := make(chan string, 8)
	addr := smtptest.Serve(t, smtptest.NeverAnswersNOOP(quits))
	s, err := dsl.Parse("wait.smtp", []byte("connect \"${ADDR}\"\nexpect 220\nsend \"NOOP\"\nexpect 250\n"))
	if err != nil {
		t.Fatal(err)
	}
	prog, err := dsl.Check(s)
	if err != nil {
		t.Fatal(err)
	}
	r, err := load.New(load.Config{Program: prog, Connections: 3, Iterations: 3,
		Engine: []engine.Option{engine.WithVars(dsl.MapVars{"ADDR": addr}), engine.WithTimeout(10 * time.Second)}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, cancel)
	rep, err := r.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Interrupted || rep.OK != 0 || rep.Failed != 0 {
		t.Errorf("interrupted %v ok %d failed %d; want an interrupted run with nothing counted", rep.Interrupted, rep.OK, rep.Failed)
	}
	for i := range 3 {
		select {
		case q := <-quits:
			if q != "QUIT" {
				t.Errorf("conversation %d said %q after the interrupt, want QUIT", i, q)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("only %d of 3 conversations said QUIT", i)
		}
	}
}

// The AUTH row counts logins, not replies: ten AUTH LOGIN exchanges of
// two 334 challenges each are ten AUTH samples, each the whole exchange,
// and twenty on the challenges' own row. Against go-smtp's real server.
func TestAuthRowCountsExchanges(t *testing.T) {
	g := smtptest.Start(t, false)
	src := strings.Replace(mustRead(t, "testdata/gosmtp-submit.smtp"), "auth plain", "auth login", 1)
	path := filepath.Join(t.TempDir(), "login.smtp")
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	prog := program(t, path)
	opts := []engine.Option{engine.WithRootCAs(g.PKI.Pool), engine.WithTimeout(10 * time.Second),
		engine.WithVars(dsl.MapVars{"ADDR": g.Addr, "USER": g.User, "PASS": g.Password})}
	rep := runLoad(t, load.Config{Program: prog, Connections: 2, Iterations: 10, Engine: opts})
	if rep.OK != 10 {
		t.Fatalf("%d of 10 iterations passed", rep.OK)
	}
	auth, challenges := rep.Latency("AUTH"), rep.Latency(load.AuthChallenge)
	if auth == nil || auth.Count != 10 {
		t.Fatalf("AUTH row: %+v, want 10 samples, one per exchange", auth)
	}
	if challenges == nil || challenges.Count != 20 {
		t.Fatalf("AUTH 334 row: %+v, want 20 samples, two per AUTH LOGIN", challenges)
	}
	if auth.P50 < challenges.P50 {
		t.Errorf("an exchange (p50 %d µs) took less than one of its challenges (p50 %d µs)", auth.P50, challenges.P50)
	}
	if rep.Latency("other") != nil {
		t.Errorf("SASL response lines landed in other: %+v", rep.Latency("other"))
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
