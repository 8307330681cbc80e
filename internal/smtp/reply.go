package smtp

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits on what a server may send. RFC 5321 4.5.3.1.5 caps a reply line at
// 512 octets, but real servers exceed it (Office 365 sends lines over 1 KB),
// so the limits are generous yet bounded: a flooding server ends in a
// ReplyError, not in unbounded memory.
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
	// Raw are the lines exactly as received, without CRLF, unescaped:
	// what a client matches expectations against, and what it masks
	// secrets in before escaping for display (a secret with a backslash
	// or a control byte no longer looks like itself once escaped). Never
	// print them. Nil in replies not read by ReadReply.
	Raw []string
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

// ReplyError describes a malformed reply: Msg says what is wrong, Detail
// shows the offending line (escaped) or a summary of the reply so far.
type ReplyError struct {
	Msg    string
	Detail string
}

func (e *ReplyError) Error() string { return e.Msg }

// ReadReply reads one complete reply. It works on a bufio.Reader rather
// than net/textproto's Reader because textproto reads lines of any length
// and accepts what RFC 5321 does not; here every line and every reply is
// bounded and checked. Lines may end in CRLF or a bare LF (tolerated: some
// servers and proxies send it); everything else that RFC 5321 4.2 forbids
// is a *ReplyError. A connection that ends before the first byte of a
// reply gives io.EOF, unwrapped.
func ReadReply(r *bufio.Reader) (*Reply, error) {
	// Most replies are one line: the Reply and its three one-line slices
	// are one allocation, and a longer reply's slices grow from there.
	one := new(struct {
		reply Reply
		lines [3]string
	})
	reply := &one.reply
	reply.Lines, reply.Raw, reply.Text = one.lines[0:0:1], one.lines[1:1:2], one.lines[2:2:3]
	total := 0
	for {
		raw, err := readLine(r)
		if err != nil {
			if errors.Is(err, io.EOF) && len(reply.Lines) > 0 {
				return nil, &ReplyError{Msg: "connection closed in the middle of a multi-line reply", Detail: reply.Summary()}
			}
			return nil, err
		}
		total += len(raw)
		if total > MaxReplyBytes || len(reply.Lines) >= MaxReplyLines {
			return nil, &ReplyError{Msg: fmt.Sprintf("reply too long: more than %d lines or %d bytes", MaxReplyLines, MaxReplyBytes),
				Detail: reply.Summary()}
		}
		line, perr := ParseReplyLine(raw)
		var shown, text string
		rawStr := string(raw)
		if plain(raw) {
			// The common case: nothing to escape, so the shown line and
			// its text share the raw string instead of copies of it.
			shown = rawStr
			text = rawStr[len(raw)-len(line.Text):]
		} else {
			shown, text = Escape(raw), Escape(line.Text)
		}
		if perr != nil {
			return nil, &ReplyError{Msg: perr.Error(), Detail: shown}
		}
		if len(reply.Lines) == 0 {
			reply.Code = line.Code
		} else if line.Code != reply.Code {
			return nil, &ReplyError{
				Msg:    fmt.Sprintf("reply code changed from %d to %d inside a multi-line reply", reply.Code, line.Code),
				Detail: shown}
		}
		reply.Lines = append(reply.Lines, shown)
		reply.Raw = append(reply.Raw, rawStr)
		reply.Text = append(reply.Text, text)
		if !line.More {
			return reply, nil
		}
	}
}

// ReplyLine is one line of a reply, split: "250-SIZE 100" is Code 250,
// More true (a hyphen: more lines follow), Text "SIZE 100".
type ReplyLine struct {
	Code int
	More bool
	Text []byte
}

