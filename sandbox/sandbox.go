package sandbox

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/smtprun/smtprun/internal/safefile"
	"github.com/smtprun/smtprun/sandbox/fault"
	"github.com/smtprun/smtprun/sandbox/oauthsim"
)

// Options configure a Sandbox. The zero value is a working sandbox with
// normal provider behaviour.
type Options struct {
	// Scenario is a practice scenario from Scenarios(); "" means normal
	// behaviour. A scenario that lists profiles leaves the others normal
	// (the Observer gets a Note saying so).
	Scenario string

	// Observer, if set, receives the server side of every conversation:
	// connections opened and closed, lines received, replies sent. Calls
	// are serialized. Nil means silent.
	Observer func(Event)

	// SaveDir, if set, is where every accepted message is written as an
	// .eml file: the exact content after dot-unstuffing, CRLF line endings.
	// It is created if missing.
	SaveDir string

	// Clock, if set, replaces time.Now for everything the server says
	// (greeting dates, tracking stamps, file names), for deterministic
	// tests. Certificates always use the real time.
	Clock func() time.Time

	// Rand, if set, replaces crypto/rand for generated IDs (Gmail session
	// IDs, queue IDs, ...), for deterministic tests. Keys never use it.
	Rand io.Reader

	// Credentials give users passwords of their own. Without an entry (or
	// with ""), any user name logs in with the profile's practice password
	// (PracticeCredentials), so a learner's script with their own address
	// runs unchanged; a user mapped to a password logs in with that one
	// only. Any other password is refused with the provider's real error.
	// User names compare without regard to case, passwords exactly.
	Credentials map[string]string

	// SlowDelay is how long the "slow" scenario waits before each reply;
	// 0 means 2 seconds.
	SlowDelay time.Duration

	// IdleTimeout drops a client that sends nothing for this long, with the
	// provider's timeout reply; 0 means 5 minutes (Postfix's smtpd_timeout).
	IdleTimeout time.Duration

	// MaxMessageBytes bounds one message below the SIZE the provider
	// announces; 0 means no bound of its own: the SIZE a profile announces
	// is the size it accepts (Microsoft 365: 150 MiB), as a client that
	// read SIZE expects. A message over it is refused like one over SIZE.
	// Messages stream to SaveDir (or are only counted), so this bounds
	// disk, not memory.
	MaxMessageBytes int64

	// MaxMemoryBytes bounds the memory all connections together keep of
	// messages (each keeps at most its first 64 KiB, for the Message-ID;
	// the rest streams to SaveDir or is counted and dropped); 0 means
	// 32 MiB. Past it a message is still received, without its header in
	// memory (its Message-ID is then generated).
	MaxMemoryBytes int64

	// SaveMaxMessages and SaveMaxBytes are SaveDir's quota: how many
	// messages, and how many bytes in all, this sandbox writes there; 0
	// means 1000 messages and 256 MiB. A message that would go over gets
	// 452 4.3.1 (insufficient system storage, RFC 3463), or 552 5.3.4 if
	// it is larger than the whole byte quota and could never fit.
	SaveMaxMessages int
	SaveMaxBytes    int64

	// MaxConnections bounds the connections Serve handles at once, which
	// bounds the memory of all of them together (each is bounded by
	// itself); 0 means 1000. A client beyond it gets "421 4.7.0 Error:
	// too many connections" and is closed, as by Postfix's
	// smtpd_client_connection_count_limit. DialContext is not limited:
	// its callers are in the same program.
	MaxConnections int

	// TokenTTL is the lifetime of the OAuth access tokens the sandbox
	// issues; 0 means an hour, as Microsoft and Google issue them.
	TokenTTL time.Duration
	// DeviceCodeTTL is how long a device code waits for approval; 0 means
	// 15 minutes. PollInterval is the device flow's polling interval; 0
	// means 5 seconds (RFC 8628 3.2).
	DeviceCodeTTL, PollInterval time.Duration

	// Explain turns the coach on (coach.go, `smtprun serve --explain`):
	// Diagnosis events for the client's mistakes as they happen, a
	// ReportCard per session, the message's lines (MessageLine) and the
	// AUTH user name (Event.User) in the transcript. The password stays
	// masked.
	Explain bool
	// StuckAfter is how long DATA may see nothing new before the coach
	// says it is still waiting for the final dot; 0 means 5 seconds.
	StuckAfter time.Duration
	// PregreetWait is how long the coach listens for a client that speaks
	// before the greeting; 0 means 200 ms.
	PregreetWait time.Duration

	// Record, if set, receives each finished session (record.go).
	Record func(*Recording)

	// Faults, if set, are fault plans the server consults before each
	// reply (package fault); they may change while it runs. Magic
	// recipients (fault.Magic) work with or without them.
	Faults *fault.Plans

	// Sleep, if set, is how the sandbox waits by its own clock: a
	// throttled message's reply waits for it (limits.yaml). A test that
	// sets Clock sets Sleep to move its clock on, so a minute's throttle
	// or a day's quota passes at once. Nil waits in real time.
	Sleep func(time.Duration)

	// NoLimits turns the providers' sending limits off (limits.yaml:
	// concurrent connections, messages a minute, recipients a day).
	NoLimits bool
}

