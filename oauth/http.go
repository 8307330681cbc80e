package oauth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"
)

// DefaultRequestTimeout bounds each request to the issuer when the caller
// sets none: a dripping or silent endpoint must not hold the command.
const DefaultRequestTimeout = 30 * time.Second

// errRedirect: the device and token endpoints get the client secret, the
// device code, the authorization code or the refresh token in the body
// of a POST, and a redirect (307, 308) would re-send them to wherever it
// points, an https endpoint's to plain http in clear. No real issuer
// redirects those requests, so none is followed.
type errRedirect struct{ to string }

func (e *errRedirect) Error() string {
	return "the issuer redirected the request to " + e.to + ", which is never followed: it would send the secrets in it along"
}

// boundTransport gives each request the flow's context (x/oauth2 sends
// the device authorization request without one, so neither a deadline
// nor Ctrl-C reached it) and a deadline of its own, which also covers
// reading the body.
type boundTransport struct {
	base     http.RoundTripper
	ctx      context.Context
	timeout  time.Duration
	timedOut atomic.Bool
}

func (b *boundTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithTimeout(b.ctx, b.timeout)
	stop := context.AfterFunc(r.Context(), cancel)
	done := func() {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) && b.ctx.Err() == nil {
			b.timedOut.Store(true)
		}
		stop()
		cancel()
	}
	resp, err := b.base.RoundTrip(r.WithContext(ctx))
	if err != nil {
		done()
		return nil, err
	}
	resp.Body = &doneBody{ReadCloser: resp.Body, done: done}
	return resp, nil
}

type doneBody struct {
	io.ReadCloser
	done func()
}

func (d *doneBody) Read(p []byte) (int, error) {
	n, err := d.ReadCloser.Read(p)
	if err != nil && err != io.EOF {
		// Note a timeout before the caller hears of it.
		d.done()
	}
	return n, err
}

func (d *doneBody) Close() error {
	err := d.ReadCloser.Close()
	d.done()
	return err
}

// hardened returns the client the flow talks to the issuer with: the
// caller's transport (or the default), redirects refused, each request
// bound as boundTransport says.
func hardened(ctx context.Context, c *http.Client, timeout time.Duration) (*http.Client, *boundTransport) {
	base := http.DefaultTransport
	if c != nil && c.Transport != nil {
		base = c.Transport
	}
	if timeout <= 0 {
		timeout = DefaultRequestTimeout
	}
	bt := &boundTransport{base: base, ctx: ctx, timeout: timeout}
	hc := &http.Client{Transport: bt, CheckRedirect: func(r *http.Request, _ []*http.Request) error {
		return &errRedirect{to: r.URL.Redacted()}
	}}
	if c != nil {
		hc.Jar = c.Jar
	}
	return hc, bt
}

// checkEndpoints refuses plain http except on loopback: the client
// secret and the codes go in the body, and on the network they would go
// in clear (smtprun refuses plaintext AUTH likewise). smtprun serve's
// endpoints are on 127.0.0.1, where nothing leaves the machine.
func checkEndpoints(p Provider) error {
	for _, e := range []struct{ what, u string }{{"authorization", p.AuthURL}, {"token", p.TokenURL}, {"device authorization", p.DeviceURL}} {
		if e.u == "" {
			continue
		}
		u, err := url.Parse(e.u)
		if err != nil || u.Host == "" {
			return fmt.Errorf("the %s endpoint %q is not a URL", e.what, e.u)
		}
		switch {
		case u.Scheme == "https":
		case u.Scheme == "http" && isLoopback(u.Hostname()):
		case u.Scheme == "http":
			return fmt.Errorf("the %s endpoint %s is plain http on a host that is not loopback, where the client secret and the codes would travel in clear: use https (plain http is for loopback only, such as smtprun serve's endpoints)", e.what, u.Redacted())
		default:
			return fmt.Errorf("the %s endpoint %s is not http(s)", e.what, u.Redacted())
		}
	}
	return nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
