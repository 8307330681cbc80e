package smtp

import (
	"bufio"
	"errors"
	"io"
	"strings"
	"testing"
)

func read(s string) (*Reply, error) {
	return ReadReply(bufio.NewReader(strings.NewReader(s)))
}

func TestReadReply(t *testing.T) {
	rep, err := read("250-smtp.example at your service\r\n250-SIZE 35882577\r\n250 AUTH LOGIN PLAIN\r\n")
	if err != nil {
		t.Fatal(err)
	}
	if rep.Code != 250 || len(rep.Lines) != 3 || rep.Text[2] != "AUTH LOGIN PLAIN" || rep.Lines[1] != "250-SIZE 35882577" {
		t.Fatalf("%+v", rep)
	}
	if rep.Summary() != "250-smtp.example at your service (+2 more lines)" {
		t.Errorf("summary %q", rep.Summary())
	}
	// A bare LF ends a line too, and a bare code is a whole reply.
	if rep, err := read("221\n"); err != nil || rep.Code != 221 || rep.Text[0] != "" {
		t.Errorf("bare code: %+v %v", rep, err)
	}
	// Bytes a terminal would act on arrive escaped.
	if rep, err := read("220 \x1b[2J\x00\r\n"); err != nil || rep.Lines[0] != `220 \x1b[2J\x00` {
		t.Errorf("escaping: %+v %v", rep, err)
	}
	if _, err := read(""); err != io.EOF {
		t.Errorf("empty input: %v, want io.EOF", err)
	}
}

func TestReadReplyErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"2x0 hi\r\n", "expected a three-digit code"},
		{"hi\r\n", "expected a three-digit code"},
		{"999 hi\r\n", "invalid reply code 999"},
		{"150 hi\r\n", "invalid reply code 150"},
		{"250_hi\r\n", "followed by a space or a hyphen"},
		{"250-a\r\n251 b\r\n", "reply code changed from 250 to 251"},
		{"250-a\r\n", "in the middle of a multi-line reply"},
		{"250 a", "in the middle of a reply line"},
		{"250 " + strings.Repeat("x", MaxReplyLine) + "\r\n", "reply line longer than"},
		{strings.Repeat("250-x\r\n", MaxReplyLines+1), "reply too long"},
		{strings.Repeat("250-"+strings.Repeat("x", 1000)+"\r\n", MaxReplyBytes/1000+1), "reply too long"},
	} {
		_, err := read(tc.in)
		var re *ReplyError
		if !errors.As(err, &re) || !strings.Contains(re.Msg, tc.want) {
			t.Errorf("%.30q: %v, want a ReplyError with %q", tc.in, err, tc.want)
		}
	}
}

func TestParseReplyLine(t *testing.T) {
	l, err := ParseReplyLine([]byte("354 go ahead"))
	if err != nil || l.Code != 354 || l.More || string(l.Text) != "go ahead" {
		t.Errorf("%+v %v", l, err)
	}
	l, err = ParseReplyLine([]byte("250-PIPELINING"))
	if err != nil || !l.More || string(l.Text) != "PIPELINING" {
		t.Errorf("%+v %v", l, err)
	}
}

// A code out of range is reported as such, and the line is still split
// when its separator is right, for callers that explain codes.
func TestParseReplyLineRange(t *testing.T) {
	l, err := ParseReplyLine([]byte("999 text"))
	var re *CodeRangeError
	if !errors.As(err, &re) || re.Code != 999 || !re.WellFormed || string(l.Text) != "text" {
		t.Errorf("%+v %v", l, err)
	}
	if _, err := ParseReplyLine([]byte("999_text")); !errors.As(err, &re) || re.WellFormed {
		t.Errorf("999_text: %v, want the range error first", err)
	}
}
