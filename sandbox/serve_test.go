package sandbox

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestServeSavesMessage(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "mail")
	rec := &recorder{}
	sb := newTestSandbox(t, Options{SaveDir: dir, Observer: rec.observe})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- sb.Serve(l, "postfix", Relay) }()

	conn, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c := newTestClient(t, sb, "mail.example.edu", conn)
	c.expect("220 mail.example.edu ESMTP Postfix")
	c.cmd("EHLO client.example.org", "250")
	c.cmd("MAIL FROM:<a@example.net>", "250")
	c.cmd("RCPT TO:<student@example.edu>", "250")
	c.cmd("DATA", "354")
	// On the wire, dot-stuffed (RFC 5321 4.5.2); in the file, not.
	wire := "Subject: dots\r\n" +
		"\r\n" +
		"..leading dot\r\n" +
		"..\r\n" +
		"...\r\n" +
		"middle . dot\r\n" +
		"ünïcödé and a tab\t\r\n" +
		".\r\n"
	want := "Subject: dots\r\n" +
		"\r\n" +
		".leading dot\r\n" +
		".\r\n" +
		"..\r\n" +
		"middle . dot\r\n" +
		"ünïcödé and a tab\t\r\n"
	c.write(wire)
	c.reply("250 2.0.0 Ok: queued as ")
	c.cmd("QUIT", "221")

	files, _ := filepath.Glob(filepath.Join(dir, "*.eml"))
	if len(files) != 1 {
		t.Fatalf("%d .eml files in %s, want 1", len(files), dir)
	}
	got, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, []byte(want)) {
		t.Errorf("saved %q\nwant  %q", got, want)
	}
	msgs := rec.kinds(0, MessageReceived)
	if len(msgs) != 1 || msgs[0].Path != files[0] || msgs[0].Bytes != int64(len(want)) {
		t.Errorf("MessageReceived events: %+v", msgs)
	}
	if ev := rec.kinds(0, ConnOpened); len(ev) != 1 || !strings.HasPrefix(ev[0].Remote, "127.0.0.1:") {
		t.Errorf("ConnOpened events: %+v", ev)
	}

	l.Close()
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("Serve returned %v after the listener closed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after the listener closed")
	}
}

func TestServeStopsOnClose(t *testing.T) {
	sb, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := sb.Serve(nil, "no-such-profile", Submission); err == nil || !strings.Contains(err.Error(), "office365") {
		t.Errorf("unknown profile: %v", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- sb.ServeHost(l, "smtp.office365.com", Submission) }()
	conn, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c := newTestClient(t, sb, "smtp.office365.com", conn)
	c.reply("220 SC1PR")
	// Close ends the listener and the open connection.
	sb.Close()
	c.expectClosed()
	if err := <-served; err != nil {
		t.Errorf("Serve: %v", err)
	}
}
