package engine

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/alecthomas/participle/v2/lexer"
	"github.com/smtprun/smtprun/dsl"
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
	br := bufio.NewReaderSize(r, 64<<10)
	var line []byte
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
func (ss *session) message(m *dsl.Message) error {
	pos, span := m.Pos, len("message")
	open, where, err := ss.messageSource(m)
	if err != nil {
		return err
	}
	if err := ss.needConn(pos, "message"); err != nil {
		return err
	}
	// A reply that arrived before the content was sent can only be a
	// server out of step (or an attacker): it would later be read as the
	// verdict on the message.
	if n := ss.r.Buffered(); n > 0 {
		b, _ := ss.r.Peek(min(n, 80))
		return &ProtocolError{Pos: pos, Span: span,
			Msg:    fmt.Sprintf("server sent %d bytes before the message content was sent", n),
			Detail: Escape(b)}
	}
	check := func() error {
		r, err := open()
		if err != nil {
			return err
		}
		defer r.Close()
		return eachLine(r, func([]byte) error { return nil })
	}
	if err := check(); err != nil {
		return ss.contentErr(m, where, err)
	}
	r, err := open()
	if err != nil {
		return ss.contentErr(m, where, err)
	}
	defer r.Close()
	sum := DataSummary{TLS: ss.tls}
	err = eachLine(r, func(line []byte) error {
		n := writeStuffed(ss.w, line)
		sum.Lines++
		sum.Bytes += int64(n)
		shown := Escape(line)
		if n > len(line)+2 {
			shown = "." + shown
		}
		ss.emit(Sent{Line: shown, TLS: ss.tls, Data: true})
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
	ss.awaitingVerdict = true
	sum.Bytes += 3
	ss.emit(Sent{Line: ".", TLS: ss.tls, Data: true, Note: "end of data"})
	ss.emit(sum)
	ss.res.Messages++
	return nil
}

// messageSource returns a way to open the content (twice: check, then
// send) and a description of where it comes from.
func (ss *session) messageSource(m *dsl.Message) (func() (io.ReadCloser, error), string, error) {
	if m.Inline != nil {
		content, err := m.Inline.Expand(ss.e.vars)
		if err != nil {
			return nil, "", err
		}
		return func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(content)), nil }, "", nil
	}
	p, err := m.File.Expand(ss.e.vars)
	if err != nil {
		return nil, "", err
	}
	if !filepath.IsAbs(p) {
		base := ss.e.baseDir
		if base == "" {
			base = filepath.Dir(ss.script.File)
		}
		p = filepath.Join(base, p)
	}
	if _, err := os.Stat(p); err != nil {
		return nil, "", &dsl.Error{Pos: m.File.Pos, Span: len(m.File.Raw), Title: "cannot read message file",
			Label: strings.TrimPrefix(err.Error(), "stat ")}
	}
	return func() (io.ReadCloser, error) { return os.Open(p) }, p, nil
}

func (ss *session) contentErr(m *dsl.Message, file string, err error) error {
	ce, ok := err.(*contentError)
	if !ok {
		if de, ok := err.(*dsl.Error); ok {
			return de
		}
		var pos lexer.Position = m.Pos
		if m.File != nil {
			pos = m.File.Pos
		}
		return &dsl.Error{Pos: pos, Span: 7, Title: "cannot send message", Label: err.Error()}
	}
	if m.Inline != nil {
		pos := m.Inline.Pos
		pos.Line += ce.Line
		pos.Column = 1
		return &dsl.Error{Pos: pos, Span: 1, Title: "invalid message content", Label: "this line " + ce.Msg,
			Notes: []string{"nothing of the message was sent"}}
	}
	return &dsl.Error{Pos: m.File.Pos, Span: len(m.File.Raw), Title: "invalid message content",
		Label: fmt.Sprintf("line %d of %s %s", ce.Line, file, ce.Msg)}
}
