package sandbox

import (
	"bytes"
	_ "embed"
	"fmt"
	"slices"
	"strings"

	"github.com/smtprun/smtprun/internal/suggest"
	"go.yaml.in/yaml/v3"
)

//go:embed scenarios.yaml
var scenarioFile []byte

// The scenario names the session knows how to play. A name in
// scenarios.yaml that is not here (or the other way round) is an error
// when the catalog loads.
const (
	scAuthDisabled        = "auth-disabled"
	scAppPasswordRequired = "app-password-required"
	scBadCredentials      = "bad-credentials"
	scMustStartTLS        = "must-starttls"
	scRelayDenied         = "relay-denied"
	scGreylisted          = "greylisted"
	scMailboxFull         = "mailbox-full"
	scMessageTooLarge     = "message-too-large"
	scTLSUnavailable      = "tls-unavailable"
	scTooManyErrors       = "too-many-errors"
	scDropAfterData       = "drop-after-data"
	scSlow                = "slow"
)

// scenarioNeeds says which data a behaviour needs from the file.
var scenarioNeeds = map[string]struct{ reply, size, maxErrors bool }{
	scAuthDisabled:        {reply: true},
	scAppPasswordRequired: {reply: true},
	scBadCredentials:      {},
	scMustStartTLS:        {},
	scRelayDenied:         {},
	scGreylisted:          {reply: true},
	scMailboxFull:         {reply: true},
	scMessageTooLarge:     {size: true},
	scTLSUnavailable:      {reply: true},
	scTooManyErrors:       {maxErrors: true},
	scDropAfterData:       {},
	scSlow:                {},
}

// scenario is one entry of scenarios.yaml.
type scenario struct {
	Name        string            `yaml:"name"`
	Description string            `yaml:"description"`
	Profiles    []string          `yaml:"profiles"`
	Reply       string            `yaml:"reply"`
	Replies     map[string]string `yaml:"replies"`
	Size        int64             `yaml:"size"`
	MaxErrors   int               `yaml:"max_errors"`

	reply   replyTemplate
	replies map[string]replyTemplate
}

func parseScenarios(data []byte, c *catalog) ([]*scenario, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var list []*scenario
	if err := dec.Decode(&list); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, sc := range list {
		needs, ok := scenarioNeeds[sc.Name]
		if !ok {
			return nil, fmt.Errorf("scenario %q has no behaviour in scenarios.go", sc.Name)
		}
		if seen[sc.Name] {
			return nil, fmt.Errorf("scenario %q listed twice", sc.Name)
		}
		seen[sc.Name] = true
		if sc.Description == "" {
			return nil, fmt.Errorf("scenario %q: description is required", sc.Name)
		}
		for _, p := range sc.Profiles {
			if _, ok := c.byName[p]; !ok {
				return nil, fmt.Errorf("scenario %q: unknown profile %q", sc.Name, p)
			}
		}
		if needs.reply != (sc.Reply != "") {
			return nil, fmt.Errorf("scenario %q: reply is %s", sc.Name, map[bool]string{true: "required", false: "not used"}[needs.reply])
		}
		if needs.size != (sc.Size > 0) || needs.maxErrors != (sc.MaxErrors > 0) {
			return nil, fmt.Errorf("scenario %q: size/max_errors given where not used, or missing", sc.Name)
		}
		if sc.Reply != "" {
			r, err := parseReply(sc.Reply)
			if err != nil {
				return nil, fmt.Errorf("scenario %q: %w", sc.Name, err)
			}
			sc.reply = r
		}
		sc.replies = map[string]replyTemplate{}
		for name, text := range sc.Replies {
			p, ok := c.byName[name]
			if !ok {
				return nil, fmt.Errorf("scenario %q: replies for unknown profile %q", sc.Name, name)
			}
			r, err := parseReply(text)
			if err != nil {
				return nil, fmt.Errorf("scenario %q, %s: %w", sc.Name, name, err)
			}
			if err := checkPlaceholders(text, profileKnows(p)); err != nil {
				return nil, fmt.Errorf("scenario %q, %s: %w", sc.Name, name, err)
			}
			sc.replies[name] = r
		}
		// The default reply may be sent by any profile it applies to
		// without an override, so it may use only their common names.
		for _, p := range c.profiles {
			if _, over := sc.replies[p.Name]; sc.Reply == "" || over || !sc.appliesTo(p.Name) {
				continue
			}
			if err := checkPlaceholders(sc.Reply, profileKnows(p)); err != nil {
				return nil, fmt.Errorf("scenario %q, default reply for %s: %w", sc.Name, p.Name, err)
			}
		}
	}
	for name := range scenarioNeeds {
		if !seen[name] {
			return nil, fmt.Errorf("scenario %q is implemented but not listed", name)
		}
	}
	return list, nil
}

func profileKnows(p *profile) func(string) bool {
	return func(name string) bool {
		if _, ok := builtinNames[name]; ok {
			return true
		}
		for _, v := range p.Vars {
			if v.name == name {
				return true
			}
		}
		for _, v := range p.MessageVars {
			if v.name == name {
				return true
			}
		}
		return false
	}
}

func (sc *scenario) appliesTo(profile string) bool {
	return len(sc.Profiles) == 0 || slices.Contains(sc.Profiles, profile)
}

// replyFor is the scenario's reply as the given provider words it.
func (sc *scenario) replyFor(profile string) replyTemplate {
	if r, ok := sc.replies[profile]; ok {
		return r
	}
	return sc.reply
}

// ScenarioInfo describes one practice scenario.
type ScenarioInfo struct {
	Name        string
	Description string
	Profiles    []string // the profiles it changes; empty means all of them
}

// Scenarios lists the practice scenarios in the order of scenarios.yaml.
func Scenarios() []ScenarioInfo {
	var out []ScenarioInfo
	for _, sc := range mustCatalog().scenarios {
		out = append(out, ScenarioInfo{Name: sc.Name, Description: sc.Description, Profiles: slices.Clone(sc.Profiles)})
	}
	return out
}

// findScenario returns the named scenario or an error that lists the valid
// names and suggests the closest one.
func (c *catalog) findScenario(name string) (*scenario, error) {
	var names []string
	for _, sc := range c.scenarios {
		if sc.Name == name {
			return sc, nil
		}
		names = append(names, sc.Name)
	}
	msg := fmt.Sprintf("sandbox: unknown scenario %q", name)
	if best := suggest.Closest(name, names); best != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", best)
	}
	return nil, fmt.Errorf("%s; valid scenarios: %s", msg, strings.Join(names, ", "))
}
