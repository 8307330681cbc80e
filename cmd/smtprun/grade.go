package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/smtprun/smtprun/cmd/smtprun/internal/present"
	"github.com/smtprun/smtprun/internal/safefile"
	rpt "github.com/smtprun/smtprun/report"
	"github.com/smtprun/smtprun/sandbox"
	"github.com/smtprun/smtprun/sandbox/fault"
)

// `smtprun grade RUBRIC -- COMMAND [ARGS]` runs a student's SMTP client
// once per task of a rubric, each time against a fresh emulated server
// with the coach on, and scores what the coach saw.

const gradeUsage = `usage: smtprun grade [flags] RUBRIC -- COMMAND [ARGS]

Run a student's SMTP client once per task of RUBRIC (a YAML file), each time
against a fresh emulated server (the task's profile and scenario) with the
coach on, and score what the coach saw. The program learns where to connect
from its environment (SMTP_HOST, SMTP_PORT, SMTP_CA, SMTP_USER, SMTP_PASS,
SMTP_FROM, SMTP_TO, SMTP_TLS) or from {host}, {port}, {ca}, {user}, {from}
and {to} in COMMAND and ARGS.

flags:
  --pass N         exit 0 when the total is at least N points (default: full marks)
  --junit FILE     write a JUnit XML report: one test case per check
  --json FILE      write a JSON report: tasks, checks, points, the coach's diagnoses
  --no-color       no colour

exit codes: 0 at full marks (or --pass), 4 below it, 1 usage or rubric error,
3 if the program could not be started, 130 interrupted.

Example:
  smtprun grade --pass 35 --junit grade.xml scripts/grade/socket-assignment.yaml -- python3 client.py
`

// rubric is a grading rubric, as read from YAML.
type rubric struct {
	Name string `yaml:"name"`
	// Timeout bounds each run of the program, unless a task says otherwise.
	Timeout string      `yaml:"timeout"`
	Tasks   []gradeTask `yaml:"tasks"`
}

type gradeTask struct {
	Name     string `yaml:"name"`
	Title    string `yaml:"title"`
	Profile  string `yaml:"profile"`
	Scenario string `yaml:"scenario"`
	// Faults are fault plans, as serve --fault takes them
	// ("data=421 4.7.0 Try again later,close"; docs/faults.md).
	Faults []string `yaml:"faults"`
	// Port is "submission" (STARTTLS, like 587; the default) or
	// "implicit-tls" (like 465).
	Port string `yaml:"port"`
	// Password: "practice" (the default) or "wrong", to see how the
	// program handles a refused login.
	Password string `yaml:"password"`
	From     string `yaml:"from"`
	To       string `yaml:"to"`
	Timeout  string `yaml:"timeout"`
	// Env adds variables to the program's environment.
	Env    map[string]string `yaml:"env"`
	Checks []gradeCheck      `yaml:"checks"`
}

type gradeCheck struct {
	Check  string `yaml:"check"`
	Points int    `yaml:"points"`
}

// gradeChecks are the checks a rubric can name, with what each awards
// points for; each is decided from the coach's events of the task's run.
var gradeChecks = map[string]struct {
	what  string
	check func(*taskRun) (bool, string)
}{
	"connected":            {"connected to the server it was given", checkConnected},
	"delivered":            {"delivered the message to the right recipient", checkDelivered},
	"starttls_before_auth": {"STARTTLS (or implicit TLS) before AUTH", checkTLSBeforeAuth},
	"ehlo_after_starttls":  {"EHLO again after STARTTLS", checkEHLOAgain},
	"auth_login":           {"AUTH LOGIN with both answers base64-encoded right", checkAuthLogin},
	"crlf":                 {"every line ended with CRLF", checkCRLF},
	"dot_stuffing":         {"message lines starting with a dot doubled", checkDotStuffing},
	"quit":                 {"QUIT at the end, after the server confirmed the message", checkQuit},
	"no_hang":              {"finished on its own within the time limit", checkNoHang},
	"handles_failure":      {"stopped cleanly after the server refused (no hang, nothing sent after the refusal)", checkHandlesFailure},
	"no_mistakes":          {"no mistake the coach knows of", checkNoMistakes},
}

