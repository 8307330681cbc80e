package fault

import (
	"fmt"
	"strconv"
	"strings"
)

// Magic is the plan a magic recipient address asks for, for clients that
// cannot pass flags (a web form, a mail library in production code):
//
//	fail-550@example.com      550 5.0.0 ... (any 4xx or 5xx code)
//	fail-421@example.com      421 4.0.0 ... and the server hangs up
//	reply+NAME@example.com    the catalogue reply NAME
//
// The local part decides, whatever the domain; anything else is no magic.
func Magic(addr string) (Plan, bool) {
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		return Plan{}, false
	}
	local := strings.ToLower(addr[:at])
	if code, ok := strings.CutPrefix(local, "fail-"); ok {
		n, err := strconv.Atoi(code)
		if err != nil || len(code) != 3 || n < 400 || n > 599 {
			return Plan{}, false
		}
		text := fmt.Sprintf("%d.0.0 <%s>: failed on request (smtprun magic recipient)", n/100, addr)
		return Plan{Source: addr, Verb: "RCPT", Reply: Reply{Code: n, Lines: []string{text}}, Close: n == 421}, true
	}
	if name, ok := strings.CutPrefix(addr[:at], "reply+"); ok && name != "" {
		r, found := catalogue(name)
		if !found {
			return Plan{}, false
		}
		return Plan{Source: addr, Verb: "RCPT", Reply: r, Close: r.Code == 421}, true
	}
	return Plan{}, false
}
