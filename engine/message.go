package engine

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/smtprun/smtprun/dsl"
	"github.com/smtprun/smtprun/internal/smtp"
)

// MaxLineOctets is RFC 5321 4.5.3.1.6 / RFC 5322 2.1.1: 998 octets
// before the CRLF. A longer line is refused rather than folded or sent,
// because servers truncate or reject it unpredictably.
const MaxLineOctets = 998

// contentError is a problem with message content, found before any of it
// is sent, at content line Line (1-based).
type contentError struct {
	Line int
	Msg  string
}

// eachLine calls fn for every line of r without its ending. CRLF, a lone
// CR and a lone LF all end a line: RFC 5321 2.3.8 allows only CRLF on the
// wire, and a bare CR or LF passed through is what SMTP smuggling
// (CVE-2023-51764 and friends) exploits, so each becomes a real line end.
// A last line without an ending is still a line; memory stays bounded
// because a line over MaxLineOctets stops the scan.
func eachLine(r io.Reader, fn func(line []byte) error) error {
	lr := lineReaders.Get().(*lineReader)
	defer lineReaders.Put(lr)
	br := lr.br
	br.Reset(r)
	defer br.Reset(nil) // let go of r
	line := lr.line[:0]
	defer func() { lr.line = line[:0] }()
	n := 0
	emit := func() error {
		n++
		if bytes.IndexByte(line, 0) >= 0 {
			return &contentError{Line: n, Msg: "contains a NUL byte, which SMTP does not allow in message data"}
		}
		err := fn(line)
		line = line[:0]
		return err
	}
	for {
		c, err := br.ReadByte()
		if err == io.EOF {
			if len(line) > 0 {
				return emit()
			}
			return nil
		}
		if err != nil {
			return err
		}
		switch c {
		case '\r':
			if next, err := br.Peek(1); err == nil && next[0] == '\n' {
				br.ReadByte()
			}
			fallthrough
		case '\n':
			if err := emit(); err != nil {
				return err
			}
		default:
			if len(line) >= MaxLineOctets {
				return &contentError{Line: n + 1, Msg: fmt.Sprintf("is longer than %d octets, the limit of RFC 5322 2.1.1", MaxLineOctets)}
			}
			line = append(line, c)
		}
	}
}

// lineReader is eachLine's buffer and line, kept between messages: a
// load run sends thousands of messages a second, and a fresh 64 KiB
// buffer for each was most of its allocation.
type lineReader struct {
	br   *bufio.Reader
	line []byte
}

var lineReaders = sync.Pool{New: func() any {
	return &lineReader{br: bufio.NewReaderSize(nil, 64<<10), line: make([]byte, 0, 256)}
}}

// writeStuffed writes one content line as it goes on the wire: a leading
// dot doubled (RFC 5321 4.5.2) and CRLF appended. It returns the bytes
// written.
func writeStuffed(w *bufio.Writer, line []byte) int {
	n := len(line) + 2
	if len(line) > 0 && line[0] == '.' {
		w.WriteByte('.')
		n++
	}
	w.Write(line)
	w.WriteString("\r\n")
	return n
}

func (e *contentError) Error() string { return fmt.Sprintf("line %d %s", e.Line, e.Msg) }

// message sends DATA content: CRLF line endings, dot-stuffed (RFC 5321
// 4.5.2), ended by CRLF.CRLF. The content is checked whole first, so a bad
// line is reported before a byte of it reaches the server.
func (ss *session) message(ctx context.Context, m *dsl.Message) error {
	pos, span := m.Pos(), m.Kw.Span()
	src, err := ss.messageSource(ctx, m)
	if err != nil {
		return err
	}
	open, where := src.open, src.where
	if err := ss.needConn(m.Kw); err != nil {
		return err
	}
	// A reply that arrived before the content was sent can only be a
	// server out of step (or an attacker): it would later be read as the
	// verdict on the message.
	if n := ss.r.Buffered(); n > 0 {
		b, _ := ss.r.Peek(n)
		return &ProtocolError{Pos: pos, Span: span,
			Msg:      fmt.Sprintf("server sent %d bytes before the message content was sent", n),
			received: bytes.Clone(b)}
	}
	if m.Binary != nil {
		return ss.sendBinary(m, open, where)
	}
	check := func() error {
		r, err := open()
		if err != nil {
			return err
		}
		defer r.Close()
		return eachLine(r, func(line []byte) error {
			// A secret in the content is held to the plaintext rule too.
			return ss.plaintextPolicy(pos, span, string(line))
		})
	}
	if err := check(); err != nil {
		return ss.contentErr(m, where, err)
	}
	r, err := open()
	if err != nil {
		return ss.contentErr(m, where, err)
	}
	defer r.Close()
	sum := DataSummary{Step: ss.step, TLS: ss.tls}
	err = eachLine(r, func(line []byte) error {
		n := writeStuffed(ss.w, line)
		sum.Lines++
		sum.Bytes += int64(n)
		if !ss.e.lean {
			// Shown as written, escaped with every event on its way out.
			shown := string(line)
			if n > len(line)+2 {
				shown = "." + shown
			}
			ss.emit(Sent{Step: ss.step, Line: shown, TLS: ss.tls, Role: RoleContent, At: time.Now()})
		}
		if ss.w.Buffered() >= ss.w.Size()/2 {
			return ss.flush(pos, span)
		}
		return nil
	})
	if err != nil {
		// Part of the message may be on the wire: drop the connection so
		// the server discards it instead of delivering half a message.
		ss.close(false)
		return ss.contentErr(m, where, err)
	}
	ss.w.WriteString(".\r\n")
	ss.asked = append(ss.asked, pending{line: smtp.Message})
	// The dot ends the content: what the script writes next is a command
	// whose reply is awaited, even before the verdict is read (RFC 2920
	// 3.1 lets the next MAIL follow the dot in one group).
	ss.inData = false
	sum.Bytes += 3
	if !ss.e.lean {
		ss.emit(Sent{Step: ss.step, Line: ".", TLS: ss.tls, Role: RoleEndOfData, At: time.Now()})
		ss.emit(sum)
	}
	ss.res.Messages++
	return nil
}

