package main

import (
	"bytes"
	"io"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/smtprun/smtprun/explain"
	"github.com/smtprun/smtprun/sandbox"
)

// zeroReader makes the sandbox's IDs the same on every run.
type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 7
	}
	return len(p), nil
}

func deterministicSandbox(t *testing.T) {
	sandboxTestHook = func(o *sandbox.Options) {
		o.Clock = func() time.Time { return time.Date(2026, 3, 27, 18, 17, 53, 0, time.UTC) }
		o.Rand = zeroReader{}
	}
	t.Cleanup(func() { sandboxTestHook = nil })
	t.Setenv("SMTP_USER", "")
	t.Setenv("SMTP_PASS", "")
	os.Unsetenv("SMTP_USER")
	os.Unsetenv("SMTP_PASS")
}

// TestExplainTranscripts: golden transcripts of --explain runs, as a
// learner sees them.
func TestExplainTranscripts(t *testing.T) {
	deterministicSandbox(t)
	for _, tc := range []struct {
		name string
		args []string
		code int
	}{
		{"explain-utep", []string{"--sandbox", "--explain", "../../scripts/utep.smtp"}, 0},
		{"explain-lesson-errors", []string{"--sandbox", "--explain", "../../scripts/lessons/07-reading-an-error.smtp"}, 0},
		{"explain-auth-disabled", []string{"--sandbox", "--explain", "--scenario", "auth-disabled", "../../scripts/utep.smtp"}, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := cli(t, tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d\n%s%s", code, tc.code, out, errOut)
			}
			golden(t, tc.name, normalize("--- stdout\n"+out+"--- stderr\n"+errOut, "\x00"))
		})
	}
}

func TestHintWithoutExplain(t *testing.T) {
	deterministicSandbox(t)
	code, _, errOut := cli(t, "--sandbox", "-q", "--scenario", "app-password-required", "../../scripts/gmail.smtp")
	if code != exitExpectation || !strings.Contains(errOut, "hint: ") || !strings.Contains(strings.ToLower(errOut), "app password") {
		t.Errorf("exit %d, no app-password hint:\n%s", code, errOut)
	}
}

// TestExplainCommandKnowsEveryEntry: `smtprun explain TOPIC` answers for
// every entry of the knowledge base.
func TestExplainCommandKnowsEveryEntry(t *testing.T) {
	n := 0
	for _, e := range explain.All() {
		switch e.Kind {
		case explain.KindReply, explain.KindEnhanced, explain.KindKeyword, explain.KindCommand:
		default:
			continue
		}
		if e.Provider != "" {
			continue // provider meanings are reached through a reply line
		}
		n++
		topic := e.Topic
		if strings.HasPrefix(topic, "X.") {
			topic = "5" + topic[1:] // as a server writes it
		}
		code, out, errOut := cli(t, "explain", topic)
		if code != 0 || !strings.Contains(out, e.Title) {
			t.Errorf("explain %s: exit %d, title %q missing\n%s%s", e.Topic, code, e.Title, out, errOut)
		}
	}
	if n < 100 {
		t.Errorf("only %d entries checked", n)
	}
	code, _, errOut := cli(t, "explain", "999")
	if code != exitUsage || !strings.Contains(errOut, "not an SMTP reply code") {
		t.Errorf("explain 999: exit %d: %s", code, errOut)
	}
}

