package sandbox

import (
	"context"
	"crypto/tls"
	"net/smtp"
	"os"
	"path/filepath"
	"testing"
)

// Go's own net/smtp client, an independent implementation, gets through a
// whole submission against the emulations.
func TestNetSMTPClient(t *testing.T) {
	dir := t.TempDir()
	sb := newTestSandbox(t, Options{SaveDir: dir})
	for _, host := range []string{"smtp.gmail.com", "smtp.mail.yahoo.com", "mail.example.edu"} {
		conn, err := sb.DialContext(context.Background(), "tcp", host+":587")
		if err != nil {
			t.Fatal(err)
		}
		c, err := smtp.NewClient(conn, host)
		if err != nil {
			t.Fatalf("%s: %v", host, err)
		}
		if err := c.StartTLS(&tls.Config{ServerName: host, RootCAs: sb.RootCAs()}); err != nil {
			t.Fatalf("%s: STARTTLS: %v", host, err)
		}
		user, pass := PracticeCredentials(ProfileForHost(host))
		if err := c.Auth(smtp.PlainAuth("", user, pass, host)); err != nil {
			t.Fatalf("%s: AUTH: %v", host, err)
		}
		if err := c.Mail(user); err != nil {
			t.Fatalf("%s: MAIL: %v", host, err)
		}
		if err := c.Rcpt("friend@example.net"); err != nil {
			t.Fatalf("%s: RCPT: %v", host, err)
		}
		w, err := c.Data()
		if err != nil {
			t.Fatalf("%s: DATA: %v", host, err)
		}
		w.Write([]byte("Subject: hi\n\n.dot\n"))
		if err := w.Close(); err != nil {
			t.Fatalf("%s: end of DATA: %v", host, err)
		}
		if err := c.Quit(); err != nil {
			t.Fatalf("%s: QUIT: %v", host, err)
		}
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.eml"))
	if len(files) != 3 {
		t.Fatalf("%d messages saved, want 3", len(files))
	}
	for _, f := range files {
		if b, _ := os.ReadFile(f); string(b) != "Subject: hi\r\n\r\n.dot\r\n" {
			t.Errorf("%s: %q", f, b)
		}
	}
}
