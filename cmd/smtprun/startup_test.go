package main

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/smtprun/smtprun/internal/smtptest"
)

// People run smtprun once per script from shell loops, Makefiles and CI
// steps, so what happens before main runs is paid on every invocation.
// These measure the built binary as a user runs it, not the package in a
// test process.

var (
	builtOnce sync.Once
	builtPath string
	builtErr  error
)

// builtBinary builds smtprun once per test process, without the race
// detector or coverage, so that what is measured is what users run.
func builtBinary(tb testing.TB) string {
	tb.Helper()
	builtOnce.Do(func() {
		dir, err := os.MkdirTemp("", "smtprun-startup-")
		if err != nil {
			builtErr = err
			return
		}
		builtPath = filepath.Join(dir, "smtprun")
		cmd := exec.Command("go", "build", "-o", builtPath, ".")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			builtErr = err
			builtPath = string(out)
		}
	})
	if builtErr != nil {
		tb.Fatalf("go build: %v\n%s", builtErr, builtPath)
	}
	return builtPath
}

var initLine = regexp.MustCompile(`^init (\S+) @\S+ ms, \S+ ms clock, (\d+) bytes, (\d+) allocs$`)

type initCost struct{ bytes, allocs int }

// initCosts runs the binary under GODEBUG=inittrace=1 and returns what
// each package's initialisation allocated. Allocation counts do not
// depend on the machine's load, unlike times, so a test can hold them.
func initCosts(t *testing.T, args ...string) map[string]initCost {
	t.Helper()
	cmd := exec.Command(builtBinary(t), args...)
	cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("smtprun %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	costs := map[string]initCost{}
	sc := bufio.NewScanner(&stderr)
	for sc.Scan() {
		m := initLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		b, _ := strconv.Atoi(m[2])
		a, _ := strconv.Atoi(m[3])
		c := costs[m[1]]
		costs[m[1]] = initCost{c.bytes + b, c.allocs + a}
	}
	if len(costs) == 0 {
		t.Fatalf("no inittrace lines in:\n%s", stderr.String())
	}
	return costs
}

// The budget for everything smtprun's own packages do before main: the
// grammar, the embedded data, templates and regular expressions all wait
// until they are needed. Go's own packages (unicode's tables, crypto's
// self-registration) are counted apart, with a budget of their own, so
// that a new import that brings an expensive init shows up too.
const (
	ownInitAllocBudget   = 120
	totalInitAllocBudget = 900
)

func TestStartupInitialisationBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary; skipped with -short")
	}
	costs := initCosts(t, "version")
	own, total := 0, 0
	var report []string
	for pkg, c := range costs {
		total += c.allocs
		if strings.HasPrefix(pkg, "github.com/smtprun/smtprun") {
			own += c.allocs
		}
		if c.allocs > 20 {
			report = append(report, pkg+": "+strconv.Itoa(c.allocs)+" allocs, "+strconv.Itoa(c.bytes)+" bytes")
		}
	}
	if own > ownInitAllocBudget || total > totalInitAllocBudget {
		t.Errorf("initialisation allocates %d times in smtprun's packages (budget %d) and %d in all (budget %d); the largest:\n  %s",
			own, ownInitAllocBudget, total, totalInitAllocBudget, strings.Join(report, "\n  "))
	}
}

func BenchmarkStartupVersion(b *testing.B) {
	bin := builtBinary(b)
	for b.Loop() {
		if err := exec.Command(bin, "version").Run(); err != nil {
			b.Fatal(err)
		}
	}
}

// One plain conversation (EHLO, MAIL, RCPT, DATA, message, QUIT) against an
// in-process sink, a whole process per run, as `smtp-source -m 1` is.
func BenchmarkStartupConversation(b *testing.B) {
	bin := builtBinary(b)
	sink := smtptest.StartSink(b)
	script := filepath.Join("testdata", "plain.smtp")
	for b.Loop() {
		cmd := exec.Command(bin, "-q", "--var", "SINK="+sink, script)
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("%v\n%s", err, out)
		}
	}
}

// The conversation the startup figures are measured with runs as it
// says, against an in-process sink.
func TestPlainConversationRuns(t *testing.T) {
	sink := smtptest.StartSink(t)
	var out, errs bytes.Buffer
	if code := run([]string{"--no-color", "--var", "SINK=" + sink, filepath.Join("testdata", "plain.smtp")}, nil, &out, &errs); code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out.String(), errs.String())
	}
	for _, want := range []string{"S: 220 ", "C: MAIL FROM:<bench@bench.test>", "S: 354 ", "S: 221 "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("transcript lacks %q:\n%s", want, out.String())
		}
	}
}
