package main

import (
	"errors"
	"flag"
	"fmt"
	"github.com/smtprun/smtprun/oauth"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/smtprun/smtprun/cmd/smtprun/internal/present"
	"github.com/smtprun/smtprun/dsl"
	"github.com/smtprun/smtprun/internal/safefile"
	"github.com/smtprun/smtprun/internal/suggest"
	"github.com/smtprun/smtprun/sandbox"
	"github.com/smtprun/smtprun/sandbox/fault"
	"github.com/smtprun/smtprun/sandbox/oauthsim"
	"github.com/smtprun/smtprun/web"
)

const serveUsage = `Usage:
  smtprun serve [flags]

Runs an emulated provider as a real SMTP server on loopback, for any client
to practise against (swaks, Thunderbird, your own socket program).

Flags:
  --profile NAME        provider to emulate: office365, gmail, yahoo, aol, postfix (default postfix)
  --scenario NAME       fail the way real servers do (see smtprun scenarios)
  --fault PLAN          fail a chosen command: rcpt#3=550 5.1.1 No such user,
                        data=421 4.7.0 Try again later,close (repeatable; docs/faults.md);
                        a recipient fail-550@any.domain gets a 550 without a flag
  --no-limits           no sending limits: office365's 3 connections per account at once and
                        30 messages a minute, the daily recipient quotas (docs/faults.md)
  --listen ADDR         submission with STARTTLS, like port 587 (default 127.0.0.1:2525)
  --listen-tls ADDR     implicit TLS, like port 465 (default 127.0.0.1:2465; "off" disables)
  --listen-relay ADDR   relay rules, like port 25: no AUTH, local domains only (default off)
  --listen-oauth ADDR   emulated OAuth endpoints of office365, gmail and yahoo over HTTP, for
                        smtprun token --issuer http://ADDR/PROVIDER (default 127.0.0.1:2580, skipped
                        with a note when that port is taken; "off" disables)
  --token-ttl DURATION  lifetime of the access tokens issued there (default 1h), to practise refresh
  --ca-out FILE         write the CA certificate (PEM) that clients should trust
  --save DIR            write every accepted message to DIR as an .eml file
  --save-max-messages N at most N messages saved; then 452 4.3.1 (default 1000)
  --save-max-bytes N    at most N bytes saved in all; then 452 4.3.1, or 552 5.3.4
                        for a message larger than all of it (default 268435456)
  --max-connections N   clients served at once; more get 421 (default 1000)
  --public              allow --listen* on an address other than loopback: the
                        practice password is public, so anyone who can reach
                        the port can use it
  --explain             coach the client: annotate each line it sends, diagnose its
                        mistakes (line endings, not waiting for replies, STARTTLS,
                        AUTH encoding, dot-stuffing, ...) with the RFC section and
                        what a correct client sends, and end each session with a
                        report card; the message's lines and the AUTH user name
                        are shown, the password stays masked
  --record DIR          write each session to DIR as a .smtp script that replays
                        it: smtprun --sandbox DIR/FILE.smtp
  --web ADDR            a live web page of the sessions, diagnoses and messages, and
                        an HTTP API under /api/v1 for tests (docs/web.md; default off);
                        without --save, messages are kept in a temporary directory
  --no-color            plain output

The server prints its own transcript; Ctrl-C stops it.

Example:
  smtprun serve --profile gmail --explain --ca-out ca.pem
`

// serveOptions are the parsed `smtprun serve` command line.
type serveOptions struct {
	profile, scenario              string
	listen, listenTLS, listenRelay string
	caOut, save                    string
	saveMaxMessages, maxConns      int
	saveMaxBytes                   int64
	public, noColor                bool
	listenOAuth                    string
	listenOAuthSet                 bool // --listen-oauth was given, not defaulted
	tokenTTL                       time.Duration
	explain                        bool
	record                         string
	faults                         []string
	noLimits                       bool
	web                            string
}

