package engine

import (
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/smtprun/smtprun/dsl"
)

// TestNoPlaintextAfterTLSBegan: once a handshake has begun on a
// connection, neither a command nor the QUIT of an interrupt is written on
// it in plaintext, where a secret would go out readable: the interrupt can land between the
// ClientHello and the handshake's end, when the connection is still the
// plain one. The black-box test in hostile_io_test.go cannot time that
// window; this one sets the state directly.
func TestNoPlaintextAfterTLSBegan(t *testing.T) {
	client, server := net.Pipe()
	defer server.Close()
	got := make(chan []byte, 1)
	go func() {
		server.SetReadDeadline(time.Now().Add(time.Second))
		b, _ := io.ReadAll(server)
		got <- b
	}()
	ss := &session{e: New(WithTimeout(time.Second))}
	ss.setConn(client)
	ss.tlsBegun = true
	err := ss.writeLine(dsl.Pos{Line: 1}, "EHLO me", Sent{})
	if !errors.Is(err, errTLSIncomplete) {
		t.Errorf("writeLine after the handshake began: %v, want errTLSIncomplete", err)
	}
	ss.quitOnInterrupt()
	if b := <-got; len(b) != 0 {
		t.Errorf("written in plaintext after the handshake began: %q", b)
	}
}