func (ss *session) contentErr(m *dsl.Message, file string, err error) error {
	var rd redactable
	if errors.As(err, &rd) {
		if _, ok := rd.(*contentError); !ok {
			// A write that failed or timed out, a policy refusal, an
			// interrupt: runtime errors, the network's or the user's
			// doing, not the script's fault.
			return err
		}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	ce, ok := err.(*contentError)
	if !ok {
		if de, ok := err.(*dsl.Error); ok {
			return de
		}
		pos, span := m.Pos(), m.Kw.Span()
		if m.File != nil {
			pos, span = m.File.Pos(), m.File.Span()
		}
		return &dsl.Error{Pos: pos, Span: span, Title: "cannot send message", Label: err.Error()}
	}
	if m.Inline != nil {
		pos := m.Inline.Pos()
		pos.Line += ce.Line
		pos.Column = 1
		return &dsl.Error{Pos: pos, Span: 1, Title: "invalid message content", Label: "this line " + ce.Msg,
			Notes: []string{"nothing of the message was sent"}}
	}
	return &dsl.Error{Pos: m.File.Pos(), Span: m.File.Span(), Title: "invalid message content",
		Label: fmt.Sprintf("line %d of %s %s", ce.Line, file, ce.Msg)}
}

// sendBinary sends the content byte for byte as one BDAT chunk (RFC
// 3030): no line-ending conversion, no dot-stuffing, no line limit. Only a
// server that announced CHUNKING and BINARYMIME in its last EHLO reply
// gets it, since any other would misread the bytes.
func (ss *session) sendBinary(m *dsl.Message, open func() (io.ReadCloser, error), where string) error {
	pos, span := m.Pos(), dsl.Columns(m.Pos(), m.Binary.End())
	for _, ext := range []string{"CHUNKING", "BINARYMIME"} {
		if _, ok := ss.caps[ext]; !ok {
			return &PolicyError{Pos: pos, Span: span, Rule: RuleBinaryNeedsExtensions,
				Msg: fmt.Sprintf("the server did not announce %s in its last EHLO reply", ext)}
		}
	}
	r, err := open()
	if err != nil {
		return ss.contentErr(m, where, err)
	}
	defer r.Close()
	size, err := sourceSize(r)
	if err != nil {
		return ss.contentErr(m, where, err)
	}
	cmd := fmt.Sprintf("BDAT %d LAST", size)
	if err := ss.writeLine(pos, cmd, Sent{}); err != nil {
		return err
	}
	// Read and write apart, so each failure is named for what failed: a
	// file that shrank is the script's, a server that stopped reading is
	// a runtime error.
	buf := make([]byte, 64<<10)
	for left := size; left > 0; {
		n, rerr := r.Read(buf[:min(int64(len(buf)), left)])
		if n > 0 {
			left -= int64(n)
			if _, err := ss.w.Write(buf[:n]); err != nil {
				return ss.ioError(pos, span, "write", err)
			}
		}
		if rerr != nil && left > 0 {
			ss.close(false)
			if rerr == io.EOF {
				rerr = io.ErrUnexpectedEOF
			}
			return ss.contentErr(m, where, fmt.Errorf("read %d of %d bytes: %w", size-left, size, rerr))
		}
	}
	// The BDAT line and its chunk get one reply: the verdict on the message.
	ss.asked[len(ss.asked)-1].line = smtp.Message
	ss.emit(DataSummary{Step: ss.step, Bytes: size, TLS: ss.tls, Binary: true})
	ss.res.Messages++
	return nil
}

// stringSource is inline content: readable, seekable (for its size), and
// nothing to close.
type stringSource struct{ *strings.Reader }

func (stringSource) Close() error { return nil }

// contentError never leaves Run (contentErr turns it into a script
// error), but it masks like every error type here, should it one day.
func (e *contentError) redact(r *redactor) error {
	return &contentError{Line: e.Line, Msg: r.show(e.Msg)}
}