// serveFlagSet is serve's flags, set into o.
func serveFlagSet(o *serveOptions) *flag.FlagSet {
	fs := newFlagSet("serve")
	fs.StringVar(&o.profile, "profile", "postfix", "")
	fs.StringVar(&o.scenario, "scenario", "", "")
	fs.StringVar(&o.listen, "listen", "127.0.0.1:2525", "")
	fs.StringVar(&o.listenTLS, "listen-tls", "127.0.0.1:2465", "")
	fs.StringVar(&o.listenRelay, "listen-relay", "off", "")
	fs.StringVar(&o.caOut, "ca-out", "", "")
	fs.StringVar(&o.save, "save", "", "")
	fs.IntVar(&o.saveMaxMessages, "save-max-messages", 1000, "")
	fs.Int64Var(&o.saveMaxBytes, "save-max-bytes", 256<<20, "")
	fs.IntVar(&o.maxConns, "max-connections", 1000, "")
	fs.BoolVar(&o.public, "public", false, "")
	fs.BoolVar(&o.noColor, "no-color", false, "")
	fs.StringVar(&o.listenOAuth, "listen-oauth", "127.0.0.1:2580", "")
	fs.Var(durationFlag{&o.tokenTTL}, "token-ttl", "")
	fs.BoolVar(&o.explain, "explain", false, "")
	fs.StringVar(&o.record, "record", "", "")
	fs.Var(listFlag{&o.faults}, "fault", "")
	fs.BoolVar(&o.noLimits, "no-limits", false, "")
	fs.StringVar(&o.web, "web", "off", "")
	return fs
}

// parseServeFlags parses and checks the serve command line.
func parseServeFlags(args []string) (*serveOptions, error) {
	o := &serveOptions{}
	fs := serveFlagSet(o)
	rest, err := parseInterspersed(fs, args)
	if err != nil {
		return nil, err
	}
	fs.Visit(func(f *flag.Flag) { o.listenOAuthSet = o.listenOAuthSet || f.Name == "listen-oauth" })
	if o.tokenTTL < 0 || (o.tokenTTL > 0 && o.tokenTTL < time.Second) {
		return nil, fmt.Errorf("--token-ttl must be at least 1s (OAuth counts expires_in in seconds), got %s", o.tokenTTL)
	}
	if len(rest) > 0 {
		return nil, fmt.Errorf("unexpected argument %q", rest[0])
	}
	if o.saveMaxMessages <= 0 || o.saveMaxBytes <= 0 || o.maxConns <= 0 {
		return nil, fmt.Errorf("--save-max-messages, --save-max-bytes and --max-connections must be positive")
	}
	if !o.public {
		addrs := []string{}
		for _, l := range o.listeners() {
			addrs = append(addrs, l.addr)
		}
		if o.webOn() {
			addrs = append(addrs, o.web)
		}
		for _, addr := range addrs {
			if !isLoopbackAddr(addr) {
				return nil, fmt.Errorf("%s is not a loopback address: the practice account's password is public, so anyone who can reach it could use the server; listen on 127.0.0.1 or [::1], or add --public if you mean it", addr)
			}
		}
	}
	var names []string
	for _, p := range sandbox.Profiles() {
		if p.Name == o.profile {
			return o, nil
		}
		names = append(names, p.Name)
	}
	msg := fmt.Sprintf("unknown profile %q", o.profile)
	if best := suggest.Closest(o.profile, names); best != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", best)
	}
	return nil, fmt.Errorf("%s; the profiles are %s", msg, strings.Join(names, ", "))
}

// isLoopbackAddr reports whether a --listen address is on loopback only.
// An empty host (":2525") is every interface; a host name other than
// localhost counts as public, since what it resolves to can change.
func isLoopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// serveListener is one port of the emulated provider: an address and the
// rules (submission, implicit TLS, relay) it serves with.
type serveListener struct {
	addr string
	mode sandbox.Mode
	what string
}