// loadRubric reads and checks a rubric: every task has a known profile,
// checks with names and points.
func loadRubric(path string) (*rubric, error) {
	data, err := safefile.Read(context.Background(), path, maxRubricBytes, 10*time.Second)
	if err != nil {
		return nil, err
	}
	var r rubric
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if len(r.Tasks) == 0 {
		return nil, fmt.Errorf("%s: no tasks", path)
	}
	if _, err := r.timeout(""); err != nil {
		return nil, fmt.Errorf("%s: timeout: %v", path, err)
	}
	profiles := map[string]bool{}
	for _, p := range sandbox.Profiles() {
		profiles[p.Name] = true
	}
	names := map[string]bool{}
	for i, t := range r.Tasks {
		where := fmt.Sprintf("%s: task %d (%s)", path, i+1, t.Name)
		switch {
		case t.Name == "" || names[t.Name]:
			return nil, fmt.Errorf("%s: every task needs a name of its own", where)
		case !profiles[t.Profile]:
			return nil, fmt.Errorf("%s: unknown profile %q", where, t.Profile)
		case t.Port != "" && t.Port != "submission" && t.Port != "implicit-tls":
			return nil, fmt.Errorf("%s: port is submission or implicit-tls, not %q", where, t.Port)
		case t.Password != "" && t.Password != "practice" && t.Password != "wrong":
			return nil, fmt.Errorf("%s: password is practice or wrong, not %q", where, t.Password)
		case len(t.Checks) == 0:
			return nil, fmt.Errorf("%s: no checks", where)
		}
		names[t.Name] = true
		if _, err := r.timeout(t.Timeout); err != nil {
			return nil, fmt.Errorf("%s: timeout: %v", where, err)
		}
		if t.Scenario != "" {
			sb, err := sandbox.New(sandbox.Options{Scenario: t.Scenario})
			if err != nil {
				return nil, fmt.Errorf("%s: %v", where, err)
			}
			sb.Close()
		}
		for _, f := range t.Faults {
			if _, err := fault.Parse(f); err != nil {
				return nil, fmt.Errorf("%s: fault %q: %v", where, f, err)
			}
		}
		for _, c := range t.Checks {
			if _, ok := gradeChecks[c.Check]; !ok {
				var known []string
				for k := range gradeChecks {
					known = append(known, k)
				}
				slices.Sort(known)
				return nil, fmt.Errorf("%s: unknown check %q; known checks: %s", where, c.Check, strings.Join(known, ", "))
			}
			if c.Points <= 0 {
				return nil, fmt.Errorf("%s: check %s needs points > 0", where, c.Check)
			}
		}
	}
	return &r, nil
}

// maxRubricBytes bounds a rubric file: a few tasks take a few KB.
const maxRubricBytes = 1 << 20

// defaultTaskTimeout bounds a task's run when the rubric does not.
const defaultTaskTimeout = 30 * time.Second

func (r *rubric) timeout(task string) (time.Duration, error) {
	s := task
	if s == "" {
		s = r.Timeout
	}
	if s == "" {
		return defaultTaskTimeout, nil
	}
	d, err := time.ParseDuration(s)
	if err == nil && (d <= 0 || d > time.Hour) {
		err = fmt.Errorf("%s is not between 0 and 1h", s)
	}
	return d, err
}

// taskRun is what one run of the program did, as the server and the
// coach saw it.
type taskRun struct {
	task     *gradeTask
	addr     string // where the server listened
	events   []sandbox.Event
	cards    []*sandbox.ReportCard
	started  bool // the program could be started
	timedOut bool
	exitCode int
	took     time.Duration
	stdout   *boundedBuffer
	stderr   *boundedBuffer
	// secrets are masked in the program's output where it is shown or
	// kept: the password it was given, and its base64 forms.
	secrets []string
}

