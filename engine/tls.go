package engine

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"time"

	"github.com/smtprun/smtprun/dsl"
	"github.com/smtprun/smtprun/internal/smtp"
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
		return &InputError{Code: InputAddressWithoutPort, Diag: &dsl.Error{Pos: pos, Span: span, Title: "invalid address",
			Label: fmt.Sprintf("%q is not HOST:PORT", addr)}}
	}
	dctx, cancel := context.WithTimeout(ctx, ss.e.timeout)
	defer cancel()
	// A --connect-to rule changes where the connection goes, never the
	// name TLS verifies or the transcript shows.
	dial, via, where := addr, "", addr
	if len(ss.e.connectTo) > 0 {
		if dial = Route(ss.e.connectTo, host, port); dial != net.JoinHostPort(host, port) {
			via = dial
			where = addr + " via " + dial
		}
	}
	dialStart := time.Now()
	conn, err := ss.e.dialer.DialContext(dctx, "tcp", dial)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if errors.Is(err, context.DeadlineExceeded) || isTimeout(err) {
			return &TimeoutError{Pos: pos, Span: span, Op: "connection to " + where, After: ss.e.timeout}
		}
		return &NetError{Pos: pos, Span: span, Op: "connect to " + where, Err: cleanDialError(err), Address: dial}
	}
	connected := time.Now()
	ss.host, ss.port = host, port
	ss.setConn(conn)
	ss.asked = []pending{{line: smtp.Greeting, sent: connected}}
	ss.lastFlush = connected
	ss.emit(Connected{Step: ss.step, Address: addr, Via: via, Remote: describeAddr(conn.RemoteAddr()), At: connected, Took: connected.Sub(dialStart)})
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
			return &shortError{msg: fmt.Sprintf("cannot resolve host %q: %s", dnsErr.Name, dnsErr.Err), err: dnsErr}
		}
		var se *os.SyscallError
		if errors.As(oe.Err, &se) {
			return se.Err
		}
		return oe.Err
	}
	return err
}

// shortError says less than the error it wraps, which errors.As still
// finds.
type shortError struct {
	msg string
	err error
}

func (e *shortError) Error() string { return e.msg }
func (e *shortError) Unwrap() error { return e.err }

func (ss *session) tlsConfig() *tls.Config {
	return &tls.Config{
		ServerName:         ss.host,
		RootCAs:            ss.e.roots,
		InsecureSkipVerify: ss.e.insecure,
		MinVersion:         tls.VersionTLS12,
		ClientSessionCache: ss.e.sessions,
	}
}

func (ss *session) startTLS(ctx context.Context, st *dsl.StartTLS) error {
	pos, span := st.Pos(), st.Kw.Span()
	if err := ss.needConn(st.Kw); err != nil {
		return err
	}
	if ss.tls {
		return &PolicyError{Pos: pos, Span: span, Rule: RuleOneTLS, Msg: "the connection is already encrypted"}
	}
	if err := ss.writeLine(pos, "STARTTLS", Sent{}); err != nil {
		return err
	}
	rep, err := ss.readReply(pos, span)
	if err != nil {
		return err
	}
	if rep.Code != 220 {
		return &NetError{Pos: pos, Span: span, Op: "STARTTLS",
			Err: fmt.Errorf("%w: server replied %s instead of 220", ErrSTARTTLSRefused, rep.Summary())}
	}
	// Anything already buffered arrived before the handshake, in plaintext,
	// yet would be read as if it came over TLS: the STARTTLS response
	// injection of CVE-2011-0411. Refuse rather than use it.
	// Bytes that come later, in another segment, meet the handshake
	// instead; see handshake.
	if n := ss.r.Buffered(); n > 0 {
		b, _ := ss.r.Peek(n)
		return injectionError(pos, span, fmt.Sprintf("server sent %d bytes after its 220 reply to STARTTLS, before the TLS handshake (response injection)", n), b)
	}
	return ss.handshake(ctx, pos, span, false)
}