// ParseReplyLine checks one line, without its line ending, as RFC 5321
// 4.2 writes it: three digits in 200-599, then "-", " " or the end of the
// line. (4.2 allows codes 2xx-5xx only; 1xx is unused in SMTP.)
func ParseReplyLine(line []byte) (ReplyLine, error) {
	if len(line) < 3 {
		return ReplyLine{}, errors.New("malformed reply line: expected a three-digit code")
	}
	code := 0
	for _, c := range line[:3] {
		if c < '0' || c > '9' {
			return ReplyLine{}, errors.New("malformed reply line: expected a three-digit code")
		}
		code = code*10 + int(c-'0')
	}
	l := ReplyLine{Code: code}
	sepOK := len(line) == 3 || line[3] == ' ' || line[3] == '-'
	if sepOK && len(line) > 3 {
		l.More, l.Text = line[3] == '-', line[4:]
	}
	// The code's range is checked first: "999x" is a bad code before it is
	// a bad separator, as the engine has always reported it.
	if code < 200 || code > 599 {
		return l, &CodeRangeError{Code: code, WellFormed: sepOK}
	}
	if !sepOK {
		return ReplyLine{}, errors.New("malformed reply line: the code must be followed by a space or a hyphen")
	}
	return l, nil
}

// CodeRangeError is a reply line whose three digits are not a reply code.
// ParseReplyLine still returns the line split when its separator is right,
// so a caller that explains codes can say why this one is none.
type CodeRangeError struct {
	Code       int
	WellFormed bool // the rest of the line is right: the line is split
}

func (e *CodeRangeError) Error() string {
	return fmt.Sprintf("invalid reply code %d: codes are 200-599 (RFC 5321 4.2)", e.Code)
}

// readLine reads up to LF, bounded by MaxReplyLine, and strips CRLF or LF.
// readLine returns one line without its line ending. A line that fits
// the reader's buffer, the usual case, is returned in place: it is valid
// only until the next read from r, and ReadReply copies it at once.
func readLine(r *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		frag, err := r.ReadSlice('\n')
		if len(line)+len(frag) > MaxReplyLine {
			return nil, &ReplyError{Msg: fmt.Sprintf("reply line longer than %d bytes", MaxReplyLine),
				Detail: Escape(append(line, frag[:min(len(frag), 80)]...)) + "..."}
		}
		if err == nil && line == nil {
			line = frag
			break
		}
		line = append(line, frag...)
		if err == nil {
			break
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if errors.Is(err, io.EOF) && len(line) > 0 {
			return nil, &ReplyError{Msg: "connection closed in the middle of a reply line", Detail: Escape(line)}
		}
		return nil, err
	}
	line = bytes.TrimSuffix(line, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	return line, nil
}

// plain reports whether Escape would return b unchanged: printable ASCII
// without a backslash.
func plain(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c >= 0x7f || c == '\\' {
			return false
		}
	}
	return true
}

// Escape makes server bytes safe to print: valid printable UTF-8 passes,
// everything else becomes \xNN (and a backslash becomes \\), invisible
// format characters and line separators \uNNNN, so a NUL, an escape
// sequence or a bidi override from a hostile server cannot reach the
// terminal.
func Escape(b []byte) string {
	var s strings.Builder
	s.Grow(len(b))
	for len(b) > 0 {
		// Printable ASCII other than the backslash passes in runs: the
		// common case, and a 20 MB line must not cost a rune lookup per
		// byte.
		i := 0
		for i < len(b) && b[i] >= 0x20 && b[i] < 0x7f && b[i] != '\\' {
			i++
		}
		s.Write(b[:i])
		if b = b[i:]; len(b) == 0 {
			break
		}
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
		case r >= 0x80 && (unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp, unicode.Co) || r >= 0xfff9 && r <= 0xfffb):
			// Invisible format characters and line separators: bidi
			// overrides and isolates (U+202A-202E, U+2066-2069, the
			// "Trojan Source" trick) reorder what a terminal shows, U+200B
			// hides text, U+2028 breaks a line; private-use runes and the
			// interlinear annotation marks render unpredictably.
			if r > 0xffff {
				fmt.Fprintf(&s, `\U%08x`, r)
			} else {
				fmt.Fprintf(&s, `\u%04x`, r)
			}
		default:
			s.Write(b[:n])
		}
		b = b[n:]
	}
	return s.String()
}
