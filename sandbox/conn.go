package sandbox

import (
	"context"
	"net"
)

// loopbackPair returns both ends of a fresh TCP connection over
// 127.0.0.1. A real socket, unlike net.Pipe, buffers in the kernel: a
// pipelining client may write several commands before reading a reply
// (RFC 2920) without deadlocking, and deadlines and half-closes behave as
// on the network. Each pair gets its own listener, so there is nothing to
// match up; it lives only until the one connection is accepted.
func loopbackPair(ctx context.Context) (client, server net.Conn, err error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, err
	}
	defer l.Close()

	type accepted struct {
		c   net.Conn
		err error
	}
	ch := make(chan accepted, 1)
	var d net.Dialer
	client, err = d.DialContext(ctx, "tcp", l.Addr().String())
	if err != nil {
		return nil, nil, err
	}
	go func() {
		for {
			c, err := l.Accept()
			// Another local process could connect to the listener in the
			// moment it exists; only our own dial is ours.
			if err == nil && c.RemoteAddr().String() != client.LocalAddr().String() {
				c.Close()
				continue
			}
			ch <- accepted{c, err}
			return
		}
	}()
	select {
	case a := <-ch:
		if a.err != nil {
			client.Close()
			return nil, nil, a.err
		}
		return client, a.c, nil
	case <-ctx.Done():
		client.Close()
		l.Close()
		if a := <-ch; a.c != nil {
			a.c.Close()
		}
		return nil, nil, ctx.Err()
	}
}

// dialedConn is the client end of a sandbox connection. It reports the
// provider's address as its remote address.
type dialedConn struct {
	net.Conn
	remote *net.TCPAddr
}

func (c *dialedConn) RemoteAddr() net.Addr { return c.remote }

// CloseWrite half-closes the connection, like *net.TCPConn.
func (c *dialedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// fakeAddr is an address as the caller wrote it, for error messages.
type fakeAddr string

func (a fakeAddr) Network() string { return "tcp" }
func (a fakeAddr) String() string  { return string(a) }
