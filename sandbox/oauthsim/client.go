package oauthsim

import (
	"context"
	"net"
	"net/http"
	"time"
)

// InProcessBase is the issuer URL root of the endpoints Client reaches.
const InProcessBase = "http://oauth.sandbox.invalid"

// Client serves h on l and returns an HTTP client whose every request,
// whatever its URL's host, is answered there: `smtprun token --sandbox`
// runs the real flows through it against InProcessBase/PROVIDER. Closing
// the listener it returns stops the server and its connections.
// Redirects are returned, not followed, as a browser hands them to the
// application's loopback redirect.
func Client(l net.Listener, h http.Handler) (*http.Client, net.Listener) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(l)
	addr := l.Addr().String()
	var d net.Dialer
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return d.DialContext(ctx, network, addr)
		},
		Proxy: nil, // never the environment's proxy: the server is in process
	}
	c := &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return c, serverListener{l, srv}
}

// serverListener closes its server with it.
type serverListener struct {
	net.Listener
	srv *http.Server
}

func (l serverListener) Close() error { return l.srv.Close() }
