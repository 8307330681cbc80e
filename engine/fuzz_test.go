package engine

import (
	"bufio"
	"bytes"
	"errors"
	"strings"
	"testing"
)

// FuzzMessageEncoding checks the DATA encoder on arbitrary content: the
// wire form has no bare CR or LF, no line over the limit, no line that is
// a lone dot, and undoing the dot-stuffing gives back the content's lines.
func FuzzMessageEncoding(f *testing.F) {
	for _, s := range []string{
		"Subject: x\n\nbody\n", ".\n", "..\r\n", "a\rb\nc\r\nd", "\n.\n", "x\r.\r", ".\r\n.\r\n",
		"a\x00b", strings.Repeat("y", 999),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, content []byte) {
		var wire bytes.Buffer
		w := bufio.NewWriter(&wire)
		var lines [][]byte
		err := eachLine(bytes.NewReader(content), func(line []byte) error {
			lines = append(lines, append([]byte(nil), line...))
			writeStuffed(w, line)
			return nil
		})
		w.Flush()
		if err != nil {
			var ce *contentError
			if !errors.As(err, &ce) {
				t.Fatalf("error %T: %v", err, err)
			}
			if !bytes.ContainsRune(content, 0) && !hasLongLine(content) {
				t.Fatalf("refused valid content: %v", err)
			}
			return
		}
		out := wire.Bytes()
		if len(out) > 0 && !bytes.HasSuffix(out, []byte("\r\n")) {
			t.Fatalf("wire form does not end in CRLF: %q", out)
		}
		got := bytes.Split(bytes.TrimSuffix(out, []byte("\r\n")), []byte("\r\n"))
		if len(out) == 0 {
			got = nil
		}
		if len(got) != len(lines) {
			t.Fatalf("%d wire lines for %d content lines: %q", len(got), len(lines), out)
		}
		for i, l := range got {
			if bytes.ContainsAny(l, "\r\n") {
				t.Fatalf("bare CR or LF on the wire: %q", l)
			}
			if bytes.Equal(l, []byte(".")) {
				t.Fatalf("a lone dot would end the message early: %q", out)
			}
			if len(l) > MaxLineOctets+1 {
				t.Fatalf("line of %d octets", len(l))
			}
			if len(l) > 0 && l[0] == '.' {
				l = l[1:]
			}
			if !bytes.Equal(l, lines[i]) {
				t.Fatalf("line %d: %q, want %q", i, l, lines[i])
			}
		}
	})
}

func hasLongLine(b []byte) bool {
	n := 0
	for _, c := range b {
		if c == '\r' || c == '\n' {
			n = 0
			continue
		}
		if n++; n > MaxLineOctets {
			return true
		}
	}
	return false
}
