package present

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/smtprun/smtprun/dsl"
	"github.com/smtprun/smtprun/engine"
	"github.com/smtprun/smtprun/explain"
	"github.com/smtprun/smtprun/internal/smtptest"
)

// fixedDialer connects every address to one server, so a script can name
// a host the server's certificate is not for.
type fixedDialer struct{ addr string }

func (d fixedDialer) DialContext(ctx context.Context, network, _ string) (net.Conn, error) {
	return (&net.Dialer{}).DialContext(ctx, network, d.addr)
}

// expiredTLSServer presents a self-signed certificate for 127.0.0.1 that
// expired yesterday, and returns it as a pool to trust.
func expiredTLSServer(t *testing.T) (string, *x509.CertPool) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "expired"},
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:             time.Now().Add(-48 * time.Hour),
		NotAfter:              time.Now().Add(-24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	l, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.(*tls.Conn).Handshake()
			c.Close()
		}
	}()
	return l.Addr().String(), pool
}

// TestTLSErrorHelp runs real TLS handshakes that fail each way a user
// meets, and checks that the help is chosen by the error's type.
func TestTLSErrorHelp(t *testing.T) {
	implicit := smtptest.Start(t, true)
	plain := smtptest.Start(t, false)
	expired, expiredPool := expiredTLSServer(t)
	tests := []struct {
		name, addr string
		opts       []engine.Option
		code       string
	}{
		{"unknown authority", implicit.Addr, nil, "tls-unknown-authority"},
		{"other host name", "smtp.other.test:465",
			[]engine.Option{engine.WithRootCAs(implicit.PKI.Pool), engine.WithDialer(fixedDialer{implicit.Addr})}, "tls-hostname"},
		{"expired", expired, []engine.Option{engine.WithRootCAs(expiredPool)}, "tls-expired"},
		{"not TLS", plain.Addr, nil, "tls-not-tls"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			script, err := dsl.Parse("tls.smtp", []byte(`connect "${ADDR}" tls`+"\nexpect 220\n"))
			if err != nil {
				t.Fatal(err)
			}
			prog, err := dsl.Check(script)
			if err != nil {
				t.Fatal(err)
			}
			opts := append([]engine.Option{engine.WithTimeout(5 * time.Second), engine.WithVars(dsl.MapVars{"ADDR": tc.addr})}, tc.opts...)
			_, err = engine.New(opts...).Run(context.Background(), prog)
			var ne *engine.NetError
			if !errors.As(err, &ne) || ne.Op != "TLS handshake" {
				t.Fatalf("want a failed TLS handshake, got %T %v", err, err)
			}
			if code, _ := helpCode(err); code != tc.code {
				t.Errorf("help code %q for %v, want %q", code, err, tc.code)
			}
			if want, _ := explain.Help(tc.code); want == "" || helpFor(err) != want {
				t.Errorf("help %q, want the text filed under %q", helpFor(err), tc.code)
			}
		})
	}
}

// The classification reads types, not text: an error that only says the
// words gets no TLS help, and a wrapped one still does.
func TestHelpIgnoresMessageText(t *testing.T) {
	if code, _ := helpCode(errors.New("x509: certificate signed by unknown authority")); code != "" {
		t.Errorf("help chosen from message text: %q", code)
	}
	wrapped := fmt.Errorf("handshake: %w", x509.UnknownAuthorityError{})
	if code, _ := helpCode(wrapped); code != "tls-unknown-authority" {
		t.Errorf("wrapped UnknownAuthorityError: %q", code)
	}
}

func TestEveryHelpCodeIsFiled(t *testing.T) {
	for _, code := range []string{string(engine.RulePlaintextAuth), string(engine.RuleOneTLS), string(engine.RuleBinaryNeedsExtensions),
		string(engine.NoticeCapabilitiesForgotten), string(engine.NoticeShortSecret), "timeout", "not-connected", "not-confirmed", "starttls-refused", "dns",
		"connection-refused", "unreachable", "explain-connected", "explain-raw", "explain-end-of-data", "explain-username", "explain-ehlo-again"} {
		if _, ok := explain.Help(code); !ok {
			t.Errorf("no help filed under %q", code)
		}
	}
}

func TestInterruptedIsReportedByType(t *testing.T) {
	var b strings.Builder
	RenderError(&b, NewStyle(&b, true), nil, fmt.Errorf("run: %w", context.Canceled))
	if b.String() != "error: interrupted\n" {
		t.Errorf("got %q", b.String())
	}
}
