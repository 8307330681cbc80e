package smtp

import "strings"

// Capabilities are the service extensions an EHLO reply announces (RFC
// 5321 4.1.1.1): each line after the first is a keyword and its
// parameters. Keys are upper-case; look them up with Has and Params, which
// ignore case as the RFC's keywords do.
type Capabilities map[string][]string

// ParseCapabilities reads the text of an EHLO reply's lines (Reply.Text):
// the first line is the greeting, each other line a keyword. "AUTH=LOGIN
// PLAIN", the pre-RFC 4954 form some servers still send beside "AUTH", is
// kept under its own keyword "AUTH=", so it never hides or doubles the real
// AUTH line.
func ParseCapabilities(text []string) Capabilities {
	caps := Capabilities{}
	if len(text) < 2 {
		return caps
	}
	for _, line := range text[1:] {
		if oneWord(line) {
			// Most keywords come alone (PIPELINING, 8BITMIME).
			caps[strings.ToUpper(line)] = nil
			continue
		}
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		kw := strings.ToUpper(f[0])
		params := f[1:]
		if i := strings.IndexByte(kw, '='); i >= 0 {
			if v := f[0][i+1:]; v != "" {
				params = append([]string{v}, params...)
			}
			kw = kw[:i+1]
		}
		caps[kw] = params
	}
	return caps
}

// oneWord reports a line of printable ASCII without spaces or '=', which
// strings.Fields would return whole.
func oneWord(line string) bool {
	for i := 0; i < len(line); i++ {
		if c := line[i]; c <= ' ' || c >= 0x7f || c == '=' {
			return false
		}
	}
	return line != ""
}

// Has reports whether the keyword was announced.
func (c Capabilities) Has(keyword string) bool {
	_, ok := c[strings.ToUpper(keyword)]
	return ok
}

// Params returns the keyword's parameters ("AUTH" -> the mechanisms,
// "SIZE" -> the limit), nil when it has none or was not announced.
func (c Capabilities) Params(keyword string) []string {
	return c[strings.ToUpper(keyword)]
}
