package pki

import (
	"crypto/x509"
	"errors"
	"testing"
	"time"
)

func TestIssueVerifies(t *testing.T) {
	ca, err := NewCA("test CA", "", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	c, err := ca.Issue(Leaf{Names: []string{"smtp.example.test", "127.0.0.1", "[::1]"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Certificate) != 2 || c.Leaf.Subject.CommonName != "smtp.example.test" {
		t.Fatalf("chain %d, CN %q", len(c.Certificate), c.Leaf.Subject.CommonName)
	}
	for _, name := range []string{"smtp.example.test", "127.0.0.1", "::1"} {
		if _, err := c.Leaf.Verify(x509.VerifyOptions{DNSName: name, Roots: ca.Pool()}); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	// Wrong name: the error a client meets for a mistyped host.
	_, err = c.Leaf.Verify(x509.VerifyOptions{DNSName: "smtp.other.test", Roots: ca.Pool()})
	var he x509.HostnameError
	if !errors.As(err, &he) {
		t.Errorf("wrong name: %v, want x509.HostnameError", err)
	}
	// Another CA: unknown authority.
	other, _ := NewCA("other", "", time.Hour)
	_, err = c.Leaf.Verify(x509.VerifyOptions{DNSName: "smtp.example.test", Roots: other.Pool()})
	var ua x509.UnknownAuthorityError
	if !errors.As(err, &ua) {
		t.Errorf("other CA: %v, want x509.UnknownAuthorityError", err)
	}
	if len(ca.PEM()) == 0 {
		t.Error("no PEM")
	}
}

func TestIssueExpired(t *testing.T) {
	ca, _ := NewCA("test CA", "", time.Hour)
	c, err := ca.Issue(Leaf{Names: []string{"localhost"}, NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Leaf.Verify(x509.VerifyOptions{DNSName: "localhost", Roots: ca.Pool()})
	var ce x509.CertificateInvalidError
	if !errors.As(err, &ce) || ce.Reason != x509.Expired {
		t.Errorf("%v, want an expired certificate", err)
	}
}