// listeners are the ports the command line asks for; "off" or "" turns
// one off.
func (o *serveOptions) listeners() []serveListener {
	var want []serveListener
	for _, l := range []serveListener{
		{o.listen, sandbox.Submission, "submission with STARTTLS (like port 587)"},
		{o.listenTLS, sandbox.ImplicitTLS, "implicit TLS (like port 465)"},
		{o.listenRelay, sandbox.Relay, "relay rules (like port 25)"},
	} {
		if l.addr != "" && l.addr != "off" {
			want = append(want, l)
		}
	}
	return want
}

// webOn reports whether --web asks for the web view.
func (o *serveOptions) webOn() bool { return o.web != "" && o.web != "off" }

// runServe serves until the invocation's context ends (Ctrl-C).
func runServe(inv *invocation, args []string) int {
	stdout, stderr := inv.stdout, inv.stderr
	o, err := parseServeFlags(args)
	if code, ok := inv.parsed(err); !ok {
		return code
	}
	plans, err := parseFaults(o.faults, nil)
	if err != nil {
		return inv.sandboxSetupError(present.NewStyle(stderr, o.noColor), nil, err)
	}
	log := present.NewServeLog(stdout, present.NewStyle(stdout, o.noColor), o.explain)
	if serveClock != nil {
		log.Now = serveClock
	}
	opts := sandbox.Options{
		Faults:          &fault.Plans{},
		NoLimits:        o.noLimits,
		Scenario:        o.scenario,
		SaveDir:         o.save,
		SaveMaxMessages: o.saveMaxMessages,
		SaveMaxBytes:    o.saveMaxBytes,
		MaxConnections:  o.maxConns,
		Observer:        log.Event,
		TokenTTL:        o.tokenTTL,
		Explain:         o.explain,
	}
	var view *web.Server
	if o.webOn() {
		view = web.New(web.Config{Faults: opts.Faults, RecordDir: o.record, Public: o.public})
		opts.Observer = func(e sandbox.Event) {
			log.Event(e)
			view.Observe(e)
		}
		if opts.SaveDir == "" {
			// The page shows messages from their files; without --save
			// they live in a private directory for the run.
			dir, err := os.MkdirTemp("", "smtprun-web-")
			if err != nil {
				return inv.failf(exitRuntime, "--web: %v", err)
			}
			defer os.RemoveAll(dir)
			opts.SaveDir = dir
		}
	}
	if o.record != "" {
		if err := safefile.MkdirPrivate(o.record); err != nil {
			return inv.usageError("--record: " + err.Error())
		}
		rec := &sessionWriter{dir: o.record, scenario: o.scenario, log: log}
		if view != nil {
			rec.written = view.Recorded
		}
		opts.Record = rec.write
	}
	opts.Faults.Set(plans...)
	if serveTestHook != nil {
		serveTestHook(&opts)
	}
	sb, err := sandbox.New(opts)
	if err != nil {
		return inv.usageError(err.Error())
	}
	defer sb.Close()
	if o.caOut != "" {
		// A certificate, public: 0644, but never written through a link.
		if err := safefile.WriteFile(o.caOut, sb.CACertPEM(), 0o644); err != nil {
			return inv.usageError("--ca-out: " + err.Error())
		}
	}
	fmt.Fprintf(stdout, "smtprun serve: emulating %s", o.profile)
	if o.scenario != "" {
		fmt.Fprintf(stdout, ", scenario %s", o.scenario)
	}
	fmt.Fprintln(stdout)
	for _, p := range plans {
		fmt.Fprintf(stdout, "  fault plan: %s\n", p.Source)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 5)
	for _, l := range o.listeners() {
		ln, err := net.Listen("tcp", l.addr)
		if err != nil {
			return inv.usageError(fmt.Sprintf("cannot listen on %s: %v", l.addr, err))
		}
		fmt.Fprintf(stdout, "  listening on %s: %s\n", ln.Addr(), l.what)
		if !isLoopbackAddr(ln.Addr().String()) {
			warnPublic(stderr, ln.Addr().String(), o.profile, o.noColor)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := sb.Serve(ln, o.profile, l.mode); err != nil {
				errs <- err
			}
		}()
	}
	var oauthSrv *http.Server
	ln, err := o.oauthListener(inv.stdout)
	if err != nil {
		return inv.usageError(err.Error())
	}
	if ln != nil {
		// Read, idle and connection limits: a client that drips or idles
		// must not hold the endpoints, as the SMTP side bounds its own.
		srv := oauthsim.NewServer(sb.OAuthHandler(), oauthsim.DefaultLimits)
		ln = oauthsim.LimitListener(ln, oauthsim.DefaultLimits.MaxConns)
		oauthSrv = srv
		fmt.Fprint(stdout, oauthBanner(ln.Addr().String(), orDefaultTTL(o.tokenTTL)))
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errs <- err
			}
		}()
	}
	var webSrv *http.Server
	if view != nil {
		ln, err := net.Listen("tcp", o.web)
		if err != nil {
			return inv.usageError(fmt.Sprintf("cannot listen on %s: %v", o.web, err))
		}
		fmt.Fprintf(stdout, "  listening on %s: web view http://%s/ and API http://%s/api/v1/\n", ln.Addr(), ln.Addr(), ln.Addr())
		if !isLoopbackAddr(ln.Addr().String()) {
			warnPublic(stderr, ln.Addr().String(), o.profile, o.noColor)
		}
		srv, webErrs := view.Serve(ln)
		webSrv = srv
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err, ok := <-webErrs; ok {
				errs <- err
			}
		}()
	}
	printServeHints(stdout, o)
	code := exitOK
	select {
	case <-inv.ctx.Done():
	case err := <-errs:
		code = inv.failf(exitRuntime, "%v", err)
	}
	sb.Close()
	if oauthSrv != nil {
		oauthSrv.Close()
	}
	if webSrv != nil {
		webSrv.Close()
	}
	wg.Wait()
	log.Printf("smtprun serve: stopped\n")
	return code
}

