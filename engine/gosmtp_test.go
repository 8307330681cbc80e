package engine_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// A real SMTP server (emersion/go-smtp) on 127.0.0.1:0 with STARTTLS and
// AUTH PLAIN, LOGIN and CRAM-MD5, recording what it accepts.
type goSMTP struct {
	addr     string
	pki      *testPKI
	user     string
	password string

	mu       sync.Mutex
	messages []received
}

type received struct {
	from string
	to   []string
	data []byte
	tls  bool
	user string
}

func startGoSMTP(t testing.TB, implicitTLS bool) *goSMTP {
	t.Helper()
	g := &goSMTP{pki: newTestPKI(t), user: "student@example.test", password: "correct horse battery"}
	s := smtp.NewServer(g)
	s.Domain = "localhost"
	s.TLSConfig = g.pki.serverConfig()
	s.AllowInsecureAuth = false
	var l net.Listener
	var err error
	if implicitTLS {
		l, err = tls.Listen("tcp", "127.0.0.1:0", s.TLSConfig)
	} else {
		l, err = net.Listen("tcp", "127.0.0.1:0")
	}
	if err != nil {
		t.Fatal(err)
	}
	g.addr = l.Addr().String()
	go s.Serve(l)
	t.Cleanup(func() { s.Close() })
	return g
}

func (g *goSMTP) got() []received {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]received(nil), g.messages...)
}

// NewSession implements smtp.Backend.
func (g *goSMTP) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &goSession{g: g, conn: c}, nil
}

type goSession struct {
	g    *goSMTP
	conn *smtp.Conn
	user string
	msg  received
}

func (s *goSession) AuthMechanisms() []string { return []string{"PLAIN", "LOGIN", "CRAM-MD5"} }

func (s *goSession) Auth(mech string) (sasl.Server, error) {
	check := func(user, pass string) error {
		if user != s.g.user || pass != s.g.password {
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
	}
	return nil, errors.New("unsupported")
}

func (s *goSession) Mail(from string, _ *smtp.MailOptions) error {
	if s.user == "" {
		return smtp.ErrAuthRequired
	}
	s.msg = received{from: from}
	return nil
}

func (s *goSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.msg.to = append(s.msg.to, to)
	return nil
}

func (s *goSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.msg.data = b
	_, s.msg.tls = s.conn.TLSConnectionState()
	s.msg.user = s.user
	s.g.mu.Lock()
	s.g.messages = append(s.g.messages, s.msg)
	s.g.mu.Unlock()
	return nil
}

func (s *goSession) Reset()        {}
func (s *goSession) Logout() error { return nil }

// errBadCredentials is what Postfix and Gmail answer: 535 5.7.8.
var errBadCredentials = &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "Authentication credentials invalid"}

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
	g         *goSMTP
	ok        func(string)
	challenge string
}

func (c *cramServer) Next(resp []byte) ([]byte, bool, error) {
	if c.challenge == "" {
		c.challenge = "<1896.697170952@localhost>"
		return []byte(c.challenge), false, nil
	}
	user, digest, _ := strings.Cut(string(resp), " ")
	mac := hmac.New(md5.New, []byte(c.g.password))
	mac.Write([]byte(c.challenge))
	if user != c.g.user || !hmac.Equal([]byte(digest), []byte(hex.EncodeToString(mac.Sum(nil)))) {
		return nil, true, errBadCredentials
	}
	c.ok(user)
	return nil, true, nil
}

var _ = bytes.Equal
var _ = fmt.Sprint