// output is what the program wrote to one stream, its secrets masked.
func (tr *taskRun) output(b *boundedBuffer) string {
	s := b.String()
	for _, secret := range tr.secrets {
		s = strings.ReplaceAll(s, secret, "********")
	}
	return s
}

func (tr *taskRun) connections() int {
	n := 0
	for _, e := range tr.events {
		if e.Kind == sandbox.ConnOpened {
			n++
		}
	}
	return n
}

// diagnosed reports whether the coach made one of the rules' diagnoses.
func (tr *taskRun) diagnosed(rules ...string) (sandbox.Diagnosis, bool) {
	for _, c := range tr.cards {
		for rule := range c.Mistakes {
			if slices.Contains(rules, rule) {
				return tr.diagnosis(rule), true
			}
		}
		for rule := range c.Warnings {
			if slices.Contains(rules, rule) {
				return tr.diagnosis(rule), true
			}
		}
	}
	return sandbox.Diagnosis{}, false
}

func (tr *taskRun) diagnosis(rule string) sandbox.Diagnosis {
	for _, e := range tr.events {
		if e.Kind == sandbox.DiagnosisMade && e.Diagnosis.Rule == rule {
			return *e.Diagnosis
		}
	}
	return sandbox.Diagnosis{Rule: rule}
}

func (tr *taskRun) good(what string) bool {
	for _, c := range tr.cards {
		if slices.Contains(c.Good, what) {
			return true
		}
	}
	return false
}

func (tr *taskRun) delivered() bool {
	for _, c := range tr.cards {
		if c.Delivered > 0 {
			return true
		}
	}
	return false
}

func because(d sandbox.Diagnosis) string {
	return d.Sentence(sandbox.EscapeLine)
}

func checkConnected(tr *taskRun) (bool, string) {
	if tr.connections() > 0 {
		return true, ""
	}
	return false, fmt.Sprintf("the program never connected to %s: it must read the server from SMTP_HOST and SMTP_PORT (and trust SMTP_CA), or take {host} and {port} on its command line, instead of hard-coding a server such as smtp.office365.com:587", tr.addr)
}

func checkDelivered(tr *taskRun) (bool, string) {
	want := tr.task.to()
	for _, c := range tr.cards {
		if slices.Contains(c.Recipients, want) {
			return true, ""
		}
	}
	for _, c := range tr.cards {
		if len(c.Recipients) > 0 {
			return false, fmt.Sprintf("the message went to %s, not to %s (SMTP_TO)", strings.Join(c.Recipients, ", "), want)
		}
	}
	return false, "no message was delivered" + tr.lastRefusal()
}

func (tr *taskRun) lastRefusal() string {
	for i := len(tr.cards) - 1; i >= 0; i-- {
		if r := tr.cards[i].LastRefused; r.OfGreeting() {
			return fmt.Sprintf(": the server refused the session in its greeting, %s", sandbox.EscapeLine(r.Reply))
		} else if r != nil {
			return fmt.Sprintf(": the server refused %s with %s", sandbox.EscapeLine(r.Command), sandbox.EscapeLine(r.Reply))
		}
	}
	return ""
}

func checkTLSBeforeAuth(tr *taskRun) (bool, string) {
	if d, ok := tr.diagnosed("before_starttls"); ok {
		return false, because(d)
	}
	if !tr.good("AUTH") {
		return false, "the program never logged in" + tr.lastRefusal()
	}
	if !tr.good("STARTTLS") && !tr.good("implicit TLS") {
		return false, "the program logged in without TLS"
	}
	return true, ""
}

func checkEHLOAgain(tr *taskRun) (bool, string) {
	if d, ok := tr.diagnosed("no_ehlo_after_starttls", "helo_not_ehlo"); ok {
		return false, because(d)
	}
	if !tr.good("EHLO again after STARTTLS") {
		return false, "the program did not send EHLO after STARTTLS"
	}
	return true, ""
}