const (
	defaultSlowDelay   = 2 * time.Second
	defaultIdleTimeout = 5 * time.Minute
	defaultMaxMemory   = 32 << 20
	defaultSaveCount   = 1000
	defaultSaveBytes   = 256 << 20
	defaultMaxConns    = 1000
	// maxSession bounds a whole connection, so a client dripping one byte
	// at a time cannot hold it open forever.
	maxSession = time.Hour
	// dialedClientIP is the client address the providers see for
	// connections made through DialContext: a documentation address
	// (RFC 5737), like a home connection's public IP.
	dialedClientIP = "198.51.100.23"
)

// Sandbox serves emulated mail providers. It is safe for concurrent use.
type Sandbox struct {
	opts      Options
	cat       *catalog
	sc        *scenario
	ca        *authority
	clock     func() time.Time
	accounts  map[string]string // lower-case user -> their own password
	done      chan struct{}
	closeOnce sync.Once

	randMu sync.Mutex
	rand   io.Reader
	obsMu  sync.Mutex

	mu        sync.Mutex
	closed    bool
	conns     map[net.Conn]struct{}
	listeners map[net.Listener]struct{}
	wg        sync.WaitGroup

	connSeq     atomic.Int64
	msgSeq      atomic.Int64
	memoryInUse atomic.Int64 // bytes of message heads held (spool.go)
	served      atomic.Int64 // connections from Serve's listeners now open

	saveMu    sync.Mutex
	saved     int   // messages written to SaveDir
	savedSize int64 // and their bytes

	greyMu sync.Mutex
	grey   map[string]bool

	quota quotaBook // limits.go

	testHook    func(line string) // called with every command line; tests only
	recordBound int64             // maxRecordedBytes; tests lower it

	oauth *oauthsim.Issuer
}

// New makes a sandbox with its own certificate authority, ready to serve.
// It fails for an unknown scenario; the error lists the valid ones.
func New(opts Options) (*Sandbox, error) {
	cat, err := loadCatalog()
	if err != nil {
		return nil, err
	}
	if _, err := loadLimits(); err != nil {
		return nil, err
	}
	if _, err := loadIdentity(); err != nil {
		return nil, err
	}
	s := &Sandbox{
		opts:        opts,
		cat:         cat,
		clock:       opts.Clock,
		rand:        opts.Rand,
		accounts:    map[string]string{},
		done:        make(chan struct{}),
		conns:       map[net.Conn]struct{}{},
		listeners:   map[net.Listener]struct{}{},
		grey:        map[string]bool{},
		quota:       quotaBook{active: map[string]int{}, sent: map[string][]sending{}},
		recordBound: maxRecordedBytes,
	}
	if opts.Scenario != "" {
		if s.sc, err = cat.findScenario(opts.Scenario); err != nil {
			return nil, err
		}
	}
	if s.clock == nil {
		s.clock = time.Now
	}
	s.oauth = oauthsim.NewIssuer(oauthsim.Config{Clock: s.clock, TokenTTL: opts.TokenTTL, DeviceCodeTTL: opts.DeviceCodeTTL, PollInterval: opts.PollInterval})
	if s.rand == nil {
		s.rand = rand.Reader
	}
	if s.opts.SlowDelay <= 0 {
		s.opts.SlowDelay = defaultSlowDelay
	}
	if s.opts.IdleTimeout <= 0 {
		s.opts.IdleTimeout = defaultIdleTimeout
	}
	if s.opts.MaxMemoryBytes <= 0 {
		s.opts.MaxMemoryBytes = defaultMaxMemory
	}
	if s.opts.SaveMaxMessages <= 0 {
		s.opts.SaveMaxMessages = defaultSaveCount
	}
	if s.opts.SaveMaxBytes <= 0 {
		s.opts.SaveMaxBytes = defaultSaveBytes
	}
	if s.opts.MaxConnections <= 0 {
		s.opts.MaxConnections = defaultMaxConns
	}
	for user, pass := range opts.Credentials {
		s.accounts[strings.ToLower(user)] = pass
	}
	if opts.SaveDir != "" {
		// Messages and envelopes are 0600 (os.CreateTemp) and renamed
		// into place, which replaces a planted link rather than writing
		// through it; the directory must be the user's own.
		if err := safefile.MkdirPrivate(opts.SaveDir); err != nil {
			return nil, fmt.Errorf("sandbox: save directory: %w", err)
		}
	}
	if s.ca, err = newAuthority(); err != nil {
		return nil, fmt.Errorf("sandbox: making the certificate authority: %w", err)
	}
	return s, nil
}