func (ss *session) handshake(ctx context.Context, pos dsl.Pos, span int, implicit bool) error {
	start := time.Now()
	ss.tlsBegun = true
	qc := &quickAckConn{Conn: ss.conn}
	tc := tls.Client(qc, ss.tlsConfig())
	hctx, cancel := context.WithTimeout(ctx, ss.e.timeout)
	defer cancel()
	if err := tc.HandshakeContext(hctx); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if errors.Is(err, context.DeadlineExceeded) || isTimeout(err) {
			return &TimeoutError{Pos: pos, Span: span, Op: "TLS handshake", After: ss.e.timeout}
		}
		var rhe tls.RecordHeaderError
		if !implicit && errors.As(err, &rhe) && looksLikeReply(rhe.RecordHeader[:]) {
			// Plaintext where the server's first TLS record belongs: an
			// injected reply that came in a later segment than the 220.
			return injectionError(pos, span, "server sent a plaintext reply after its 220 to STARTTLS, where the TLS handshake should start (response injection)", rhe.RecordHeader[:])
		}
		return &NetError{Pos: pos, Span: span, Op: "TLS handshake", Err: err}
	}
	ss.setConn(tc)
	ss.tls = true
	if !stallGuardOff {
		qc.reads = stallGuard
	}
	ss.caps = nil
	cs := tc.ConnectionState()
	ss.emit(TLSEstablished{
		Step:        ss.step,
		Took:        time.Since(start),
		Version:     tls.VersionName(cs.Version),
		CipherSuite: tls.CipherSuiteName(cs.CipherSuite),
		ServerName:  ss.host,
		Verified:    !ss.e.insecure,
		Implicit:    implicit,
		Resumed:     cs.DidResume,
	})
	if !implicit && !ss.e.lean {
		ss.emit(Notice{Step: ss.step, Code: NoticeCapabilitiesForgotten})
	}
	return nil
}

// stallGuard is how many reads of the TCP connection after a TLS
// handshake are made with the kernel's delayed acknowledgement switched
// off. A TLS 1.3 server such as Postfix (OpenSSL) writes its session
// tickets once it has our Finished, in a segment of their own, and then
// the reply to our next command in another: Nagle's algorithm holds that
// small reply until the tickets are acknowledged. We sent the command
// before the tickets came, so nothing of ours carries the
// acknowledgement, and Linux, seeing an interactive connection, delays it
// by its 40 ms minimum. In a capture on loopback (tcpdump), the EHLO after
// STARTTLS went at +0.6 ms after our Finished, the tickets came at
// +0.8 ms, our bare ACK at +44 ms and the 250 reply 26 µs after it.
// Setting TCP_QUICKACK sends an acknowledgement the kernel is holding
// at once, and leaves the delayed-ACK ("pingpong") mode that our own
// writes put the connection in; but data that arrives later can still
// wait on the timer. So quickAckConn sets it both before each read (the
// tickets may be waiting already) and after each read that returned
// bytes (the tickets just came while we waited, and their ACK is held).
// Four reads cover the tickets, whether they come alone or with the first
// reply.
const stallGuard = 4

// stallGuardOff switches the guard off, for the benchmark that shows what
// it saves.
var stallGuardOff bool

// quickAckConn sets quick-ack mode around each read of the TCP connection
// under TLS while reads remain in its budget (see stallGuard): just before
// the kernel is asked for the bytes, since a set made before our last
// write is undone by that write, and just after bytes came, to push out
// the acknowledgement the kernel scheduled for them.
type quickAckConn struct {
	net.Conn
	reads int
}

func (c *quickAckConn) Read(b []byte) (int, error) {
	if c.reads <= 0 {
		return c.Conn.Read(b)
	}
	c.reads--
	quickAck(c.Conn)
	n, err := c.Conn.Read(b)
	if n > 0 {
		quickAck(c.Conn)
	}
	return n, err
}

func injectionError(pos dsl.Pos, span int, msg string, b []byte) error {
	return &ProtocolError{Pos: pos, Span: span, Msg: msg, received: bytes.Clone(b)}
}

// looksLikeReply: the start of an SMTP reply line, three digits and a
// separator, where a TLS record header (type 0x14-0x18) was due.
func looksLikeReply(b []byte) bool {
	if len(b) < 4 {
		return false
	}
	for _, c := range b[:3] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return b[3] == ' ' || b[3] == '-'
}