// oauthListener listens for the OAuth endpoints: nil when they are off,
// or when the default port is taken and nobody asked for it (a second
// serve on a classroom machine or in a test suite must still start); an
// explicit --listen-oauth that cannot listen is an error.
func (o *serveOptions) oauthListener(stdout io.Writer) (net.Listener, error) {
	if o.listenOAuth == "" || o.listenOAuth == "off" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", o.listenOAuth)
	switch {
	case err != nil && o.listenOAuthSet:
		return nil, fmt.Errorf("cannot listen on %s: %v", o.listenOAuth, err)
	case err != nil:
		fmt.Fprintf(stdout, "  OAuth endpoints not started: cannot listen on %s (%v); pass --listen-oauth ADDR to use another port\n", o.listenOAuth, err)
		return nil, nil
	}
	return ln, nil
}

// warnPublic says loudly, on stderr, that the server is on the network.
func warnPublic(w io.Writer, addr, profile string, noColor bool) {
	st := present.NewStyle(w, noColor)
	_, pass := sandbox.PracticeCredentials(profile)
	fmt.Fprintln(w, st.ErrTitle.Sprintf("WARNING: smtprun serve is listening on %s, beyond this machine (--public).", addr))
	fmt.Fprintln(w, st.ErrTitle.Sprintf("WARNING: anyone who can reach it logs in with the public practice password %q and can submit mail to it.", pass))
}

// printServeHints tells a client's user what they need to connect: the CA
// to trust, where messages go, the account to log in with.
func printServeHints(w io.Writer, o *serveOptions) {
	if o.caOut != "" {
		fmt.Fprintf(w, "  CA certificate for clients to verify with: %s\n", o.caOut)
	}
	if o.record != "" {
		fmt.Fprintf(w, "  each session is recorded in %s as a script; replay one with: smtprun --sandbox FILE\n", o.record)
	}
	if o.explain {
		fmt.Fprintln(w, "  --explain: the client's mistakes are diagnosed as they happen, with a report card per session")
	}
	if o.save != "" {
		fmt.Fprintf(w, "  accepted messages are saved in %s (at most %d messages, %d bytes: --save-max-messages, --save-max-bytes)\n", o.save, o.saveMaxMessages, o.saveMaxBytes)
	}
	user, pass := sandbox.PracticeCredentials(o.profile)
	fmt.Fprintf(w, "  practice account: %s / %s (any user name logs in with that password)\n", user, pass)
	fmt.Fprintln(w, "  Ctrl-C stops the server.")
}

