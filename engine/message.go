package engine

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/smtprun/smtprun/dsl"
)

// messageVerdict stands in the queue of awaited replies for the server's
// reply to message content.
const messageVerdict = "(message)"

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
func (ss *session) message(m *dsl.Message) error {
	pos, span := m.Pos(), m.Kw.Span()
	open, where, err := ss.messageSource(m)
	if err != nil {
		return err
	}
	if err := ss.needConn(m.Kw); err != nil {
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
	if m.Binary != nil {
		return ss.sendBinary(m, open, where)
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
	sum := DataSummary{Step: ss.step, TLS: ss.tls}
	err = eachLine(r, func(line []byte) error {
		n := writeStuffed(ss.w, line)
		sum.Lines++
		sum.Bytes += int64(n)
		if !ss.e.lean {
			shown := Escape(line)
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
	ss.asked = append(ss.asked, pending{line: messageVerdict})
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

// messageSource returns a way to open the content (twice: check, then
// send) and a description of where it comes from.
func (ss *session) messageSource(m *dsl.Message) (func() (io.ReadCloser, error), string, error) {
	if m.Inline != nil {
		content, err := m.Inline.Expand(ss.e.vars)
		if err != nil {
			return nil, "", err
		}
		return func() (io.ReadCloser, error) { return stringSource{strings.NewReader(content)}, nil }, "", nil
	}
	p, err := m.File.Expand(ss.e.vars)
	if err != nil {
		return nil, "", err
	}
	if !filepath.IsAbs(p) {
		// Relative to the script, wherever smtprun was started.
		p = filepath.Join(filepath.Dir(ss.prog.File()), p)
	}
	if _, err := os.Stat(p); err != nil {
		return nil, "", &dsl.Error{Pos: m.File.Pos(), Span: m.File.Span(), Title: "cannot read message file",
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
	var size int64
	if f, ok := r.(*os.File); ok {
		fi, err := f.Stat()
		if err != nil {
			return ss.contentErr(m, where, err)
		}
		size = fi.Size()
	} else if rs, ok := r.(io.Seeker); ok {
		size, _ = rs.Seek(0, io.SeekEnd)
		rs.Seek(0, io.SeekStart)
	}
	cmd := fmt.Sprintf("BDAT %d LAST", size)
	if err := ss.writeLine(pos, cmd, Sent{}); err != nil {
		return err
	}
	n, err := io.CopyN(ss.w, r, size)
	if err != nil || n != size {
		ss.close(false)
		return ss.contentErr(m, where, fmt.Errorf("read %d of %d bytes: %v", n, size, err))
	}
	// The BDAT line and its chunk get one reply: the verdict on the message.
	ss.asked[len(ss.asked)-1].line = messageVerdict
	ss.emit(DataSummary{Step: ss.step, Bytes: size, TLS: ss.tls, Binary: true})
	ss.res.Messages++
	return nil
}

// stringSource is inline content: readable, seekable (for its size), and
// nothing to close.
type stringSource struct{ *strings.Reader }

func (stringSource) Close() error { return nil }
