package oauthsim

import (
	"net"
	"net/http"
	"sync"
	"time"
)

// Limits bound what clients can hold of the endpoints' server: one that
// drips its request, one that idles on a keep-alive connection, and many
// at once (serve's SMTP side has --max-connections for the same reason).
type Limits struct {
	// ReadTimeout bounds reading a request, headers and body.
	ReadTimeout time.Duration
	// IdleTimeout bounds a keep-alive connection's wait for its next
	// request.
	IdleTimeout time.Duration
	// MaxConns is the number of connections served at once; more get
	// 503 and are closed.
	MaxConns int
}

// DefaultLimits are serve's: a browser or smtprun token sends its small
// requests at once, and a person at the verification page opens a few
// connections.
var DefaultLimits = Limits{ReadTimeout: 10 * time.Second, IdleTimeout: 30 * time.Second, MaxConns: 100}

// NewServer is an http.Server for h within lim (MaxConns is the
// listener's: see LimitListener).
func NewServer(h http.Handler, lim Limits) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: lim.ReadTimeout, ReadTimeout: lim.ReadTimeout,
		WriteTimeout: 2 * lim.ReadTimeout, IdleTimeout: lim.IdleTimeout, MaxHeaderBytes: 16 << 10}
}

// LimitListener accepts at most n connections at once; one past that is
// answered 503 and closed at once, rather than left waiting in the
// backlog (as golang.org/x/net/netutil's would) or served.
func LimitListener(l net.Listener, n int) net.Listener {
	return &limitListener{Listener: l, n: n}
}

type limitListener struct {
	net.Listener
	mu     sync.Mutex
	n, cur int
}

const busyAnswer = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nConnection: close\r\nContent-Length: 52\r\n\r\ntoo many connections to the OAuth endpoints; retry\r\n"

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		l.mu.Lock()
		full := l.cur >= l.n
		if !full {
			l.cur++
		}
		l.mu.Unlock()
		if !full {
			return &limitConn{Conn: c, l: l}, nil
		}
		c.SetWriteDeadline(time.Now().Add(time.Second))
		c.Write([]byte(busyAnswer))
		c.Close()
	}
}

type limitConn struct {
	net.Conn
	l    *limitListener
	once sync.Once
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() {
		c.l.mu.Lock()
		c.l.cur--
		c.l.mu.Unlock()
	})
	return err
}
