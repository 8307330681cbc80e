package smtptest

import (
	"io"
	"net"
	"testing"

	"github.com/emersion/go-smtp"
)

// StartSink serves a plain SMTP sink on 127.0.0.1:0 until the test ends,
// as Postfix's smtp-sink does: no TLS, no AUTH, every sender, recipient
// and message accepted and thrown away. It returns the address. For
// measuring the client, where a real server's own work would hide it.
func StartSink(t testing.TB) string {
	t.Helper()
	s := smtp.NewServer(sinkBackend{})
	s.Domain = "sink.localhost"
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	st := serve(s, l, nil)
	t.Cleanup(func() { st.stop() })
	return l.Addr().String()
}

type sinkBackend struct{}

func (sinkBackend) NewSession(*smtp.Conn) (smtp.Session, error) { return sinkSession{}, nil }

type sinkSession struct{}

func (sinkSession) Mail(string, *smtp.MailOptions) error { return nil }
func (sinkSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (sinkSession) Data(r io.Reader) error {
	_, err := io.Copy(io.Discard, r)
	return err
}
func (sinkSession) Reset()        {}
func (sinkSession) Logout() error { return nil }
