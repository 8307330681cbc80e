package sandbox

import (
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/smtprun/smtprun/internal/pki"
)

// authority is the sandbox's own certificate authority. Certificates are
// real (ECDSA P-256) and a client verifies them for the emulated host
// names against RootCAs, exactly as it would verify the real provider
// against the system roots. Keys live in memory only and die with the
// Sandbox.
type authority struct {
	ca   *pki.CA
	pem  []byte
	pool *x509.CertPool

	mu     sync.Mutex
	leaves map[string]*tls.Certificate

	// ticketKey encrypts session tickets for every connection's config,
	// so a client can resume a session on its next connection, as it can
	// with the real providers (each new tls.Config would otherwise have
	// its own random key).
	ticketKey [32]byte
}

// maxLeaves bounds the certificate cache: a Serve client chooses the SNI
// name, and a hostile one must not make the sandbox grow without end.
const maxLeaves = 256

// Certificate validity uses the real clock, not Options.Clock: the client
// checks it against its own real clock.
func newAuthority() (*authority, error) {
	ca, err := pki.NewCA("smtprun sandbox CA", "smtprun practice servers (not a real CA)", 10*365*24*time.Hour)
	if err != nil {
		return nil, err
	}
	a := &authority{ca: ca, pem: ca.PEM(), pool: ca.Pool(), leaves: map[string]*tls.Certificate{}}
	if _, err := rand.Read(a.ticketKey[:]); err != nil {
		return nil, err
	}
	return a, nil
}

// leaf returns a server certificate for name (a host name or an IP
// address), issuing it on first use.
func (a *authority) leaf(name string) (*tls.Certificate, error) {
	name = normalizeHost(name)
	if name == "" {
		return nil, fmt.Errorf("no server name")
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if c, ok := a.leaves[name]; ok {
		return c, nil
	}
	names := []string{name}
	// Clients of `smtprun serve` (swaks, Thunderbird, a student's socket
	// program) dial a loopback address, not the provider's name: let them
	// verify by the name or address they used. The CA is trusted only by
	// those who chose to trust it (--ca-out), so this widens nothing.
	if name != "localhost" {
		names = append(names, "localhost")
	}
	for _, ip := range []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback} {
		if !ip.Equal(net.ParseIP(strings.Trim(name, "[]"))) {
			names = append(names, ip.String())
		}
	}
	c, err := a.ca.Issue(pki.Leaf{Names: names})
	if err != nil {
		return nil, err
	}
	if len(a.leaves) >= maxLeaves {
		clear(a.leaves)
	}
	a.leaves[name] = c
	return c, nil
}

// serverConfig is the TLS configuration for one connection: the
// certificate is for the name the client asks for (SNI), or for the host
// the connection was made for when the client sends none (an IP literal).
// fail makes every handshake fail, for the tls-unavailable scenario.
func (a *authority) serverConfig(host string, fail bool) *tls.Config {
	c := &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetCertificate: func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
			if fail {
				return nil, fmt.Errorf("TLS not available due to local problem")
			}
			name := hello.ServerName
			if name == "" {
				name = host
			}
			return a.leaf(name)
		},
	}
	c.SetSessionTicketKeys([][32]byte{a.ticketKey})
	return c
}
