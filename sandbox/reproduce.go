package sandbox

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/smtprun/smtprun/internal/replies"
)

// Reproduction is a way to make the sandbox send one reply of the
// catalogue (internal/replies): the profile and scenario that send it and
// the conversation that leads to it.
type Reproduction struct {
	Reply    string // the catalogue name
	Profile  string
	Host     string // a host name that selects the profile
	Port     int
	Scenario string // "" when the profile sends it without one
	// Fault is a fault plan (`# fault:` in the script's header) that
	// makes the sandbox send the reply where no scenario does; "" for the
	// profile's and the scenarios' own replies.
	Fault string
	Steps []Step // the last step's reply is the one reproduced
	// Closes: the server hangs up after the reply. Stops: the script
	// ends after the reply without QUIT (the server waits for a TLS
	// handshake).
	Closes, Stops bool
}

// Step is one client step of a reproduction.
type Step struct {
	Op   string // StepConnect, StepSend, StepStartTLS or StepAuthLogin
	Line string // StepSend: the command line
	// Password, for StepAuthLogin: WrongPassword, or "" for the practice
	// account's own.
	Password string
	Code     int // the code the step's reply has
}

// Steps of a reproduction.
const (
	StepConnect   = "connect"
	StepSend      = "send"
	StepStartTLS  = "starttls"
	StepAuthLogin = "auth-login"
	StepMessage   = "message" // the message data, after DATA's 354
)

// WrongPassword is what a reproduction logs in with to be refused.
const WrongPassword = "not-the-password"

const clientName = "smtprun.localhost"

// prelude is connect, EHLO, STARTTLS, EHLO: a submission client ready to
// log in.
func prelude() []Step {
	return []Step{
		{Op: StepConnect, Code: 220},
		{Op: StepSend, Line: "EHLO " + clientName, Code: 250},
		{Op: StepStartTLS, Code: 220},
		{Op: StepSend, Line: "EHLO " + clientName, Code: 250},
	}
}

func loggedInSteps() []Step {
	return append(prelude(), Step{Op: StepAuthLogin, Code: 235})
}

// profileTriggers are the conversations that make a profile send the
// reply of each key; a key without one is not reproduced by a script.
func profileTriggers() map[string]func(p *profile) []Step {
	return map[string]func(p *profile) []Step{
		"greeting": func(*profile) []Step { return []Step{{Op: StepConnect}} },
		"ehlo": func(*profile) []Step {
			return []Step{{Op: StepConnect, Code: 220}, {Op: StepSend, Line: "EHLO " + clientName}}
		},
		"ehlo_tls": func(*profile) []Step { return prelude() },
		// A plain send, not the starttls step: an expect then sees the 220.
		"starttls": func(*profile) []Step { return append(prelude()[:2], Step{Op: StepSend, Line: "STARTTLS"}) },
		"helo": func(*profile) []Step {
			return []Step{{Op: StepConnect, Code: 220}, {Op: StepSend, Line: "HELO " + clientName}}
		},
		"auth_ok": func(*profile) []Step { return loggedInSteps() },
		"mail_ok": func(p *profile) []Step {
			return append(loggedInSteps(), Step{Op: StepSend, Line: "MAIL FROM:<" + p.Practice.User + ">"})
		},
		"rcpt_ok": func(p *profile) []Step {
			return append(loggedInSteps(),
				Step{Op: StepSend, Line: "MAIL FROM:<" + p.Practice.User + ">", Code: 250},
				Step{Op: StepSend, Line: "RCPT TO:<" + p.Practice.User + ">"})
		},
		"must_starttls": func(*profile) []Step {
			return []Step{{Op: StepConnect, Code: 220}, {Op: StepSend, Line: "EHLO " + clientName, Code: 250}, {Op: StepSend, Line: "AUTH LOGIN"}}
		},
		"helo_syntax": func(*profile) []Step {
			return []Step{{Op: StepConnect, Code: 220}, {Op: StepSend, Line: "EHLO"}}
		},
		"auth_failed": func(*profile) []Step {
			return append(prelude(), Step{Op: StepAuthLogin, Password: WrongPassword})
		},
		"auth_locked": func(p *profile) []Step {
			// After the failures AUTH is answered at once, credentials unread.
			steps := prelude()
			for range p.MaxAuthFail {
				steps = append(steps, Step{Op: StepAuthLogin, Password: WrongPassword, Code: p.replies["auth_failed"].code})
			}
			return append(steps, Step{Op: StepSend, Line: "AUTH LOGIN"})
		},
		"auth_bad_base64": func(*profile) []Step {
			return append(prelude(), Step{Op: StepSend, Line: "AUTH PLAIN !!!"})
		},
		"auth_required": func(p *profile) []Step {
			return append(prelude(), Step{Op: StepSend, Line: "MAIL FROM:<" + p.Practice.User + ">"})
		},
		"mail_syntax": func(p *profile) []Step {
			return append(loggedInSteps(), Step{Op: StepSend, Line: "MAIL FROM:" + p.Practice.User})
		},
		"rcpt_syntax": func(p *profile) []Step {
			return append(loggedInSteps(),
				Step{Op: StepSend, Line: "MAIL FROM:<" + p.Practice.User + ">", Code: 250},
				Step{Op: StepSend, Line: "RCPT TO:" + p.Practice.User})
		},
	}
}

