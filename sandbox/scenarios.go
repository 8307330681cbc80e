package sandbox

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/smtprun/smtprun/internal/sasl"
	"github.com/smtprun/smtprun/internal/suggest"
	"github.com/smtprun/smtprun/sandbox/oauthsim"
	"go.yaml.in/yaml/v3"
)

//go:embed scenarios.yaml
var scenarioFile []byte

// behaviour is what a scenario changes in a session, hook by hook. A nil
// hook (or a false flag) leaves that point of the session as the profile
// has it; the session calls the hooks of its scenario and nothing else
// decides by scenario name, so this table is the whole of what scenarios
// do.
type behaviour struct {
	// What the scenario needs from scenarios.yaml.
	needsReply, needsSize, needsMaxErrors bool

	// beforeReply runs before every reply; false ends the session (the
	// sandbox is closing).
	beforeReply func(ss *session) bool
	// sizeLimit and maxErrors replace the profile's limits.
	sizeLimit func(sc *scenario) int64
	maxErrors func(sc *scenario) int
	// strict: HELO/EHLO before MAIL and AUTH (and again after
	// STARTTLS), angle brackets around addresses, no bare LF in a message:
	// what Postfix 3.7 lets pass by default and many real servers refuse.
	strict bool
	// requireTLS: AUTH and MAIL only after STARTTLS on every port, and
	// EHLO before TLS does not offer AUTH.
	requireTLS bool
	// startTLS answers a STARTTLS the profile would accept; true if it did.
	startTLS func(ss *session) bool
	// handshakeFails makes every TLS handshake fail (port 465).
	handshakeFails bool
	// rcpt answers a RCPT the profile would accept; true if it did.
	rcpt func(ss *session, addr string, local bool) bool
	// auth decides a complete AUTH exchange: valid is the profile's
	// verdict; answered says the hook has replied itself.
	auth func(ss *session, user, pass string, valid bool) (ok, answered bool)
	// message answers the end of a message the profile would accept; true
	// if it did.
	message func(ss *session, size int64) bool
	// helo answers a HELO/EHLO with a name; true if it did (the server
	// then hangs up).
	helo func(ss *session, name string) bool
	// token changes the issuer's verdict on an OAuth token.
	token func(v oauthsim.Verdict) oauthsim.Verdict
}

// behaviours are the scenarios the session knows how to play. A name in
// scenarios.yaml that is not here (or the other way round) is an error
// when the catalog loads.
// Built on first use, like the catalog that reads it.
var behaviours = sync.OnceValue(func() map[string]*behaviour {
	return map[string]*behaviour{
		"auth-disabled": {
			needsReply: true,
			auth: func(ss *session, _, _ string, _ bool) (bool, bool) {
				ss.scenarioReply()
				return false, true
			},
		},
		"app-password-required": {
			needsReply: true,
			// Two-step verification: the account password no longer works for
			// SMTP; an app password (16 letters, shown in groups of four) does,
			// for any user name, like the practice password. CRAM-MD5 never
			// shows the password, so it cannot pass.
			auth: func(ss *session, user, pass string, _ bool) (bool, bool) {
				if user != "" && isAppPassword(pass) {
					return true, false
				}
				ss.scenarioReply()
				return false, true
			},
		},
		"bad-credentials": {
			auth: func(*session, string, string, bool) (bool, bool) { return false, false },
		},
		"must-starttls": {requireTLS: true},
		"strict":        {strict: true},
		"relay-denied": {
			rcpt: func(ss *session, _ string, local bool) bool {
				if !local {
					ss.reply("relay_denied")
				}
				return !local
			},
		},
		"greylisted": {
			needsReply: true,
			rcpt: func(ss *session, addr string, _ bool) bool {
				if ss.sb.greylistPass(ss.from, addr) {
					return false
				}
				ss.scenarioReply()
				return true
			},
		},
		"mailbox-full": {
			needsReply: true,
			rcpt: func(ss *session, _ string, _ bool) bool {
				ss.scenarioReply()
				return true
			},
		},
		"message-too-large": {
			needsSize: true,
			sizeLimit: func(sc *scenario) int64 { return sc.Size },
		},
		"tls-unavailable": {
			needsReply: true,
			startTLS: func(ss *session) bool {
				ss.scenarioReply()
				return true
			},
			handshakeFails: true,
		},
		"too-many-errors": {
			needsMaxErrors: true,
			maxErrors:      func(sc *scenario) int { return sc.MaxErrors },
		},
		"drop-after-data": {
			message: func(ss *session, size int64) bool {
				ss.emit(Note, fmt.Sprintf("scenario %s: message of %d bytes dropped, closing without a reply", ss.sc.Name, size))
				ss.hangUp(errors.New("dropped after DATA (scenario)"))
				return true
			},
		},
		"slow": {
			beforeReply: func(ss *session) bool { return ss.sb.sleep(ss.sb.opts.SlowDelay) },
		},
		// Exchange Online with Basic authentication off, security defaults or
		// a policy against password logins; Gmail holding an account for a
		// sign-in on the web: a password login (LOGIN, PLAIN) is refused once
		// sent, XOAUTH2 goes on as usual.
		"basic-auth-retired": {needsReply: true, auth: refusePasswords},
		"security-defaults":  {needsReply: true, auth: refusePasswords},
		"auth-policy":        {needsReply: true, auth: refusePasswords},
		"web-login-required": {needsReply: true, auth: refusePasswords},
		"suspicious-signin":  {needsReply: true, auth: refusePasswords},
		"ehlo-rejected": {
			needsReply: true,
			// smtp-relay.gmail.com refuses a name that says nothing about the
			// client: localhost, or an address literal such as [127.0.0.1].
			helo: func(ss *session, name string) bool {
				if !strings.EqualFold(name, "localhost") && !strings.HasPrefix(name, "[") {
					return false
				}
				ss.scenarioReply()
				return true
			},
		},
		"token-expired": {
			token: func(v oauthsim.Verdict) oauthsim.Verdict {
				if v == oauthsim.Valid {
					return oauthsim.Expired
				}
				return v
			},
		},
		"wrong-scope": {
			token: func(v oauthsim.Verdict) oauthsim.Verdict {
				if v == oauthsim.Valid {
					return oauthsim.WrongScope
				}
				return v
			},
		},
	}
})

