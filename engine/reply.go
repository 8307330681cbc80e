package engine

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Limits on what a server may send. RFC 5321 4.5.3.1.5 caps a reply line at
// 512 octets, but real servers exceed it (Office 365 sends lines over 1 KB),
// so the limits are generous yet bounded: a flooding server ends in a
// ProtocolError, not in unbounded memory.
const (
	MaxReplyLine  = 16 << 10
	MaxReplyLines = 1000
	MaxReplyBytes = 256 << 10
)

// Reply is one complete SMTP reply (RFC 5321 4.2), possibly multi-line.
type Reply struct {
	Code int
	// Lines are the reply lines as received, without CRLF, with bytes that
	// are not printable UTF-8 escaped (\x00) so they are safe to display.
	Lines []string
	// Text is the text of each line after the code and separator.
	Text []string
}

// Summary is the first line, with a count of the others.
func (r *Reply) Summary() string {
	if r == nil || len(r.Lines) == 0 {
		return "(nothing)"
	}
	if len(r.Lines) == 1 {
		return r.Lines[0]
	}
	return fmt.Sprintf("%s (+%d more lines)", r.Lines[0], len(r.Lines)-1)
}

// String is every line, joined with newlines.
func (r *Reply) String() string { return strings.Join(r.Lines, "\n") }

// EnhancedCode returns the RFC 3463 status code at the start of the first
// line's text ("5.7.8"), or "".
func (r *Reply) EnhancedCode() string {
	if len(r.Text) == 0 {
		return ""
	}
	f, _, _ := strings.Cut(r.Text[0], " ")
	parts := strings.Split(f, ".")
	if len(parts) != 3 || len(parts[0]) != 1 || parts[0][0] < '2' || parts[0][0] > '5' || string(rune('0'+r.Code/100)) != parts[0] {
		return ""
	}
	for _, p := range parts[1:] {
		if p == "" || len(p) > 3 {
			return ""
		}
		if _, err := strconv.Atoi(p); err != nil {
			return ""
		}
	}
	return f
}

// replyError describes a malformed reply; the engine wraps it in a
// ProtocolError at the step that read it.
type replyError struct {
	msg    string
	detail string
}

func (e *replyError) Error() string { return e.msg }

// readReply reads one complete reply. It works on a bufio.Reader rather
// than net/textproto's Reader because textproto reads lines of any length
// and accepts what RFC 5321 does not; here every line and every reply is
// bounded and checked. Lines may end in CRLF or a bare LF
// (tolerated: some servers and proxies send it); everything else that RFC
// 5321 4.2 forbids is an error.
func readReply(r *bufio.Reader) (*Reply, error) {
	reply := &Reply{}
	total := 0
	for {
		raw, err := readLine(r)
		if err != nil {
			if errors.Is(err, io.EOF) && len(reply.Lines) > 0 {
				return nil, &replyError{msg: "connection closed in the middle of a multi-line reply", detail: reply.Summary()}
			}
			return nil, err
		}
		total += len(raw)
		if total > MaxReplyBytes || len(reply.Lines) >= MaxReplyLines {
			return nil, &replyError{msg: fmt.Sprintf("reply too long: more than %d lines or %d bytes", MaxReplyLines, MaxReplyBytes),
				detail: reply.Summary()}
		}
		shown := Escape(raw)
		code, sep, text, perr := splitReplyLine(raw)
		if perr != "" {
			return nil, &replyError{msg: perr, detail: shown}
		}
		if len(reply.Lines) == 0 {
			reply.Code = code
		} else if code != reply.Code {
			return nil, &replyError{
				msg:    fmt.Sprintf("reply code changed from %d to %d inside a multi-line reply", reply.Code, code),
				detail: shown}
		}
		reply.Lines = append(reply.Lines, shown)
		reply.Text = append(reply.Text, Escape(text))
		if sep != '-' {
			return reply, nil
		}
	}
}

// splitReplyLine checks one line: three digits in 200-599, then "-", " " or
// the end of the line.
func splitReplyLine(line []byte) (code int, sep byte, text []byte, problem string) {
	if len(line) < 3 {
		return 0, 0, nil, "malformed reply line: expected a three-digit code"
	}
	for _, c := range line[:3] {
		if c < '0' || c > '9' {
			return 0, 0, nil, "malformed reply line: expected a three-digit code"
		}
	}
	code, _ = strconv.Atoi(string(line[:3]))
	if code < 200 || code > 599 {
		return 0, 0, nil, fmt.Sprintf("invalid reply code %d: codes are 200-599 (RFC 5321 4.2)", code)
	}
	if len(line) == 3 {
		return code, ' ', nil, ""
	}
	switch line[3] {
	case ' ', '-':
		return code, line[3], line[4:], ""
	}
	return 0, 0, nil, "malformed reply line: the code must be followed by a space or a hyphen"
}

// readLine reads up to LF, bounded by MaxReplyLine, and strips CRLF or LF.
func readLine(r *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		frag, err := r.ReadSlice('\n')
		if len(line)+len(frag) > MaxReplyLine {
			return nil, &replyError{msg: fmt.Sprintf("reply line longer than %d bytes", MaxReplyLine),
				detail: Escape(append(line, frag[:min(len(frag), 80)]...)) + "..."}
		}
		line = append(line, frag...)
		if err == nil {
			break
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if errors.Is(err, io.EOF) && len(line) > 0 {
			return nil, &replyError{msg: "connection closed in the middle of a reply line", detail: Escape(line)}
		}
		return nil, err
	}
	line = bytes.TrimSuffix(line, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	return line, nil
}

// Escape makes server bytes safe to print: valid printable UTF-8 passes,
// everything else becomes \xNN (and a backslash becomes \\), so a NUL or an
// escape sequence from a hostile server cannot reach the terminal.
func Escape(b []byte) string {
	var s strings.Builder
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		switch {
		case r == '\\':
			s.WriteString(`\\`)
		case r == '\r':
			s.WriteString(`\r`)
		case r == '\n':
			s.WriteString(`\n`)
		case r == utf8.RuneError && n <= 1, r < 0x20 && r != '\t', r == 0x7f, r >= 0x80 && r < 0xa0:
			for _, c := range b[:n] {
				fmt.Fprintf(&s, `\x%02x`, c)
			}
		default:
			s.Write(b[:n])
		}
		b = b[n:]
	}
	return s.String()
}
