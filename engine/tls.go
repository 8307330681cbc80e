package engine

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/alecthomas/participle/v2/lexer"
	"github.com/smtprun/smtprun/dsl"
)

func (ss *session) connect(ctx context.Context, c *dsl.Connect) error {
	ss.close(false)
	addr, err := c.Address.Expand(ss.e.vars)
	if err != nil {
		return err
	}
	pos, span := c.Address.Pos(), c.Address.Span()
	host, port, err := net.SplitHostPort(addr)
	if err != nil || host == "" || port == "" {
		return &dsl.Error{Pos: pos, Span: span, Title: "invalid address",
			Label: fmt.Sprintf("%q is not HOST:PORT", addr),
			Notes: []string{"help: name the port too, e.g. \"smtp.gmail.com:587\" (587 submission, 465 implicit TLS, 25 relay)"}}
	}
	dctx, cancel := context.WithTimeout(ctx, ss.e.timeout)
	defer cancel()
	conn, err := ss.e.dialer.DialContext(dctx, "tcp", addr)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if errors.Is(err, context.DeadlineExceeded) || isTimeout(err) {
			return &TimeoutError{Pos: pos, Span: span, Op: "connection to " + addr, After: ss.e.timeout}
		}
		return &NetError{Pos: pos, Span: span, Op: "connect to " + addr, Err: cleanDialError(err), Help: dialHelp(err, port)}
	}
	ss.host = host
	ss.setConn(conn)
	ss.asked = []string{"(greeting)"}
	ss.flushedAt = time.Now()
	ss.emit(Connected{Address: addr, Remote: describeAddr(conn.RemoteAddr())})
	if c.TLS != nil {
		return ss.handshake(ctx, pos, span, true)
	}
	return nil
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func isEOF(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

func isReset(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// cleanDialError drops Go's "dial tcp ...:" prefix, which repeats what the
// diagnostic already says.
func cleanDialError(err error) error {
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		var dnsErr *net.DNSError
		if errors.As(oe.Err, &dnsErr) {
			return fmt.Errorf("cannot resolve host %q: %s", dnsErr.Name, dnsErr.Err)
		}
		var se *os.SyscallError
		if errors.As(oe.Err, &se) {
			return se.Err
		}
		return oe.Err
	}
	return err
}

func dialHelp(err error, port string) string {
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &dnsErr):
		return "check the host name, and that this machine can resolve names (DNS); --sandbox practises offline"
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Sprintf("nothing listens on port %s there; submission is 587 (STARTTLS) or 465 (implicit TLS), relay 25", port)
	case errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EHOSTUNREACH):
		return "the network cannot reach that host (offline? firewall? try --sandbox to practise offline)"
	}
	return ""
}

func (ss *session) tlsConfig() *tls.Config {
	return &tls.Config{
		ServerName:         ss.host,
		RootCAs:            ss.e.roots,
		InsecureSkipVerify: ss.e.insecure,
		MinVersion:         tls.VersionTLS12,
	}
}

func (ss *session) startTLS(ctx context.Context, st *dsl.StartTLS) error {
	pos, span := st.Pos(), st.Kw.Span()
	if err := ss.needConn(st.Kw); err != nil {
		return err
	}
	if ss.tls {
		return &PolicyError{Pos: pos, Span: span, Msg: "the connection is already encrypted",
			Help: "remove this starttls: RFC 3207 allows one TLS negotiation per connection"}
	}
	if err := ss.writeLine(pos, "STARTTLS", Sent{Line: "STARTTLS"}); err != nil {
		return err
	}
	rep, err := ss.readReply(pos, span)
	if err != nil {
		return err
	}
	if rep.Code != 220 {
		return &NetError{Pos: pos, Span: span, Op: "STARTTLS",
			Err:  fmt.Errorf("server replied %s instead of 220", rep.Summary()),
			Help: "the server will not encrypt this connection; nothing more (and no credentials) was sent"}
	}
	// Anything already buffered arrived before the handshake, in plaintext,
	// yet would be read as if it came over TLS: the STARTTLS response
	// injection of CVE-2011-0411. Refuse rather than use it.
	if n := ss.r.Buffered(); n > 0 {
		b, _ := ss.r.Peek(min(n, 80))
		return &ProtocolError{Pos: pos, Span: span,
			Msg:    fmt.Sprintf("server sent %d bytes after its 220 reply to STARTTLS, before the TLS handshake (response injection)", n),
			Detail: Escape(b)}
	}
	return ss.handshake(ctx, pos, span, false)
}

func (ss *session) handshake(ctx context.Context, pos lexer.Position, span int, implicit bool) error {
	tc := tls.Client(ss.conn, ss.tlsConfig())
	hctx, cancel := context.WithTimeout(ctx, ss.e.timeout)
	defer cancel()
	if err := tc.HandshakeContext(hctx); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if errors.Is(err, context.DeadlineExceeded) || isTimeout(err) {
			return &TimeoutError{Pos: pos, Span: span, Op: "TLS handshake", After: ss.e.timeout}
		}
		return &NetError{Pos: pos, Span: span, Op: "TLS handshake", Err: err, Help: tlsHelp(err)}
	}
	ss.setConn(tc)
	ss.tls = true
	ss.caps = nil
	cs := tc.ConnectionState()
	ss.emit(TLSEstablished{
		Version:     tls.VersionName(cs.Version),
		CipherSuite: tls.CipherSuiteName(cs.CipherSuite),
		ServerName:  ss.host,
		Verified:    !ss.e.insecure,
		Implicit:    implicit,
	})
	if !implicit {
		ss.emit(Notice{Text: "everything learned before TLS is forgotten: send EHLO again (RFC 3207 4.2)"})
	}
	return nil
}

func tlsHelp(err error) string {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "unknown authority"):
		return "the certificate is not signed by a trusted CA; pass the CA with --ca FILE (or --insecure to skip verification, for testing only)"
	case strings.Contains(msg, "not valid for"), strings.Contains(msg, "doesn't contain any IP SANs"):
		return "the certificate names another host; connect with the name the certificate is for"
	case strings.Contains(msg, "expired"):
		return "the server's certificate has expired (or this machine's clock is wrong)"
	case strings.Contains(msg, "first record does not look like a TLS handshake"):
		return "the server does not speak TLS here; use `connect` without tls and `starttls`, or port 465 for implicit TLS"
	}
	return ""
}