// RootCAs returns a pool that trusts only the sandbox's CA.
func (s *Sandbox) RootCAs() *x509.CertPool { return s.ca.pool.Clone() }

// CACertPEM returns the CA certificate, PEM encoded, for clients outside
// the process (swaks --tls-ca-path, Thunderbird's certificate manager).
func (s *Sandbox) CACertPEM() []byte { return append([]byte(nil), s.ca.pem...) }

// Scenario returns the scenario in use, or "".
func (s *Sandbox) Scenario() string {
	if s.sc == nil {
		return ""
	}
	return s.sc.Name
}

// DialContext connects to the emulation of address ("host:port" as written
// in a script). The host picks the profile (unknown names get the generic
// Postfix profile, named after the host), the port the Mode (ModeForPort).
//
// The connection is a real loopback TCP connection to an in-process
// server, so pipelined writes never deadlock and deadlines behave as on
// the network. Its RemoteAddr is the provider's address from the profile
// (for example 52.96.0.10:587), not 127.0.0.1: a client applies the same
// policies as against the real host. ctx bounds the dial only, as for
// net.Dialer.
func (s *Sandbox) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	opErr := func(err error) error {
		return &net.OpError{Op: "dial", Net: network, Addr: fakeAddr(address), Err: err}
	}
	switch network {
	case "tcp", "tcp4", "tcp6":
	default:
		return nil, opErr(net.UnknownNetworkError(network))
	}
	host, portText, err := net.SplitHostPort(address)
	if err != nil {
		return nil, opErr(err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		if port, err = net.LookupPort(network, portText); err != nil {
			return nil, opErr(err)
		}
	}
	if port <= 0 || port > 65535 {
		return nil, opErr(fmt.Errorf("invalid port %d", port))
	}
	if host == "" {
		return nil, opErr(errors.New("missing host name"))
	}
	if s.isClosed() {
		return nil, opErr(net.ErrClosed)
	}
	p := s.cat.profileForHost(host)
	client, server, err := loopbackPair(ctx)
	if err != nil {
		return nil, opErr(err)
	}
	if !s.startSession(server, p, ModeForPort(port), host, dialedClientIP) {
		client.Close()
		server.Close()
		return nil, opErr(net.ErrClosed)
	}
	return &dialedConn{Conn: client, remote: &net.TCPAddr{IP: p.ip, Port: port}}, nil
}

// Serve answers real clients on l as the named profile (see Profiles),
// calling itself by the profile's first host name. It returns nil when l
// or the Sandbox is closed.
func (s *Sandbox) Serve(l net.Listener, profile string, mode Mode) error {
	p, ok := s.cat.byName[profile]
	if !ok {
		var names []string
		for _, q := range s.cat.profiles {
			names = append(names, q.Name)
		}
		return fmt.Errorf("sandbox: unknown profile %q; valid profiles: %s", profile, strings.Join(names, ", "))
	}
	return s.serve(l, p, p.primaryHost(), mode)
}

// ServeHost is Serve with the profile chosen by host name, as DialContext
// chooses it; the server calls itself host.
func (s *Sandbox) ServeHost(l net.Listener, host string, mode Mode) error {
	return s.serve(l, s.cat.profileForHost(host), host, mode)
}

