package smtptest

import (
	"crypto/tls"
	"crypto/x509"
	"testing"
	"time"

	"github.com/smtprun/smtprun/internal/pki"
)

// PKI is a throwaway CA and a server certificate for localhost and
// 127.0.0.1, so tests exercise real certificate verification.
type PKI struct {
	Pool   *x509.CertPool
	CAPEM  []byte // the CA certificate, for a --ca file
	ca     *pki.CA
	server *tls.Certificate
}

// NewPKI makes the CA and a certificate for localhost, 127.0.0.1 and ::1.
func NewPKI(t testing.TB) *PKI {
	t.Helper()
	p, err := newPKI()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func newPKI() (*PKI, error) {
	ca, err := pki.NewCA("smtprun test CA", "", time.Hour)
	if err != nil {
		return nil, err
	}
	server, err := ca.Issue(pki.Leaf{Names: []string{"localhost", "127.0.0.1", "::1"}})
	if err != nil {
		return nil, err
	}
	return &PKI{Pool: ca.Pool(), CAPEM: ca.PEM(), ca: ca, server: server}, nil
}

// ServerConfig is a TLS configuration presenting the server certificate.
func (p *PKI) ServerConfig() *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{*p.server}}
}

// Issue signs another server certificate with the same CA: a wrong name
// or an expired one, for tests of what a client says about them.
func (p *PKI) Issue(t testing.TB, l pki.Leaf) tls.Certificate {
	t.Helper()
	c, err := p.ca.Issue(l)
	if err != nil {
		t.Fatal(err)
	}
	return *c
}