func refusePasswords(ss *session, _, _ string, valid bool) (bool, bool) {
	if sasl.IsOAuth(ss.authMech) {
		return valid, false
	}
	ss.scenarioReply()
	return false, true
}

// noBehaviour is the session's hooks without a scenario.
var noBehaviour = &behaviour{}

// scenario is one entry of scenarios.yaml.
type scenario struct {
	Name        string            `yaml:"name"`
	Description string            `yaml:"description"`
	Profiles    []string          `yaml:"profiles"`
	Reply       string            `yaml:"reply"`
	Replies     map[string]string `yaml:"replies"`
	Size        int64             `yaml:"size"`
	MaxErrors   int               `yaml:"max_errors"`
	// HostReplies override the reply for a host name the client
	// connected to, where one profile serves two kinds of account
	// (smtp-mail.outlook.com for personal Outlook.com accounts).
	HostReplies map[string]string `yaml:"host_replies"`

	hooks       *behaviour
	reply       replyTemplate
	replies     map[string]replyTemplate
	hostReplies map[string]replyTemplate
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
		b, ok := behaviours()[sc.Name]
		sc.hooks = b
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
		if b.needsReply != (sc.Reply != "") {
			return nil, fmt.Errorf("scenario %q: reply is %s", sc.Name, map[bool]string{true: "required", false: "not used"}[b.needsReply])
		}
		if b.needsSize != (sc.Size > 0) || b.needsMaxErrors != (sc.MaxErrors > 0) {
			return nil, fmt.Errorf("scenario %q: size/max_errors given where not used, or missing", sc.Name)
		}
		if sc.Reply != "" {
			r, text, err := parseNamedReply(sc.Reply)
			if err != nil {
				return nil, fmt.Errorf("scenario %q: %w", sc.Name, err)
			}
			sc.reply, sc.Reply = r, text
		}
		sc.hostReplies = map[string]replyTemplate{}
		for host, text := range sc.HostReplies {
			r, _, err := parseNamedReply(text)
			if err != nil {
				return nil, fmt.Errorf("scenario %q, host %s: %w", sc.Name, host, err)
			}
			sc.hostReplies[strings.ToLower(host)] = r
		}
		sc.replies = map[string]replyTemplate{}
		for name, text := range sc.Replies {
			p, ok := c.byName[name]
			if !ok {
				return nil, fmt.Errorf("scenario %q: replies for unknown profile %q", sc.Name, name)
			}
			r, text, err := parseNamedReply(text)
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
	for name := range behaviours() {
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
