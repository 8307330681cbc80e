package engine_test

import (
	"context"
	"net"
)

// remoteDialer dials loopback but reports a documentation address as the
// peer, so the engine treats the server as a remote host.
type remoteDialer struct{}

func (remoteDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return remoteConn{c}, nil
}

type remoteConn struct{ net.Conn }

func (remoteConn) RemoteAddr() net.Addr {
	return &net.TCPAddr{IP: net.ParseIP("192.0.2.25"), Port: 587}
}
