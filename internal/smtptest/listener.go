package smtptest

import (
	"context"
	"crypto/tls"
	"net"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
)

// stoppable serves a go-smtp server on a listener whose accepted
// connections it keeps, so that stopping can close them at the socket.
// go-smtp's own Server.Close closes each Conn through a field that its
// STARTTLS handler replaces without a lock: stopping a server while a
// client is mid-handshake is a data race inside go-smtp. Closing the raw
// sockets ends every handler without touching that field, and waiting
// for the handlers (Shutdown) means no goroutine outlives the test.
type stoppable struct {
	net.Listener // the raw TCP listener
	srv          *smtp.Server

	mu    sync.Mutex
	conns map[net.Conn]struct{}
	done  bool
}

// serve starts s on l; tlsConfig, if set, makes it an implicit-TLS
// server, with TLS above the tracking so that stopping closes the sockets
// beneath the TLS connections.
func serve(s *smtp.Server, l net.Listener, tlsConfig *tls.Config) *stoppable {
	st := &stoppable{Listener: l, srv: s, conns: map[net.Conn]struct{}{}}
	var served net.Listener = st
	if tlsConfig != nil {
		served = tls.NewListener(st, tlsConfig)
	}
	go s.Serve(served)
	return st
}

func (st *stoppable) Accept() (net.Conn, error) {
	c, err := st.Listener.Accept()
	if err != nil {
		return nil, err
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.done {
		c.Close()
		return nil, net.ErrClosed
	}
	st.conns[c] = struct{}{}
	return &trackedConn{Conn: c, st: st}, nil
}

// stop closes the listener and every connection, then waits (boundedly)
// for go-smtp's handlers to return.
func (st *stoppable) stop() error {
	st.mu.Lock()
	st.done = true
	err := st.Listener.Close()
	for c := range st.conns {
		c.Close()
	}
	st.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st.srv.Shutdown(ctx)
	return err
}

type trackedConn struct {
	net.Conn
	st   *stoppable
	once sync.Once
}

func (c *trackedConn) Close() error {
	c.once.Do(func() {
		c.st.mu.Lock()
		delete(c.st.conns, c.Conn)
		c.st.mu.Unlock()
	})
	return c.Conn.Close()
}