func checkAuthLogin(tr *taskRun) (bool, string) {
	if d, ok := tr.diagnosed("auth_not_base64", "auth_raw_username", "auth_encoded_newline", "before_334", "auth_answer_after_refusal"); ok {
		return false, because(d)
	}
	login := false
	for _, e := range tr.events {
		if e.Kind == sandbox.LineReceived && strings.HasPrefix(strings.ToUpper(e.Line), "AUTH LOGIN") {
			login = true
		}
	}
	if !login {
		return false, "the program did not use AUTH LOGIN"
	}
	if !tr.good("AUTH") {
		return false, "AUTH LOGIN did not succeed" + tr.lastRefusal()
	}
	return true, ""
}

func checkCRLF(tr *taskRun) (bool, string) {
	if d, ok := tr.diagnosed("bare_lf_command", "bare_cr_command", "bare_lf_data", "bare_cr_data"); ok {
		return false, because(d)
	}
	if tr.connections() == 0 {
		return false, "the program sent nothing"
	}
	return true, ""
}

func checkDotStuffing(tr *taskRun) (bool, string) {
	if d, ok := tr.diagnosed("dot_not_doubled"); ok {
		return false, because(d)
	}
	if !tr.delivered() {
		return false, "no message arrived to check"
	}
	return true, ""
}

func checkQuit(tr *taskRun) (bool, string) {
	if d, ok := tr.diagnosed("quit_before_confirm", "quit_in_data", "no_quit", "closed_in_data"); ok {
		return false, because(d)
	}
	for _, c := range tr.cards {
		if !c.Quit {
			return false, "the connection ended without QUIT"
		}
	}
	return len(tr.cards) > 0, "the program sent nothing"
}

func checkNoHang(tr *taskRun) (bool, string) {
	if tr.timedOut {
		return false, fmt.Sprintf("the program was still running after %s and was stopped%s", tr.took.Round(time.Second), tr.stuckWhere())
	}
	return true, ""
}

// stuckWhere says what the server waited for when the program hung.
func (tr *taskRun) stuckWhere() string {
	if d, ok := tr.diagnosed("stuck_in_data", "tls_port_client_waits", "after_starttls", "reply_desync"); ok {
		return ": " + because(d)
	}
	for i := len(tr.events) - 1; i >= 0; i-- {
		if e := tr.events[i]; e.Kind == sandbox.LineReceived {
			// The line is as the transcript shows it: a credential is
			// masked already.
			return fmt.Sprintf("; the server was waiting for its next command, after %s", sandbox.EscapeLine(e.Line))
		}
	}
	return ""
}

func checkHandlesFailure(tr *taskRun) (bool, string) {
	if ok, why := checkNoHang(tr); !ok {
		return false, why
	}
	if d, ok := tr.diagnosed("auth_answer_after_refusal", "message_after_refused_data", "message_without_data", "before_354", "ignored_greeting"); ok {
		return false, because(d)
	}
	failed := false
	for _, c := range tr.cards {
		failed = failed || c.Failed
	}
	if !failed {
		return false, "the server's refusal never came: the program did not get that far"
	}
	if tr.exitCode == 0 {
		return false, "the login or message was refused, but the program exited 0 as if it had succeeded"
	}
	return true, ""
}

func checkNoMistakes(tr *taskRun) (bool, string) {
	for _, c := range tr.cards {
		if rules := c.Rules(); len(rules) > 0 {
			return false, because(tr.diagnosis(rules[0]))
		}
	}
	if tr.connections() == 0 {
		return false, "the program sent nothing"
	}
	return true, ""
}

func (t *gradeTask) to() string {
	if t.To != "" {
		return t.To
	}
	return "friend@example.net"
}

func (t *gradeTask) from(user string) string {
	if t.From != "" {
		return t.From
	}
	return user
}

// boundedBuffer keeps the first max bytes a program writes and counts
// the rest: a program that floods its output must not grow the grader.
type boundedBuffer struct {
	mu      sync.Mutex
	b       bytes.Buffer
	max     int
	dropped int64
}

