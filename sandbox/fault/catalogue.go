package fault

import (
	"fmt"
	"strings"

	"github.com/smtprun/smtprun/internal/replies"
	"github.com/smtprun/smtprun/internal/suggest"
)

// catalogue looks a reply up by name in the catalogue of real provider
// replies (internal/replies), in the sandbox's template form: its
// variable parts are placeholders the session fills in.
func catalogue(name string) (Reply, bool) {
	r, ok := replies.Lookup(name)
	if !ok {
		return Reply{}, false
	}
	out := Reply{Code: r.Code, Name: r.Name}
	for _, line := range strings.Split(r.Template, "\n") {
		if len(line) < 4 {
			return Reply{}, false
		}
		out.Lines = append(out.Lines, line[4:])
	}
	return out, true
}

// catalogueHint suggests the catalogue name closest to name.
func catalogueHint(name string) string {
	if best := suggest.Closest(name, replies.Names()); best != "" {
		return fmt.Sprintf(" (did you mean %s?)", best)
	}
	return "; smtprun explain lists the names"
}