// scenarioTriggers: the conversation that makes a scenario send its
// reply.
func scenarioTriggers() map[string]func(p *profile) []Step {
	return map[string]func(p *profile) []Step{
		"ehlo-rejected": func(*profile) []Step {
			return []Step{{Op: StepConnect, Code: 220}, {Op: StepSend, Line: "EHLO localhost"}}
		},
	}
}

// passwordScenarios send their reply to a password login, the right one
// included.
var passwordScenarios = []string{"auth-disabled", "app-password-required", "basic-auth-retired", "security-defaults", "auth-policy", "web-login-required", "suspicious-signin"}

// closingKeys are replies after which the server hangs up.
func closes(p *profile, key, scenario string) bool {
	switch {
	case scenario == "ehlo-rejected":
		return true
	case key == "helo_syntax":
		return p.HeloCloses
	case key == "auth_locked":
		return p.replies["auth_locked"].code == 421
	}
	return false
}

// Reproductions lists every catalogue reply the sandbox sends, each with
// a conversation that makes it send it, sorted by reply name; a reply two
// profiles send (Yahoo's and AOL's) is listed once for each.
func Reproductions() []Reproduction {
	c := mustCatalog()
	var out []Reproduction
	add := func(p *profile, host, key, scenario, name string, steps []Step) {
		steps[len(steps)-1].Code = 0
		out = append(out, Reproduction{
			Reply: name, Profile: p.Name, Host: host, Port: 587, Scenario: scenario,
			Steps: steps, Closes: closes(p, key, scenario), Stops: key == "starttls",
		})
	}
	for _, p := range c.profiles {
		if len(p.Hosts) == 0 {
			continue
		}
		for key, r := range p.replies {
			if trigger, ok := profileTriggers()[key]; ok && r.catalogue != "" {
				add(p, p.Hosts[0], key, "", r.catalogue, trigger(p))
			}
		}
		for _, sc := range c.scenarios {
			if !sc.appliesTo(p.Name) {
				continue
			}
			name := sc.replyFor(p.Name).catalogue
			if name == "" {
				continue
			}
			switch {
			case slices.Contains(passwordScenarios, sc.Name):
				add(p, p.Hosts[0], "", sc.Name, name, append(prelude(), Step{Op: StepAuthLogin}))
				for host, r := range sc.hostReplies {
					if r.catalogue != "" && slices.Contains(p.Hosts, host) {
						add(p, host, "", sc.Name, r.catalogue, append(prelude(), Step{Op: StepAuthLogin}))
					}
				}
			case scenarioTriggers()[sc.Name] != nil:
				add(p, p.Hosts[0], "", sc.Name, name, scenarioTriggers()[sc.Name](p))
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Reply != out[j].Reply {
			return out[i].Reply < out[j].Reply
		}
		return out[i].Scenario < out[j].Scenario
	})
	return out
}

// ReproductionsOf returns the reproductions of one catalogue reply, the
// one without a scenario first.
func ReproductionsOf(name string) []Reproduction {
	var out []Reproduction
	for _, r := range Reproductions() {
		if r.Reply == name {
			out = append(out, r)
		}
	}
	return out
}

// Pattern is a regexp for the text of a reply made from template, the
// way an expect step sees it: each line without its code, joined with
// \n; the variable parts match any text on their line.
func Pattern(template string) string {
	var lines []string
	for _, l := range strings.Split(template, "\n") {
		if len(l) >= 4 {
			l = l[4:]
		} else {
			l = ""
		}
		var b strings.Builder
		last := 0
		for _, m := range placeholderRE().FindAllStringIndex(l, -1) {
			b.WriteString(regexp.QuoteMeta(l[last:m[0]]))
			b.WriteString(".+?")
			last = m[1]
		}
		b.WriteString(regexp.QuoteMeta(l[last:]))
		lines = append(lines, b.String())
	}
	return "^" + strings.Join(lines, `\n`) + "$"
}

// Script is the reproduction as an smtprun script: run it with
// `smtprun --sandbox FILE` and the last expect passes only if the reply
// is the catalogue's, up to its variable parts.
func (rp Reproduction) Script() (string, error) {
	r, ok := replies.Lookup(rp.Reply)
	if !ok {
		return "", fmt.Errorf("no reply %q in the catalogue", rp.Reply)
	}
	var b strings.Builder
	if rp.Scenario != "" {
		fmt.Fprintf(&b, "# scenario: %s\n#\n", rp.Scenario)
	}
	if rp.Fault != "" {
		fmt.Fprintf(&b, "# fault: %s\n#\n", rp.Fault)
		for _, l := range wrap("No scenario sends this reply: the fault plan above makes the sandbox answer the command with it. At the provider, the cause is: "+r.Cause, 70) {
			fmt.Fprintf(&b, "# %s\n", l)
		}
		b.WriteString("#\n")
	}
	fmt.Fprintf(&b, "# Reproduces %s: %s\n", r.Name, firstLine(r.Lines))
	fmt.Fprintf(&b, "# Seen: %s\n", r.Provenance())
	fmt.Fprintf(&b, "#\n#   smtprun --sandbox THIS-FILE\n")
	for i, st := range rp.Steps {
		last := i == len(rp.Steps)-1
		switch st.Op {
		case StepConnect:
			fmt.Fprintf(&b, "connect %s\n", strconv.Quote(rp.Host+":"+strconv.Itoa(rp.Port)))
		case StepSend:
			fmt.Fprintf(&b, "send %s\n", strconv.Quote(st.Line))
		case StepStartTLS:
			b.WriteString("starttls\n")
			continue // starttls checks its own 220
		case StepMessage:
			fmt.Fprintf(&b, "message \"\"\"\nFrom: <${SMTP_USER}>\nTo: <${SMTP_USER}>\nSubject: reproduction of %s\n\nA message for the fault plan to refuse.\n\"\"\"\n", r.Name)
		case StepAuthLogin:
			pass := `"${SMTP_PASS}"`
			if st.Password != "" {
				pass = strconv.Quote(st.Password)
			}
			fmt.Fprintf(&b, "auth login \"${SMTP_USER}\" %s\n", pass)
		}
		switch {
		case last:
			fmt.Fprintf(&b, "expect %d /%s/\n", r.Code, strings.ReplaceAll(Pattern(r.Template), "/", `\/`))
		case st.Code != 0:
			fmt.Fprintf(&b, "expect %d\n", st.Code)
		}
	}
	switch {
	case rp.Closes:
		b.WriteString("# the server hangs up after this reply\n")
	case rp.Stops:
		b.WriteString("# the server now waits for a TLS handshake: the script ends here\n")
	default:
		b.WriteString("quit\n")
	}
	return b.String(), nil
}

func firstLine(lines []string) string {
	s := lines[0]
	if len(lines) > 1 {
		s += " ..."
	}
	return s
}

// FaultReproduction makes the sandbox send a catalogue reply that no
// profile or scenario sends, with a fault plan that answers the command
// the reply answers; false for a reply no fault plan can give (a
// greeting) or a provider the sandbox does not emulate.
func FaultReproduction(name string) (Reproduction, bool) {
	r, ok := replies.Lookup(name)
	if !ok {
		return Reproduction{}, false
	}
	p, ok := mustCatalog().byName[r.Provider]
	if !ok || len(p.Hosts) == 0 {
		return Reproduction{}, false
	}
	user := "<" + p.Practice.User + ">"
	var steps []Step
	verb := strings.ToLower(r.Command)
	switch r.Command {
	case "EHLO", "HELO":
		steps = []Step{{Op: StepConnect, Code: 220}, {Op: StepSend, Line: r.Command + " " + clientName}}
	case "STARTTLS":
		steps = append(prelude()[:2], Step{Op: StepSend, Line: "STARTTLS"})
	case "AUTH":
		steps = append(prelude(), Step{Op: StepAuthLogin})
	case "MAIL":
		steps = append(loggedInSteps(), Step{Op: StepSend, Line: "MAIL FROM:" + user})
	case "RCPT":
		steps = append(loggedInSteps(), Step{Op: StepSend, Line: "MAIL FROM:" + user, Code: 250}, Step{Op: StepSend, Line: "RCPT TO:" + user})
	case "DATA":
		verb = "message"
		steps = append(loggedInSteps(),
			Step{Op: StepSend, Line: "MAIL FROM:" + user, Code: 250},
			Step{Op: StepSend, Line: "RCPT TO:" + user, Code: 250},
			Step{Op: StepSend, Line: "DATA", Code: 354},
			Step{Op: StepMessage})
	default:
		return Reproduction{}, false
	}
	return Reproduction{
		Reply: r.Name, Profile: p.Name, Host: p.Hosts[0], Port: 587, Fault: verb + "=" + r.Name,
		Steps: steps, Closes: r.Code == 421, Stops: r.Command == "STARTTLS" && r.Code/100 == 2,
	}, true
}

// wrap breaks text into lines of at most width columns, at spaces.
func wrap(text string, width int) []string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(text) {
		if line != "" && len(line)+1+len(w) > width {
			lines = append(lines, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += w
	}
	return append(lines, line)
}