func (b *boundedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := len(p)
	if room := max(b.max-b.b.Len(), 0); room < len(p) {
		b.dropped += int64(len(p) - room)
		p = p[:room]
	}
	b.b.Write(p)
	return n, nil
}

func (b *boundedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.b.String()
	if b.dropped > 0 {
		s += fmt.Sprintf("\n[%d more bytes not kept]\n", b.dropped)
	}
	return s
}

const gradeOutputMax = 64 << 10

// gradeMaxEvents bounds the transcript kept of one task's run.
const gradeMaxEvents = 20_000

// gradeKillGrace is how long a program has between SIGTERM and SIGKILL.
const gradeKillGrace = 2 * time.Second

// runTask runs the program once against a fresh server for the task.
func runTask(ctx context.Context, t *gradeTask, limit time.Duration, argv []string, dir string) (*taskRun, error) {
	tr := &taskRun{task: t, stdout: &boundedBuffer{max: gradeOutputMax}, stderr: &boundedBuffer{max: gradeOutputMax}}
	plans := &fault.Plans{}
	for _, f := range t.Faults {
		p, err := fault.Parse(f) // checked when the rubric was read
		if err != nil {
			return nil, err
		}
		plans.Add(p)
	}
	var mu sync.Mutex
	open := 0
	closed := make(chan struct{}, 64)
	sb, err := sandbox.New(sandbox.Options{
		Scenario: t.Scenario,
		Faults:   plans,
		Explain:  true,
		Observer: func(e sandbox.Event) {
			mu.Lock()
			defer mu.Unlock()
			if len(tr.events) >= gradeMaxEvents && (e.Kind == sandbox.LineReceived || e.Kind == sandbox.ReplySent || e.Kind == sandbox.MessageLine) {
				// A program that floods the server must not grow the
				// grader: the transcript stops, diagnoses and report
				// cards still count.
				return
			}
			tr.events = append(tr.events, e)
			switch e.Kind {
			case sandbox.ConnOpened:
				open++
			case sandbox.ReportCardMade:
				tr.cards = append(tr.cards, e.Report)
			case sandbox.ConnClosed:
				open--
				select {
				case closed <- struct{}{}:
				default:
				}
			}
		},
	})
	if err != nil {
		return nil, err
	}
	defer sb.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	mode := sandbox.Submission
	tlsMode := "starttls"
	if t.Port == "implicit-tls" {
		mode, tlsMode = sandbox.ImplicitTLS, "implicit"
	}
	go sb.Serve(ln, t.Profile, mode)
	tr.addr = ln.Addr().String()
	host, port, _ := net.SplitHostPort(tr.addr)
	ca := filepath.Join(dir, t.Name+"-ca.pem")
	if err := os.WriteFile(ca, sb.CACertPEM(), 0o600); err != nil {
		return nil, err
	}
	user, pass := sandbox.PracticeCredentials(t.Profile)
	if t.Password == "wrong" {
		pass = "not-" + pass
	}
	tr.secrets = []string{pass, base64.StdEncoding.EncodeToString([]byte(pass)),
		base64.StdEncoding.EncodeToString([]byte("\x00" + user + "\x00" + pass))}
	vars := map[string]string{"host": host, "port": port, "ca": ca, "user": user, "from": t.from(user), "to": t.to()}
	args := make([]string, len(argv))
	for i, a := range argv {
		for k, v := range vars {
			a = strings.ReplaceAll(a, "{"+k+"}", v)
		}
		args[i] = a
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), "SMTP_HOST="+host, "SMTP_PORT="+port, "SMTP_CA="+ca, "SMTP_USER="+user, "SMTP_PASS="+pass,
		"SMTP_FROM="+t.from(user), "SMTP_TO="+t.to(), "SMTP_TLS="+tlsMode, "SMTP_TIMEOUT="+fmt.Sprint(int(limit.Seconds())))
	for k, v := range t.Env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdout, cmd.Stderr = tr.stdout, tr.stderr
	// Its own process group, so that the program and whatever it starts
	// are stopped together; WaitDelay so that a grandchild holding the
	// output pipes cannot keep Wait from returning.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = gradeKillGrace
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return tr, err
	}
	tr.started = true
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var werr error
	select {
	case werr = <-done:
	case <-ctx.Done():
		// Ctrl-C: the program and its children go, as at the limit.
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		werr = <-done
	case <-time.After(limit):
		tr.timedOut = true
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case werr = <-done:
		case <-time.After(gradeKillGrace):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			werr = <-done
		}
	}
	// Whatever the program left behind in its group goes too.
	syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	tr.took = time.Since(start)
	tr.exitCode = cmd.ProcessState.ExitCode()
	var ee *exec.ExitError
	if werr != nil && !errors.As(werr, &ee) && !errors.Is(werr, exec.ErrWaitDelay) {
		return tr, werr
	}
	// The server's side of the last connection ends a moment after the
	// program's: wait for its report card.
	deadline := time.After(3 * time.Second)
	for {
		mu.Lock()
		n := open
		mu.Unlock()
		if n <= 0 {
			break
		}
		select {
		case <-closed:
		case <-deadline:
			sb.Close()
			n = 0
		}
		if n == 0 {
			break
		}
	}
	sb.Close()
	mu.Lock()
	defer mu.Unlock()
	tr.events = slices.Clone(tr.events)
	return tr, nil
}

