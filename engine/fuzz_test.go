package engine

import (
	"bufio"
	"bytes"
	"errors"
	"strings"
	"testing"
)

// FuzzMessageEncoding checks the DATA encoder (eachLine, writeStuffed)
// against a model written without it. The model reads the input's lines
// with the standard library (a CRLF, a lone CR and a lone LF each end a
// line; an ending at the very end adds no empty line), and decodes the wire
// bytes as a receiving server does (RFC 5321 4.5.2: split at CRLF, delete
// the first character of a line that starts with a dot). Content the model
// finds valid must be encoded, and decode back to its lines exactly;
// content with a NUL or a line over 998 octets must be refused, naming the
// first such line.
func FuzzMessageEncoding(f *testing.F) {
	for _, s := range []string{
		"Subject: x\n\nbody\n", ".\n", "..\r\n", "a\rb\nc\r\nd", "\n.\n", "x\r.\r", ".\r\n.\r\n",
		"a\x00b", strings.Repeat("y", 999), "\r\r\n", "\n\r", "", "\r\n",
		"ok\n" + strings.Repeat(".", 998) + "\n", "ok\n" + strings.Repeat("z", 999) + "\nx\x00",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, content []byte) {
		want, firstBad := modelLines(content)

		var wire bytes.Buffer
		w := bufio.NewWriter(&wire)
		err := eachLine(bytes.NewReader(content), func(line []byte) error {
			writeStuffed(w, line)
			return nil
		})
		w.Flush()

		if firstBad > 0 {
			var ce *contentError
			if !errors.As(err, &ce) {
				t.Fatalf("content line %d has a NUL or is over %d octets, yet the encoder said %v", firstBad, MaxLineOctets, err)
			}
			if ce.Line != firstBad {
				t.Fatalf("refused at line %d, want the first bad line, %d: %v", ce.Line, firstBad, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("refused valid content: %v", err)
		}
		got := receive(t, wire.Bytes())
		if len(got) != len(want) {
			t.Fatalf("%d lines received, want %d\ncontent %q\nwire    %q", len(got), len(want), content, wire.Bytes())
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("line %d received as %q, want %q\nwire %q", i+1, got[i], want[i], wire.Bytes())
			}
		}
	})
}

// modelLines is the model of what a message's lines are: CRLF, CR and LF
// each end a line, by text replacement rather than a scanner. firstBad is
// the 1-based number of the first line SMTP cannot carry (a NUL, or more
// than 998 octets), 0 if none.
func modelLines(content []byte) (lines []string, firstBad int) {
	s := strings.ReplaceAll(string(content), "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	if s == "" {
		return nil, 0
	}
	lines = strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	for i, l := range lines {
		if firstBad == 0 && (strings.IndexByte(l, 0) >= 0 || len(l) > MaxLineOctets) {
			firstBad = i + 1
		}
	}
	return lines, firstBad
}

// receive decodes DATA content as a server does (RFC 5321 4.5.2), failing
// on anything a server could misread: a wire form that does not end in
// CRLF, a bare CR or LF, a line that is a lone dot (the end of the data),
// a line over 1000 octets with its CRLF, not counting the stuffed dot
// (RFC 5321 4.5.3.1.6).
func receive(t *testing.T, wire []byte) []string {
	if len(wire) == 0 {
		return nil
	}
	if !bytes.HasSuffix(wire, []byte("\r\n")) {
		t.Fatalf("wire form does not end in CRLF: %q", wire)
	}
	var lines []string
	for _, l := range strings.Split(string(wire[:len(wire)-2]), "\r\n") {
		if strings.ContainsAny(l, "\r\n") {
			t.Fatalf("bare CR or LF on the wire: %q", l)
		}
		if l == "." {
			t.Fatalf("a lone dot would end the message early: %q", wire)
		}
		l = strings.TrimPrefix(l, ".")
		if len(l)+2 > 1000 {
			t.Fatalf("a line of %d octets with its CRLF", len(l)+2)
		}
		lines = append(lines, l)
	}
	return lines
}
