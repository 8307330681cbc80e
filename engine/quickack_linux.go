//go:build linux

package engine

import (
	"crypto/tls"
	"net"
	"syscall"
)

// quickAck asks Linux to acknowledge what arrives next at once rather
// than on the delayed-ACK timer. Linux leaves "quick ack" mode by itself
// whenever the connection looks interactive (we sent soon after we
// received), so the option must be set again before each read it is
// meant for. See stallGuard for why.
func quickAck(c net.Conn) {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	if qc, ok := c.(*quickAckConn); ok {
		c = qc.Conn
	}
	sc, ok := c.(syscall.Conn)
	if !ok {
		return // an in-process pipe (the sandbox): no TCP, no timer
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return
	}
	rc.Control(func(fd uintptr) {
		syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_QUICKACK, 1)
	})
}