// gradedCheck is one check's outcome.
type gradedCheck struct {
	Check  string `json:"check"`
	What   string `json:"what"`
	Points int    `json:"points"`
	Earned int    `json:"earned"`
	// Why says what went wrong, when the points were not earned: the
	// coach's diagnosis where it has one.
	Why string `json:"why,omitempty"`
}

type gradedTask struct {
	Name        string                `json:"name"`
	Title       string                `json:"title,omitempty"`
	Profile     string                `json:"profile"`
	Scenario    string                `json:"scenario,omitempty"`
	Points      int                   `json:"points"`
	Earned      int                   `json:"earned"`
	ExitCode    int                   `json:"exit_code"`
	TimedOut    bool                  `json:"timed_out"`
	DurationMS  int64                 `json:"duration_ms"`
	Connections int                   `json:"connections"`
	Checks      []gradedCheck         `json:"checks"`
	Diagnoses   []sandbox.Diagnosis   `json:"diagnoses"`
	ReportCards []*sandbox.ReportCard `json:"report_cards"`
	Stdout      string                `json:"stdout"`
	Stderr      string                `json:"stderr"`
}

type gradeReport struct {
	Rubric  string       `json:"rubric"`
	Name    string       `json:"name,omitempty"`
	Command []string     `json:"command"`
	Points  int          `json:"points"`
	Earned  int          `json:"earned"`
	Pass    int          `json:"pass"`
	Passed  bool         `json:"passed"`
	Tasks   []gradedTask `json:"tasks"`
}

// gradeOptions are grade's flags.
type gradeOptions struct {
	pass        int
	junit, json string
	noColor     bool
}

// gradeFlagSet is grade's flags, set into g.
func gradeFlagSet(g *gradeOptions) *flag.FlagSet {
	fs := newFlagSet("grade")
	fs.IntVar(&g.pass, "pass", -1, "")
	fs.StringVar(&g.junit, "junit", "", "")
	fs.StringVar(&g.json, "json", "", "")
	fs.BoolVar(&g.noColor, "no-color", false, "")
	return fs
}

