package sandbox

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"strings"
	"testing"
)

func TestTLSVerification(t *testing.T) {
	sb := newTestSandbox(t, Options{})
	for _, host := range []string{"smtp.office365.com", "smtp.gmail.com", "smtp.mail.yahoo.com", "smtp.aol.com", "mail.utep.edu"} {
		// Verified with RootCAs and the emulated host's name: handshake()
		// fails the test otherwise.
		tlsReady(t, sb, host)
	}

	// Without the sandbox's CA the certificate is refused, as a real
	// client's system roots would refuse it.
	c := dial(t, sb, "smtp.gmail.com:587")
	c.reply("220")
	c.cmd("EHLO client.example.org", "250")
	c.cmd("STARTTLS", "220")
	tc := tls.Client(c.conn, &tls.Config{ServerName: "smtp.gmail.com"})
	var unknown x509.UnknownAuthorityError
	if err := tc.Handshake(); !errors.As(err, &unknown) {
		t.Errorf("handshake without RootCAs: %v, want an unknown authority error", err)
	}

	// The certificate names the host, not something else.
	d := dial(t, sb, "smtp.gmail.com:465")
	dc := tlsClientFor(d, "smtp.gmail.com")
	if err := dc.Handshake(); err != nil {
		t.Fatal(err)
	}
	leaf := dc.ConnectionState().PeerCertificates[0]
	if err := leaf.VerifyHostname("smtp.office365.com"); err == nil {
		t.Error("gmail's certificate is valid for smtp.office365.com")
	}

	// CACertPEM is the same CA, for clients outside the process.
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(sb.CACertPEM()) {
		t.Fatal("CACertPEM does not parse")
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: "smtp.gmail.com"}); err != nil {
		t.Errorf("verify against CACertPEM: %v", err)
	}

	// Another sandbox has another CA.
	other := newTestSandbox(t, Options{})
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: other.RootCAs(), DNSName: "smtp.gmail.com"}); err == nil {
		t.Error("certificate verified against another sandbox's CA")
	}
}

func TestImplicitTLS(t *testing.T) {
	sb := newTestSandbox(t, Options{})
	c := dialImplicitTLS(t, sb, "smtp.gmail.com")
	c.reply("220 smtp.gmail.com ESMTP ")
	lines := strings.Join(c.cmd("EHLO client.example.org", "250"), "\n")
	if strings.Contains(lines, "STARTTLS") || !strings.Contains(lines, "250-AUTH LOGIN PLAIN") {
		t.Errorf("EHLO on 465: %s", lines)
	}
	c.send("STARTTLS")
	c.matchReply(`502 5\.5\.1 Unrecognized command\. ` + gmailID + ` - gsmtp`)
	c.cmd("AUTH PLAIN "+plain(PracticeCredentials("gmail")), "235")
	c.cmd("MAIL FROM:<smtprun.student@gmail.com>", "250")
}