// stepRun starts `smtprun --sandbox --step SCRIPT` on a real
// pseudo-terminal and returns the terminal's master side, the output, a
// channel with the exit code, and a function that waits for prompt n.
func stepRun(t *testing.T, script string) (io.Writer, *syncBuffer, chan int, func(n int)) {
	t.Helper()
	deterministicSandbox(t)
	master, tty, err := pty.Open()
	if err != nil {
		t.Fatalf("no pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { master.Close(); tty.Close() })
	out := &syncBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- run([]string{"--sandbox", "--no-color", "--step", script}, tty, out, out)
	}()
	waitPrompt := func(n int) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for strings.Count(out.String(), "[q] quit >") < n {
			if time.Now().After(deadline) {
				t.Fatalf("no prompt %d:\n%s", n, out)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	return master, out, done, waitPrompt
}

func exitWithin(t *testing.T, done chan int, out *syncBuffer) int {
	t.Helper()
	select {
	case code := <-done:
		return code
	case <-time.After(10 * time.Second):
		t.Fatalf("the run did not end:\n%s", out)
		return -1
	}
}

// TestStepThroughPTY: Enter runs a step, q sends QUIT and stops.
func TestStepThroughPTY(t *testing.T) {
	keys, out, done, waitPrompt := stepRun(t, "../../scripts/utep.smtp")
	for n := 1; n <= 3; n++ { // connect, expect 220, send EHLO
		waitPrompt(n)
		io.WriteString(keys, "\n")
	}
	waitPrompt(4)
	io.WriteString(keys, "q\n")
	if code := exitWithin(t, done, out); code != exitInterrupted {
		t.Errorf("exit %d after q, want %d\n%s", code, exitInterrupted, out)
	}
	got := out.String()
	for _, want := range []string{"next: line 9: connect", "C: EHLO smtprun.localhost", "C: QUIT   (interrupted)", "S: 221"} {
		if !strings.Contains(got, want) {
			t.Errorf("transcript lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "C: STARTTLS") {
		t.Errorf("ran past q:\n%s", got)
	}
}

// TestStepContinue: c runs the rest without pausing again.
func TestStepContinue(t *testing.T) {
	keys, out, done, waitPrompt := stepRun(t, "../../scripts/utep.smtp")
	waitPrompt(1)
	io.WriteString(keys, "c\n")
	if code := exitWithin(t, done, out); code != 0 || strings.Count(out.String(), "[q] quit >") != 1 {
		t.Errorf("exit %d, %d prompts\n%s", code, strings.Count(out.String(), "[q] quit >"), out)
	}
}

// TestStepPromptMasksSecrets: the prompt shows the next step as the
// transcript does, with a password written into the script masked.
func TestStepPromptMasksSecrets(t *testing.T) {
	const secret = "literal-practice-password"
	script := writeFile(t, t.TempDir(), "literal.smtp", `connect "smtp.gmail.com:587"
expect 220
auth login "student@example.test" "`+secret+`"
expect 235
`)
	keys, out, done, waitPrompt := stepRun(t, script)
	for n := 1; n <= 2; n++ { // connect, expect 220
		waitPrompt(n)
		io.WriteString(keys, "\n")
	}
	waitPrompt(3)
	io.WriteString(keys, "q\n")
	exitWithin(t, done, out)
	got := out.String()
	if !strings.Contains(got, `next: line 3: auth login "student@example.test" "********"`) {
		t.Errorf("the prompt does not show the auth step masked:\n%s", got)
	}
	if strings.Contains(got, secret) {
		t.Errorf("the password was printed:\n%s", got)
	}
}

func TestStepRefusedWithoutTerminal(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run([]string{"--sandbox", "--step", "../../scripts/utep.smtp"}, strings.NewReader("\n"), &out, &errOut)
	if code != exitUsage || !strings.Contains(errOut.String(), "--step needs a terminal") {
		t.Errorf("exit %d: %s", code, errOut.String())
	}
}

// TestStepUnknownKey: a key that is no choice asks again, naming the
// keys, and runs nothing.
func TestStepUnknownKey(t *testing.T) {
	keys, out, done, waitPrompt := stepRun(t, "../../scripts/utep.smtp")
	waitPrompt(1)
	io.WriteString(keys, "x\n")
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(out.String(), "is not a choice") && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	got := out.String()
	if !strings.Contains(got, `"x" is not a choice: Enter runs the step, c runs the rest without stopping, q sends QUIT and stops`) {
		t.Errorf("no answer to an unknown key:\n%s", got)
	}
	if strings.Contains(got, "connected to") {
		t.Errorf("an unknown key ran the step:\n%s", got)
	}
	io.WriteString(keys, "q\n")
	exitWithin(t, done, out)
}

// TestStepCtrlC: Ctrl-C at the prompt before the greeting is read ends
// the prompt's line, and QUIT gets its own 221: the unread 220 is read
// first, as the greeting it is; q does the same.
func TestStepCtrlC(t *testing.T) {
	for _, key := range []string{"ctrl-c", "q"} {
		t.Run(key, func(t *testing.T) {
			keys, out, done, waitPrompt := stepRun(t, "../../scripts/utep.smtp")
			waitPrompt(1)
			io.WriteString(keys, "\n") // connect; the greeting stays unread
			waitPrompt(2)
			time.Sleep(100 * time.Millisecond) // the greeting has arrived
			if key == "q" {
				io.WriteString(keys, "q\n")
			} else if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
				t.Fatal(err)
			}
			if code := exitWithin(t, done, out); code != exitInterrupted {
				t.Errorf("exit %d, want %d", code, exitInterrupted)
			}
			got := out.String()
			_, after, _ := strings.Cut(got[strings.LastIndex(got, "[q] quit >"):], "> ")
			// (After q the terminal echoes the Enter; a signal ends no line.)
			if key == "ctrl-c" && !strings.HasPrefix(after, "\n") {
				t.Errorf("the QUIT line is glued to the prompt:\n%s", got)
			}
			quit := strings.Index(got, "C: QUIT")
			greeting := strings.Index(got, "S: 220 ")
			if quit < 0 || greeting < 0 || greeting > quit || !strings.Contains(got[quit:], "S: 221") {
				t.Errorf("QUIT's reply is not the 221:\n%s", got)
			}
		})
	}
}