func runGrade(inv *invocation, args []string) int {
	stdout, stderr := inv.stdout, inv.stderr
	g := &gradeOptions{}
	fs := gradeFlagSet(g)
	var command []string
	if i := slices.Index(args, "--"); i >= 0 {
		args, command = args[:i], args[i+1:]
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, gradeUsage)
			return exitOK
		}
		return gradeUsageError(stderr, err.Error())
	}
	if fs.NArg() != 1 || len(command) == 0 {
		return gradeUsageError(stderr, "want one RUBRIC, then -- and the program to grade")
	}
	r, err := loadRubric(fs.Arg(0))
	if err != nil {
		return gradeUsageError(stderr, err.Error())
	}
	st := present.NewStyle(stdout, g.noColor)
	dir, err := os.MkdirTemp("", "smtprun-grade-")
	if err != nil {
		fmt.Fprintf(stderr, "smtprun grade: %v\n", err)
		return exitRuntime
	}
	defer os.RemoveAll(dir)
	rep := &gradeReport{Rubric: fs.Arg(0), Name: r.Name, Command: command}
	run := &rpt.Run{Version: rpt.FormatVersion, Started: time.Now()}
	title := r.Name
	if title == "" {
		title = fs.Arg(0)
	}
	fmt.Fprintln(stdout, st.Step.Sprintf("smtprun grade: %s", sandbox.EscapeLine(title)))
	for i := range r.Tasks {
		t := &r.Tasks[i]
		limit, _ := r.timeout(t.Timeout)
		tr, err := runTask(inv.ctx, t, limit, command, dir)
		if inv.ctx.Err() != nil {
			fmt.Fprintln(stderr, "smtprun grade: interrupted")
			return exitInterrupted
		}
		if tr == nil || !tr.started {
			fmt.Fprintf(stderr, "smtprun grade: task %s: cannot run %s: %v\n", t.Name, command[0], err)
			return exitRuntime
		}
		if err != nil {
			fmt.Fprintf(stderr, "smtprun grade: task %s: %v\n", t.Name, err)
		}
		gt := scoreTask(tr)
		rep.Tasks = append(rep.Tasks, gt)
		rep.Points += gt.Points
		rep.Earned += gt.Earned
		printTask(stdout, st, &gt, tr)
		for _, c := range gt.Checks {
			sc := &rpt.Script{Path: t.Name + "/" + c.Check, Result: rpt.Pass, Duration: rpt.Millis(tr.took),
				Transcript: "stdout:\n" + gt.Stdout + "\nstderr:\n" + gt.Stderr}
			if c.Earned < c.Points {
				sc.Result, sc.ExitCode = rpt.Fail, exitExpectation
				sc.Error = &rpt.Failure{Kind: "expectation", Message: fmt.Sprintf("%s: %s (0/%d)", c.Check, c.What, c.Points), Report: c.Why}
			}
			run.Scripts = append(run.Scripts, sc)
		}
	}
	run.Duration = rpt.Millis(time.Since(run.Started))
	run.Tally()
	rep.Pass = rep.Points
	if g.pass >= 0 {
		rep.Pass = g.pass
	}
	rep.Passed = rep.Earned >= rep.Pass
	total := fmt.Sprintf("total: %d/%d points", rep.Earned, rep.Points)
	if g.pass >= 0 {
		total += fmt.Sprintf(" (pass at %d)", rep.Pass)
	}
	if rep.Passed {
		fmt.Fprintln(stdout, st.Server2.Sprint(total))
	} else {
		fmt.Fprintln(stdout, st.Server5.Sprint(total))
	}
	if g.junit != "" {
		if err := safefile.Replace(g.junit, 0o600, func(w io.Writer) error { return rpt.WriteJUnit(w, run) }); err != nil {
			fmt.Fprintf(stderr, "smtprun grade: --junit: %v\n", err)
			return exitRuntime
		}
	}
	if g.json != "" {
		if err := safefile.Replace(g.json, 0o600, func(w io.Writer) error {
			enc := json.NewEncoder(w)
			enc.SetIndent("", "  ")
			return enc.Encode(rep)
		}); err != nil {
			fmt.Fprintf(stderr, "smtprun grade: --json: %v\n", err)
			return exitRuntime
		}
	}
	if !rep.Passed {
		return exitExpectation
	}
	return exitOK
}

func gradeUsageError(stderr io.Writer, msg string) int {
	fmt.Fprintf(stderr, "smtprun grade: %s\n%s", msg, gradeUsage)
	return exitUsage
}

