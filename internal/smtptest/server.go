package smtptest

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	mechanisms "github.com/smtprun/smtprun/internal/sasl"
	protocol "github.com/smtprun/smtprun/internal/smtp"
)

// Server is a real SMTP server (emersion/go-smtp) on 127.0.0.1:0 with
// STARTTLS and AUTH by every mechanism of internal/sasl's table,
// recording what it accepts.
// It accepts one account, User with Password, and requires AUTH for MAIL.
type Server struct {
	Addr     string
	PKI      *PKI
	User     string
	Password string

	mu       sync.Mutex
	messages []Message
	// Bearer lists what each OAUTHBEARER exchange said (user, token, host,
	// port), so tests can check the GS2 binding.
	Bearer []sasl.OAuthBearerOptions
	wire   lockedBuffer
	srv    *stoppable
}

// lockedBuffer collects go-smtp's debug copy of every byte both ways,
// after TLS as well.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// Wire returns the bytes exchanged so far, both directions interleaved.
func (g *Server) Wire() string {
	g.wire.mu.Lock()
	defer g.wire.mu.Unlock()
	return g.wire.b.String()
}

// Message is one accepted transaction.
type Message struct {
	From string
	To   []string
	Data []byte // as go-smtp hands it over: dot-unstuffed, CRLF line endings
	TLS  bool
	User string
}

// Start serves until the test ends; implicitTLS makes it a port-465 style
// server.
func Start(t testing.TB, implicitTLS bool) *Server {
	t.Helper()
	g, err := Listen(implicitTLS)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	return g
}

// Listen serves until Close, for code with no test to end it (an
// Example function); Start is the usual way.
func Listen(implicitTLS bool) (*Server, error) {
	p, err := newPKI()
	if err != nil {
		return nil, err
	}
	g := &Server{PKI: p, User: "student@example.test", Password: "correct horse battery"}
	s := smtp.NewServer(g)
	s.Domain = "localhost"
	s.EnableBINARYMIME = true
	// go-smtp lifts its line limit for a BDAT chunk only after reading the
	// BDAT line, but its buffered reader may already have read ahead into
	// the chunk under the limit; a generous limit keeps binary tests about
	// the client.
	s.MaxLineLength = 64 << 10
	s.TLSConfig = g.PKI.ServerConfig()
	s.AllowInsecureAuth = false
	s.Debug = &g.wire
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	g.Addr = l.Addr().String()
	var implicit *tls.Config
	if implicitTLS {
		implicit = s.TLSConfig
	}
	g.srv = serve(s, l, implicit)
	return g, nil
}

// Close stops the server: the listener, every connection, and waits for
// the handlers to return.
func (g *Server) Close() error { return g.srv.stop() }

// Messages returns what the server accepted so far.
func (g *Server) Messages() []Message {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]Message(nil), g.messages...)
}

// NewSession implements smtp.Backend.
func (g *Server) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &goSession{g: g, conn: c}, nil
}

type goSession struct {
	g    *Server
	conn *smtp.Conn
	user string
	msg  Message
}

// AuthMechanisms implements smtp.AuthSession.
func (s *goSession) AuthMechanisms() []string {
	var names []string
	for _, m := range mechanisms.Mechanisms() {
		names = append(names, m.Name)
	}
	return names
}

func (s *goSession) Auth(mech string) (sasl.Server, error) {
	check := func(user, pass string) error {
		if user != s.g.User || pass != s.g.Password {
			return errBadCredentials
		}
		s.user = user
		return nil
	}
	switch mech {
	case "PLAIN":
		return sasl.NewPlainServer(func(_, user, pass string) error { return check(user, pass) }), nil
	case "LOGIN":
		return &loginServer{check: check}, nil
	case "CRAM-MD5":
		return &cramServer{g: s.g, ok: func(u string) { s.user = u }}, nil
	case "XOAUTH2":
		return &xoauth2Server{g: s.g, ok: func(u string) { s.user = u }}, nil
	case "OAUTHBEARER":
		return s.oauthBearer(), nil
	}
	return nil, errors.New("unsupported")
}

func (s *goSession) Mail(from string, _ *smtp.MailOptions) error {
	if s.user == "" {
		return smtp.ErrAuthRequired
	}
	s.msg = Message{From: from}
	return nil
}

func (s *goSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.msg.To = append(s.msg.To, to)
	return nil
}

func (s *goSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.msg.Data = b
	_, s.msg.TLS = s.conn.TLSConnectionState()
	s.msg.User = s.user
	s.g.mu.Lock()
	s.g.messages = append(s.g.messages, s.msg)
	s.g.mu.Unlock()
	return nil
}

func (s *goSession) Reset()        {}
func (s *goSession) Logout() error { return nil }

// errBadCredentials is what Postfix and Gmail answer: 535 5.7.8.
var errBadCredentials = &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "Authentication credentials invalid"}

// errBadRequest answers a malformed SASL exchange.
var errBadRequest = &smtp.SMTPError{Code: 501, EnhancedCode: smtp.EnhancedCode{5, 5, 2}, Message: "Invalid SASL response"}

func itoa(n int) string { return strconv.Itoa(n) }

// loginServer is the server side of AUTH LOGIN, which go-sasl lacks.
type loginServer struct {
	check func(user, pass string) error
	user  string
	step  int
}

func (l *loginServer) Next(resp []byte) ([]byte, bool, error) {
	switch l.step {
	case 0:
		l.step++
		if resp != nil {
			l.user = string(resp)
			l.step++
			return []byte("Password:"), false, nil
		}
		return []byte("Username:"), false, nil
	case 1:
		l.user = string(resp)
		l.step++
		return []byte("Password:"), false, nil
	default:
		return nil, true, l.check(l.user, string(resp))
	}
}

// cramServer is the server side of CRAM-MD5 (RFC 2195).
type cramServer struct {
	g         *Server
	ok        func(string)
	challenge string
}

func (c *cramServer) Next(resp []byte) ([]byte, bool, error) {
	if c.challenge == "" {
		c.challenge = "<1896.697170952@localhost>"
		return []byte(c.challenge), false, nil
	}
	user, digest, _ := strings.Cut(string(resp), " ")
	if user != c.g.User || !protocol.CRAMMD5Verify(digest, []byte(c.g.Password), []byte(c.challenge)) {
		return nil, true, errBadCredentials
	}
	c.ok(user)
	return nil, true, nil
}