func (s *Sandbox) serve(l net.Listener, p *profile, host string, mode Mode) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.listeners[l] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, l)
		s.mu.Unlock()
	}()
	var backoff time.Duration
	for {
		c, err := l.Accept()
		if err != nil {
			if s.isClosed() || errors.Is(err, net.ErrClosed) {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, os.ErrDeadlineExceeded) || isTemporary(err) {
				// Out of file descriptors and the like: wait, as
				// net/http does, instead of spinning or giving up.
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				if !s.sleep(backoff) {
					return nil
				}
				continue
			}
			return err
		}
		backoff = 0
		ip := dialedClientIP
		if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
			ip = a.IP.String()
		}
		if s.served.Add(1) > int64(s.opts.MaxConnections) {
			s.served.Add(-1)
			s.refuseBusy(c, host)
			continue
		}
		c = &servedConn{Conn: c, served: &s.served}
		if !s.startSession(c, p, mode, host, ip) {
			c.Close()
			return nil
		}
	}
}

// servedConn gives its place back among Options.MaxConnections when it
// closes.
type servedConn struct {
	net.Conn
	served *atomic.Int64
	once   sync.Once
}

func (c *servedConn) Close() error {
	c.once.Do(func() { c.served.Add(-1) })
	return c.Conn.Close()
}

// CloseWrite half-closes, for the session's graceful close.
func (c *servedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return errors.ErrUnsupported
}

// refuseBusy answers a connection over Options.MaxConnections, without a
// session: a 421 (RFC 5321 3.8) and close, in the background so the accept
// loop goes on.
func (s *Sandbox) refuseBusy(c net.Conn, host string) {
	s.observe(Event{Time: s.clock(), Kind: Note, Host: host, Remote: c.RemoteAddr().String(),
		Line: fmt.Sprintf("connection refused: %d connections already open (MaxConnections)", s.opts.MaxConnections)})
	go func() {
		defer c.Close()
		c.SetDeadline(time.Now().Add(time.Second))
		io.WriteString(c, "421 4.7.0 "+host+" Error: too many connections\r\n")
	}()
}

func isTemporary(err error) bool {
	var t interface{ Temporary() bool }
	return errors.As(err, &t) && t.Temporary()
}

// Close stops every listener given to Serve and every connection, and
// waits for them to finish. The sandbox cannot be used afterwards.
func (s *Sandbox) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		close(s.done)
		for l := range s.listeners {
			l.Close()
		}
		for c := range s.conns {
			c.Close()
		}
		s.mu.Unlock()
	})
	s.wg.Wait()
	return nil
}

func (s *Sandbox) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// sleep waits d, or less if the sandbox closes; it reports whether the
// sandbox is still open.
func (s *Sandbox) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-s.done:
		return false
	}
}

// startSession serves c in a new goroutine; false if the sandbox is closed.
func (s *Sandbox) startSession(c net.Conn, p *profile, mode Mode, host, clientIP string) bool {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return false
	}
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	ss := newSession(s, c, p, mode, host, clientIP)
	go func() {
		defer s.wg.Done()
		defer func() {
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
		}()
		ss.run()
	}()
	return true
}

func (s *Sandbox) observe(e Event) {
	if s.opts.Observer == nil {
		return
	}
	s.obsMu.Lock()
	defer s.obsMu.Unlock()
	// An observer that panics loses its event, not the connection.
	defer func() { _ = recover() }()
	s.opts.Observer(e)
}

// randomString draws n characters of alphabet from Options.Rand.
func (s *Sandbox) randomString(alphabet string, n int) string {
	buf := make([]byte, n)
	s.randMu.Lock()
	_, err := io.ReadFull(s.rand, buf)
	s.randMu.Unlock()
	if err != nil {
		// A test reader that ran dry: fall back rather than fail a reply.
		_, _ = rand.Read(buf)
	}
	for i, b := range buf {
		buf[i] = alphabet[int(b)%len(alphabet)]
	}
	return string(buf)
}

// validLogin reports whether user/pass logs in to p. The practice
// password works for any user name, so a learner's script with their own
// address runs unchanged in the sandbox; a user given a password of their
// own in Options.Credentials needs that one instead.
func (s *Sandbox) validLogin(p *profile, user, pass string) bool {
	return user != "" && pass == s.passwordFor(p, user)
}

// passwordFor is the password user logs in with: their own from
// Options.Credentials, or the profile's practice password. CRAM-MD5 needs
// it to check a digest.
func (s *Sandbox) passwordFor(p *profile, user string) string {
	if want := s.accounts[strings.ToLower(user)]; want != "" {
		return want
	}
	return p.Practice.Password
}

