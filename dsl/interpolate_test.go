package dsl

import (
	"errors"
	"testing"
)

func TestExpand(t *testing.T) {
	vars := Chain{MapVars{"USER": "ann@example.test", "EMPTY": ""}, MapVars{"USER": "shadowed", "HOST": "mx"}}
	tests := []struct {
		src, want string
		unset     string // the variable reported unset, if any
	}{
		{`send "plain"`, "plain", ""},
		{`send "MAIL FROM:<${USER}>"`, "MAIL FROM:<ann@example.test>", ""},
		{`send "${HOST}:${PORT:-587}"`, "mx:587", ""},
		{`send "[${EMPTY:-default}]"`, "[]", ""}, // set but empty wins over the default
		{`send "$${USER} costs $5"`, "${USER} costs $5", ""},
		{`send "\"q\" \\ ${USER}"`, `"q" \ ann@example.test`, ""},
		{`send "x${MISSING}y"`, "", "MISSING"},
	}
	for _, tc := range tests {
		s, err := Parse("t.smtp", []byte(tc.src))
		if err != nil {
			t.Fatalf("%s: %v", tc.src, err)
		}
		got, err := s.Steps[0].(*Send).Text.Expand(vars)
		if tc.unset != "" {
			var e *Error
			if !errors.As(err, &e) || e.Pos.Column != 8 || e.Label != "${"+tc.unset+"} has no value" {
				t.Errorf("%s: want unset %s at column 8, got %v", tc.src, tc.unset, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s: got %q, %v; want %q", tc.src, got, err, tc.want)
		}
	}
}

func TestHeredocPositions(t *testing.T) {
	src := "message \"\"\"\nSubject: ${S}\n  body ${B:-x}\n\"\"\"\n"
	s, err := Parse("t.smtp", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Steps[0].(*Message).Inline.Expand(MapVars{})
	var e *Error
	if !errors.As(err, &e) || e.Pos.Line != 2 || e.Pos.Column != 10 {
		t.Fatalf("want unset S at 2:10, got %v", err)
	}
	got, err := s.Steps[0].(*Message).Inline.Expand(MapVars{"S": "hi"})
	if err != nil || got != "Subject: hi\n  body x\n" {
		t.Fatalf("got %q, %v", got, err)
	}
}
