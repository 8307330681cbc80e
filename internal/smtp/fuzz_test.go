package smtp

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

// FuzzReadReply feeds arbitrary server bytes to the reply reader: it must
// never panic, must stay within its limits, and whatever it accepts must
// be a well-formed reply.
func FuzzReadReply(f *testing.F) {
	for _, s := range []string{
		"220 ok\r\n", "250-a\r\n250-b\r\n250 c\r\n", "250\r\n", "250-a\n250 b\n",
		"999 x\r\n", "2x0 x\r\n", "250-a\r\n251 b\r\n", "220 \x00\xff\r\n", "220-", "",
		"220 " + strings.Repeat("x", 2000) + "\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bufio.NewReaderSize(bytes.NewReader(data), 4096)
		for {
			rep, err := ReadReply(r)
			if err != nil {
				var re *ReplyError
				if !errors.As(err, &re) && err != io.EOF {
					t.Fatalf("unexpected error type %T: %v", err, err)
				}
				return
			}
			if rep.Code < 200 || rep.Code > 599 || len(rep.Lines) == 0 || len(rep.Lines) != len(rep.Text) {
				t.Fatalf("malformed reply accepted: %+v", rep)
			}
			if len(rep.Lines) > MaxReplyLines {
				t.Fatalf("%d lines", len(rep.Lines))
			}
			for _, l := range rep.Lines {
				if strings.ContainsAny(l, "\r\n\x00") {
					t.Fatalf("unescaped control byte in %q", l)
				}
			}
			if c, ok := rep.Enhanced(); ok && c.Class != rep.Code/100 {
				t.Fatalf("enhanced code %s in a %d reply", c, rep.Code)
			}
		}
	})
}
