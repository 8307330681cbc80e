package smtp

import (
	"slices"
	"testing"
)

func TestParseCapabilities(t *testing.T) {
	c := ParseCapabilities([]string{
		"smtp.example at your service, [198.51.100.23]",
		"SIZE 35882577",
		"8BITMIME",
		"auth LOGIN PLAIN",
		"AUTH=LOGIN",
		"  ",
	})
	if !c.Has("size") || !c.Has("8BITMIME") || !c.Has("Auth") || c.Has("STARTTLS") || c.Has("smtp.example") {
		t.Errorf("keywords: %v", c)
	}
	if got := c.Params("AUTH"); !slices.Equal(got, []string{"LOGIN", "PLAIN"}) {
		t.Errorf("AUTH params %v", got)
	}
	if got := c.Params("auth="); !slices.Equal(got, []string{"LOGIN"}) {
		t.Errorf("AUTH= params %v", got)
	}
	if got := c.Params("SIZE"); !slices.Equal(got, []string{"35882577"}) {
		t.Errorf("SIZE params %v", got)
	}
	if len(ParseCapabilities(nil)) != 0 || len(ParseCapabilities([]string{"hello"})) != 0 {
		t.Error("a greeting alone announces nothing")
	}
}

func TestSplitCommand(t *testing.T) {
	v, a := SplitCommand("  mail FROM:<a@b> SIZE=10 ")
	if v != CmdMAIL || a != "FROM:<a@b> SIZE=10" {
		t.Errorf("%q %q", v, a)
	}
	if !slices.Contains(Commands(), CmdSTARTTLS) || len(Commands()) != 14 {
		t.Errorf("%v", Commands())
	}
}

// RFC 2195 2's example exchange.
func TestCRAMMD5(t *testing.T) {
	challenge := []byte("<1896.697170952@postoffice.reston.mci.net>")
	got := CRAMMD5Response("tim", []byte("tanstaaftanstaaf"), challenge)
	if got != "tim b913a602c7eda7a495b4e6e7334d3890" {
		t.Errorf("%q", got)
	}
	if !CRAMMD5Verify("b913a602c7eda7a495b4e6e7334d3890", []byte("tanstaaftanstaaf"), challenge) ||
		CRAMMD5Verify("b913a602c7eda7a495b4e6e7334d3891", []byte("tanstaaftanstaaf"), challenge) ||
		CRAMMD5Verify("not hex", []byte("tanstaaftanstaaf"), challenge) {
		t.Error("verify")
	}
}