// scoreTask decides every check of the task.
func scoreTask(tr *taskRun) gradedTask {
	t := tr.task
	gt := gradedTask{Name: t.Name, Title: t.Title, Profile: t.Profile, Scenario: t.Scenario, ExitCode: tr.exitCode,
		TimedOut: tr.timedOut, DurationMS: tr.took.Milliseconds(), Connections: tr.connections(), ReportCards: tr.cards,
		Stdout: tr.output(tr.stdout), Stderr: tr.output(tr.stderr), Diagnoses: []sandbox.Diagnosis{}}
	for _, e := range tr.events {
		if e.Kind == sandbox.DiagnosisMade {
			gt.Diagnoses = append(gt.Diagnoses, *e.Diagnosis)
		}
	}
	for _, c := range t.Checks {
		def := gradeChecks[c.Check]
		ok, why := def.check(tr)
		if c.Check != "connected" && tr.connections() == 0 {
			ok, why = checkConnected(tr)
		}
		gc := gradedCheck{Check: c.Check, What: def.what, Points: c.Points}
		if ok {
			gc.Earned = c.Points
		} else {
			gc.Why = why
		}
		gt.Points += gc.Points
		gt.Earned += gc.Earned
		gt.Checks = append(gt.Checks, gc)
	}
	return gt
}

// printTask writes a task's feedback: each check, what went wrong where
// points were lost, and the coach's advice for it.
func printTask(w io.Writer, st present.Style, gt *gradedTask, tr *taskRun) {
	title := gt.Name
	if gt.Title != "" {
		title += ": " + gt.Title
	}
	fmt.Fprintln(w, st.Step.Sprintf("task %s (profile %s%s, server %s)", sandbox.EscapeLine(title), gt.Profile, scenarioNote(gt.Scenario), tr.addr))
	ran := fmt.Sprintf("exited %d after %s", gt.ExitCode, tr.took.Round(10*time.Millisecond))
	if gt.TimedOut {
		ran = fmt.Sprintf("stopped after %s (time limit)", tr.took.Round(time.Second))
	}
	fmt.Fprintln(w, st.Note.Sprintf("  the program %s, %d connection(s)", ran, gt.Connections))
	for _, c := range gt.Checks {
		line := fmt.Sprintf("  [%s] %-60s %d/%d", mark(c), c.What, c.Earned, c.Points)
		if c.Earned == c.Points {
			fmt.Fprintln(w, st.Server2.Sprint(line))
			continue
		}
		fmt.Fprintln(w, st.Server5.Sprint(line))
		fmt.Fprintln(w, "      "+c.Why)
		if d, ok := findDiagnosis(gt, c.Why); ok {
			a := d.Advice()
			fmt.Fprintln(w, st.Server4.Sprintf("      %s; a correct client: %s", a.RFC, a.Instead))
		}
	}
	if gt.Earned < gt.Points && strings.TrimSpace(gt.Stderr) != "" {
		fmt.Fprintln(w, st.Note.Sprint("  the program's stderr ended with:"))
		for _, l := range lastLines(gt.Stderr, 5) {
			fmt.Fprintln(w, "    "+sandbox.EscapeLine(l))
		}
	}
	fmt.Fprintln(w, st.Step.Sprintf("  task %s: %d/%d", sandbox.EscapeLine(gt.Name), gt.Earned, gt.Points))
}

func mark(c gradedCheck) string {
	if c.Earned == c.Points {
		return "x"
	}
	return " "
}

func scenarioNote(s string) string {
	if s == "" {
		return ""
	}
	return ", scenario " + s
}

// findDiagnosis finds the diagnosis a check's reason quotes.
func findDiagnosis(gt *gradedTask, why string) (sandbox.Diagnosis, bool) {
	for _, d := range gt.Diagnoses {
		if d.Sentence(sandbox.EscapeLine) == why {
			return d, true
		}
	}
	return sandbox.Diagnosis{}, false
}

func lastLines(s string, n int) []string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return lines
}