// greylistPass implements the greylisted scenario the way postgrey does:
// the first attempt of a sender/recipient pair is refused, and any later
// one (same or new connection) passes. Real greylisting also waits a few
// minutes; the sandbox does not, so a retry works at once.
func (s *Sandbox) greylistPass(from, rcpt string) bool {
	key := strings.ToLower(from) + "\x00" + strings.ToLower(rcpt)
	s.greyMu.Lock()
	defer s.greyMu.Unlock()
	if s.grey[key] {
		return true
	}
	if len(s.grey) >= 100000 {
		clear(s.grey)
	}
	s.grey[key] = true
	return false
}

// saveMessage moves an accepted message from its spool file into
// Options.SaveDir and returns the file's path ("" when SaveDir is not
// set). A message over the quota is refused with a *quotaError.
func (s *Sandbox) saveMessage(profile, queueID string, sp *spool, env *Envelope) (string, error) {
	if s.opts.SaveDir == "" {
		return "", nil
	}
	if sp.err != nil {
		return "", sp.err
	}
	if err := s.reserveSave(sp.size); err != nil {
		return "", err
	}
	if sp.file == nil { // an empty message: nothing was written yet
		if sp.file, sp.err = os.CreateTemp(s.opts.SaveDir, ".incoming-*"); sp.err != nil {
			s.unreserveSave(sp.size)
			return "", sp.err
		}
	}
	seq := s.msgSeq.Add(1)
	name := fmt.Sprintf("%s-%04d-%s-%s.eml", s.clock().UTC().Format("20060102T150405Z"), seq, profile, safeName(queueID))
	tmp := sp.file
	sp.file = nil
	err := tmp.Close()
	final := filepath.Join(s.opts.SaveDir, name)
	if err == nil {
		// The envelope first: whoever sees the .eml finds it beside.
		env.Message = name
		err = writeEnvelope(strings.TrimSuffix(final, ".eml")+".envelope.json", env)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), final)
	}
	if err != nil {
		os.Remove(tmp.Name())
		s.unreserveSave(sp.size)
		return "", err
	}
	return final, nil
}

// quotaError: SaveDir's quota (Options.SaveMaxMessages, SaveMaxBytes)
// does not allow the message.
type quotaError struct {
	full bool // the quota cannot take this message now (452)
	what string
}

func (e *quotaError) Error() string { return e.what }

// reply is the sandbox's own, not a provider's: the quota is the
// operator's setting. 452 4.3.1 is Postfix's "Insufficient system
// storage"; 552 5.3.4 says the message can never fit.
func (e *quotaError) reply() replyTemplate {
	if e.full {
		return replyTemplate{code: 452, lines: []string{"4.3.1 Insufficient system storage: " + e.what}}
	}
	return replyTemplate{code: 552, lines: []string{"5.3.4 Message too big for the save quota: " + e.what}}
}

func (e *quotaError) reason() string { return "save_quota" }

// reserveSave counts a message of size bytes against SaveDir's quota.
func (s *Sandbox) reserveSave(size int64) error {
	s.saveMu.Lock()
	defer s.saveMu.Unlock()
	maxN, maxB := s.opts.SaveMaxMessages, s.opts.SaveMaxBytes
	switch {
	case size > maxB:
		return &quotaError{what: fmt.Sprintf("%d bytes, the quota is %d bytes in all", size, maxB)}
	case s.saved >= maxN:
		return &quotaError{full: true, what: fmt.Sprintf("the save quota of %d messages is used up", maxN)}
	case s.savedSize+size > maxB:
		return &quotaError{full: true, what: fmt.Sprintf("%d of the save quota's %d bytes are used", s.savedSize, maxB)}
	}
	s.saved++
	s.savedSize += size
	return nil
}

func (s *Sandbox) unreserveSave(size int64) {
	s.saveMu.Lock()
	s.saved--
	s.savedSize -= size
	s.saveMu.Unlock()
}

// saveFull reports whether SaveDir's quota is used up, so MAIL can be
// refused before a message is sent for nothing.
func (s *Sandbox) saveFull() *quotaError {
	if s.opts.SaveDir == "" {
		return nil
	}
	s.saveMu.Lock()
	defer s.saveMu.Unlock()
	if s.saved >= s.opts.SaveMaxMessages {
		return &quotaError{full: true, what: fmt.Sprintf("the save quota of %d messages is used up", s.opts.SaveMaxMessages)}
	}
	if s.savedSize >= s.opts.SaveMaxBytes {
		return &quotaError{full: true, what: fmt.Sprintf("the save quota of %d bytes is used up", s.opts.SaveMaxBytes)}
	}
	return nil
}

// safeName keeps a queue ID usable in a file name.
func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.' {
			return r
		}
		return '_'
	}, s)
}
