package web

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func messageFrom(t *testing.T, raw string) *message {
	t.Helper()
	path := filepath.Join(t.TempDir(), "m.eml")
	if err := os.WriteFile(path, []byte(raw), 0o600); err != nil {
		t.Fatal(err)
	}
	return &message{ID: "1", path: path, limit: DefaultLimits.ParseBytes}
}

// TestMessageParts: an encoded subject, a quoted-printable text part, an
// HTML part and a base64 attachment come apart as a reader expects, and
// the header keeps the message's order.
func TestMessageParts(t *testing.T) {
	m := messageFrom(t, "Subject: =?UTF-8?B?Q2Fmw6k=?=\r\nFrom: a@example.org\r\nTo: b@example.edu\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n"+
		"--x\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nCaf=C3=A9 au lait=\r\n, please\r\n"+
		"--x\r\nContent-Type: text/html\r\n\r\n<p>hi</p>\r\n"+
		"--x\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"r\\\".pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBE\r\nRi0x\r\n--x--\r\n")
	d, parts, err := m.detail()
	if err != nil {
		t.Fatal(err)
	}
	if d.Subject != "Café" || d.Text != "Café au lait, please" || !d.HasHTML || len(d.Attachments) != 1 {
		t.Fatalf("detail: %+v", d)
	}
	a := d.Attachments[0]
	if a.Filename != `r".pdf` || string(parts[a.Index].body) != "%PDF-1" {
		t.Errorf("attachment %+v: %q", a, parts[a.Index].body)
	}
	var names []string
	for _, h := range d.Headers {
		names = append(names, h.Name)
	}
	if got := strings.Join(names, " "); got != "Subject From To Content-Type" {
		t.Errorf("header order: %s", got)
	}
}

// TestMessageHostile: a client's message nested past the depth bound, or
// with more parts than the bound, is read quickly and within the bounds;
// control characters in the header are escaped as the terminal log does.
func TestMessageHostile(t *testing.T) {
	var b strings.Builder
	b.WriteString("Subject: a\x1b[31mred\r\nContent-Type: multipart/mixed; boundary=b0\r\n\r\n")
	for i := 1; i < 50; i++ {
		b.WriteString("--b" + strconv.Itoa(i-1) + "\r\nContent-Type: multipart/mixed; boundary=b" + strconv.Itoa(i) + "\r\n\r\n")
	}
	b.WriteString("--b49\r\n\r\ndeep\r\n")
	deep := messageFrom(t, b.String())

	b.Reset()
	b.WriteString("Content-Type: multipart/mixed; boundary=p\r\n\r\n")
	for i := 0; i < 5000; i++ {
		b.WriteString("--p\r\nContent-Disposition: attachment; filename=f.txt\r\n\r\nx\r\n")
	}
	many := messageFrom(t, b.String()+"--p--\r\n")

	start := time.Now()
	d, parts, err := deep.detail()
	if err != nil {
		t.Fatal(err)
	}
	if d.Subject != `a\x1b[31mred` || len(parts) > maxParts {
		t.Errorf("deep: subject %q, %d parts", d.Subject, len(parts))
	}
	_, parts, err = many.detail()
	if err != nil || len(parts) != maxParts {
		t.Errorf("5000 parts: %d read, want the bound of %d (%v)", len(parts), maxParts, err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("hostile messages took %v", d)
	}
}
