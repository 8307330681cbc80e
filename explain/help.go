package explain

import (
	"fmt"
	"strings"
	"sync"
)

// helpFile is data/help.yaml: smtprun's own advice and teaching lines,
// looked up by code.
type helpFile struct {
	Help []struct {
		Code string `yaml:"code"`
		Text string `yaml:"text"`
	} `yaml:"help"`
}

var helpOnce = sync.OnceValues(func() (map[string]string, error) { return loadHelp(dataFS) })

func loadHelp(fs fsys) (map[string]string, error) {
	b, err := fs.ReadFile("data/help.yaml")
	if err != nil {
		return nil, err
	}
	var f helpFile
	if err := decodeStrict(b, &f); err != nil {
		return nil, fmt.Errorf("data/help.yaml: %w", err)
	}
	m := map[string]string{}
	for i, h := range f.Help {
		switch {
		case strings.TrimSpace(h.Code) == "" || strings.TrimSpace(h.Text) == "":
			return nil, fmt.Errorf("data/help.yaml: entry %d: code and text are required", i+1)
		case m[h.Code] != "":
			return nil, fmt.Errorf("data/help.yaml: entry %d: duplicate code %q", i+1, h.Code)
		}
		m[h.Code] = h.Text
	}
	return m, nil
}

// Help returns the text filed under code, with each {name} filled in from
// args, given as name, value pairs. It reports false for an unknown code.
func Help(code string, args ...string) (string, bool) {
	m, err := helpOnce()
	if err != nil {
		panic("explain: " + err.Error())
	}
	text, ok := m[code]
	if !ok {
		return "", false
	}
	for i := 0; i+1 < len(args); i += 2 {
		text = strings.ReplaceAll(text, "{"+args[i]+"}", args[i+1])
	}
	return text, true
}