// oauthBanner lists serve's OAuth endpoints in aligned columns, and says
// which providers smtprun token also knows for real (office365, gmail)
// and which exist only as emulated here (yahoo): their token works
// against this server, and there are no real endpoints to sign in to.
func oauthBanner(addr, ttl string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "  listening on %s: OAuth endpoints (smtprun token PROVIDER --issuer http://%s/PROVIDER), tokens last %s:\n", addr, addr, ttl)
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for _, p := range sandbox.OAuthProviders() {
		kind := "emulated only: smtprun token has no real endpoints for it"
		if _, builtin := oauth.Lookup(p); builtin {
			kind = "as smtprun token " + p + " signs in for real"
		}
		fmt.Fprintf(tw, "    %s\thttp://%s/%s\t%s\n", p, addr, p, kind)
	}
	tw.Flush()
	return b.String()
}

// serveTestHook lets tests shorten the sandbox's waits (the OAuth device
// code's lifetime and polling interval, the coach's) and fix the clock.
// Nil outside tests.
var serveTestHook func(*sandbox.Options)

// serveClock, set by tests, stamps serve's log lines instead of the
// time, so that their output stays the same from run to run.
var serveClock func() time.Time

func orDefaultTTL(d time.Duration) string {
	if d == 0 {
		return "1h"
	}
	return d.String()
}

// sessionWriter writes each recorded session (serve --record) as a
// script, printed by dsl.Format.
type sessionWriter struct {
	mu       sync.Mutex
	dir      string
	scenario string
	log      *present.ServeLog
	written  func(conn int64, path string) // if set, told each file written
}

func (w *sessionWriter) write(r *sandbox.Recording) {
	var b strings.Builder
	fmt.Fprintf(&b, "# Recorded by smtprun serve --record: connection %d, profile %s.\n", r.Conn, r.Profile)
	if w.scenario != "" {
		fmt.Fprintf(&b, "# scenario: %s\n", w.scenario)
	}
	fmt.Fprintf(&b, "# Replay it: smtprun --sandbox FILE (the practice account fills ${SMTP_USER} and ${SMTP_PASS}).\n\n")
	if err := dsl.Format(&b, r.Script); err != nil {
		w.log.Printf("[%d] recording not written: %v\n", r.Conn, err)
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	name, err := w.create(fmt.Sprintf("session-%s-%04d-%s", r.Time.UTC().Format("20060102T150405Z"), r.Conn, r.Profile), b.String())
	if err != nil {
		w.log.Printf("[%d] recording not written: %s\n", r.Conn, sandbox.EscapeLine(err.Error()))
		return
	}
	w.log.Note(r.Conn, "recorded as "+sandbox.EscapeLine(name))
	if w.written != nil {
		w.written(r.Conn, name)
	}
}

// create writes a recording 0600 (it holds the session) under a new name:
// the names are predictable, so a name someone else took (a link planted
// in a sticky directory) is passed over for the next, never written
// through.
func (w *sessionWriter) create(base, text string) (string, error) {
	for i := 1; ; i++ {
		name := filepath.Join(w.dir, base+".smtp")
		if i > 1 {
			name = filepath.Join(w.dir, fmt.Sprintf("%s-%d.smtp", base, i))
		}
		f, err := safefile.Create(name, 0o600)
		if errors.Is(err, fs.ErrExist) && i < 100 {
			continue
		}
		if err != nil {
			return "", err
		}
		_, err = f.WriteString(text)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		return name, err
	}
}
