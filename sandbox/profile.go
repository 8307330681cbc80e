package sandbox

import (
	"bytes"
	"embed"
	"fmt"
	"net"
	"path"
	"slices"
	"sort"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"

	"github.com/smtprun/smtprun/internal/provider"
	"github.com/smtprun/smtprun/internal/sasl"
	"github.com/smtprun/smtprun/internal/smtp"
	"github.com/smtprun/smtprun/sandbox/oauthsim"
)

//go:embed profiles/*.yaml
var profileFiles embed.FS

// replyKeys are the replies every profile must define, with what they
// answer. The session only ever sends these (plus scenario replies).
var replyKeys = map[string]string{
	"greeting":            "on connect (after the TLS handshake on port 465)",
	"helo":                "HELO",
	"ehlo":                "EHLO before TLS",
	"ehlo_tls":            "EHLO after TLS (and on port 465)",
	"starttls":            "STARTTLS accepted",
	"starttls_already":    "STARTTLS when TLS is already on, or not offered",
	"auth_prompt_user":    "AUTH LOGIN username prompt",
	"auth_prompt_pass":    "AUTH LOGIN password prompt",
	"auth_prompt_plain":   "AUTH PLAIN / XOAUTH2 without an initial response",
	"auth_ok":             "AUTH succeeded",
	"auth_failed":         "AUTH with wrong credentials",
	"auth_locked":         "AUTH after max_auth_failures failures on the connection, unchecked; a 421 hangs up",
	"auth_cancelled":      "the client answered a prompt with *",
	"auth_bad_base64":     "a response that is not base64",
	"auth_unsupported":    "an AUTH mechanism the server does not offer",
	"auth_already":        "AUTH after a successful AUTH",
	"auth_not_enabled":    "AUTH where it is not offered",
	"must_starttls":       "AUTH or MAIL before STARTTLS where TLS is required",
	"auth_required":       "MAIL without AUTH on a submission port",
	"need_helo":           "MAIL/AUTH before HELO/EHLO",
	"need_mail":           "RCPT before MAIL",
	"need_rcpt":           "DATA/BDAT before RCPT",
	"nested_mail":         "MAIL inside a transaction",
	"helo_syntax":         "HELO/EHLO without a name",
	"mail_syntax":         "MAIL with a bad argument",
	"rcpt_syntax":         "RCPT with a bad argument",
	"syntax":              "other commands with bad arguments",
	"mail_ok":             "MAIL accepted",
	"rcpt_ok":             "RCPT accepted",
	"data_start":          "DATA accepted, send the message",
	"data_ok":             "message accepted",
	"bdat_chunk":          "a BDAT chunk that is not the last",
	"size_exceeded":       "MAIL with SIZE= over the limit",
	"message_too_big":     "message data over the limit",
	"relay_denied":        "RCPT to a foreign domain without AUTH on port 25",
	"bare_lf":             "a bare LF in the message, when bare_lf is reject",
	"too_many_errors":     "too many errors: sent, then the server hangs up",
	"too_many_recipients": "more RCPTs than max_recipients",
	"timeout":             "the client was idle too long: sent, then the server hangs up",
	"unknown_command":     "a command the server does not know",
	"line_too_long":       "a command line over max_line bytes",
	"save_failed":         "the message could not be stored (SaveDir)",
	"rset":                "RSET",
	"noop":                "NOOP",
	"vrfy":                "VRFY",
	"quit":                "QUIT",
}

// optionalReplyKeys are replies a profile defines only with the setting
// that uses them.
var optionalReplyKeys = map[string]string{
	"unsupported_option":  "MAIL/RCPT with a parameter the server does not know, with unsupported_options: reject",
	"forbidden_command":   "a command that looks like a message header line or HTTP (CONNECT, GET, POST), with forbidden_commands: true; the server hangs up",
	"no_valid_recipients": "DATA after every RCPT was refused, with auth_at_rcpt: true",
	"auth_malformed":      "an AUTH PLAIN response that is not authzid NUL authcid NUL password (without it, auth_failed)",
}

// orderedVars is a YAML mapping that keeps its order: a var may refer to
// the vars before it.
type orderedVars []struct{ name, value string }

func (o *orderedVars) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: want a mapping of name: template", n.Line)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		*o = append(*o, struct{ name, value string }{n.Content[i].Value, n.Content[i+1].Value})
	}
	return nil
}

// profile is one provider, as read from profiles/NAME.yaml.
type profile struct {
	Name        string   `yaml:"name"`
	Description string   `yaml:"description"`
	Generic     bool     `yaml:"generic"`
	DefaultHost string   `yaml:"default_host"`
	Hosts       []string `yaml:"-"` // from internal/provider's catalogue
	// Ports: a brand's come from the catalogue; only the generic profile
	// lists its own.
	Ports    []int    `yaml:"ports"`
	IP       string   `yaml:"ip"`
	Size     int64    `yaml:"size"`
	Domains  []string `yaml:"domains"`
	Practice struct {
		User     string `yaml:"user"`
		Password string `yaml:"password"`
	} `yaml:"practice"`
	Mechanisms []string `yaml:"mechanisms"`
	RequireTLS bool     `yaml:"require_tls"`
	BareLF     string   `yaml:"bare_lf"`
	// How strict the server is where real servers differ (the strict
	// scenario makes every profile strict): helo_optional lets MAIL and
	// AUTH come before any HELO/EHLO, and after STARTTLS without a new
	// one (Postfix's smtpd_helo_required=no); lenient_paths accepts
	// "MAIL FROM: a@b" without angle brackets (strict_rfc821_envelopes=no).
	HeloOptional bool `yaml:"helo_optional"`
	LenientPaths bool `yaml:"lenient_paths"`
	// UnsupportedOptions: "ignore" (the default) or "reject" (Postfix's
	// 555 5.5.4 Unsupported option: FOO=BAR).
	UnsupportedOptions string `yaml:"unsupported_options"`
	// ForbiddenCommands: a command line that looks like a header
	// ("Subject: hi") or like HTTP gets the forbidden_command reply and
	// the server hangs up (Postfix's smtpd_forbidden_commands).
	ForbiddenCommands bool `yaml:"forbidden_commands"`
	// TLSGatesTransaction: where TLS is required, RCPT and DATA before
	// STARTTLS get must_starttls too, not only MAIL and AUTH (Postfix's
	// smtpd_tls_security_level=encrypt, checked against Postfix 3.7).
	TLSGatesTransaction bool `yaml:"tls_gates_transaction"`
	// AuthAtRcpt: on a submission port, MAIL without AUTH is accepted and
	// each RCPT is refused with auth_required instead, as Postfix's
	// smtpd_recipient_restrictions=permit_sasl_authenticated,reject does;
	// DATA after refused recipients gets no_valid_recipients.
	AuthAtRcpt bool `yaml:"auth_at_rcpt"`
	// HeloCloses: HELO/EHLO without a name gets helo_syntax and the server
	// hangs up (Gmail).
	HeloCloses  bool              `yaml:"helo_closes"`
	MaxErrors   int               `yaml:"max_errors"`
	MaxAuthFail int               `yaml:"max_auth_failures"`
	MaxLine     int               `yaml:"max_line"`
	MaxRcpts    int               `yaml:"max_recipients"`
	Vars        orderedVars       `yaml:"vars"`
	MessageVars orderedVars       `yaml:"message_vars"`
	Replies     map[string]string `yaml:"replies"`
	// OAuth, where set, makes the sandbox issue tokens for this provider
	// and check XOAUTH2/OAUTHBEARER against them (package oauthsim).
	OAuth *oauthsim.Provider `yaml:"oauth"`

	ip      net.IP
	replies map[string]replyTemplate
}

func (p *profile) primaryHost() string {
	if len(p.Hosts) > 0 {
		return p.Hosts[0]
	}
	return p.DefaultHost
}

// catalog is every profile and scenario, loaded once from the embedded
// files.
type catalog struct {
	profiles  []*profile
	byName    map[string]*profile
	byHost    map[string]*profile
	generic   *profile
	scenarios []*scenario
}

var loadCatalog = sync.OnceValues(func() (*catalog, error) {
	c := &catalog{byName: map[string]*profile{}, byHost: map[string]*profile{}}
	entries, err := profileFiles.ReadDir("profiles")
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		file := path.Join("profiles", e.Name())
		data, err := profileFiles.ReadFile(file)
		if err != nil {
			return nil, err
		}
		p, err := parseProfile(data)
		if err != nil {
			return nil, fmt.Errorf("sandbox: %s: %w", file, err)
		}
		if _, dup := c.byName[p.Name]; dup {
			return nil, fmt.Errorf("sandbox: %s: profile %q defined twice", file, p.Name)
		}
		c.byName[p.Name] = p
		c.profiles = append(c.profiles, p)
		if p.Generic {
			if c.generic != nil {
				return nil, fmt.Errorf("sandbox: %s: two generic profiles", file)
			}
			c.generic = p
		}
		for _, h := range p.Hosts {
			h = normalizeHost(h)
			if other, dup := c.byHost[h]; dup {
				return nil, fmt.Errorf("sandbox: %s: host %s already belongs to %s", file, h, other.Name)
			}
			c.byHost[h] = p
		}
	}
	if c.generic == nil {
		return nil, fmt.Errorf("sandbox: no generic profile")
	}
	sort.Slice(c.profiles, func(i, j int) bool { return c.profiles[i].Name < c.profiles[j].Name })
	c.scenarios, err = parseScenarios(scenarioFile, c)
	if err != nil {
		return nil, fmt.Errorf("sandbox: scenarios.yaml: %w", err)
	}
	return c, nil
})

// mustCatalog returns the embedded catalog. The files are part of the
// binary and checked by the tests, so a broken one is a programming error.
func mustCatalog() *catalog {
	c, err := loadCatalog()
	if err != nil {
		panic(err)
	}
	return c
}

func parseProfile(data []byte) (*profile, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	p := &profile{}
	if err := dec.Decode(p); err != nil {
		return nil, err
	}
	if p.Name == "" || p.Description == "" {
		return nil, fmt.Errorf("name and description are required")
	}
	// A provider's hosts are the shared catalogue's, for the brand the
	// profile is named after; the generic profile serves every other name.
	p.Hosts = provider.BrandHosts(p.Name)
	if p.Generic == (len(p.Hosts) > 0) {
		return nil, fmt.Errorf("a profile is either generic or named after a brand with hosts in internal/provider/providers.yaml")
	}
	if p.Generic && p.DefaultHost == "" {
		return nil, fmt.Errorf("a generic profile needs default_host")
	}
	if err := p.portsFromCatalogue(); err != nil {
		return nil, err
	}
	if p.ip = net.ParseIP(p.IP); p.ip == nil || p.ip.IsLoopback() {
		return nil, fmt.Errorf("ip %q: want a non-loopback address", p.IP)
	}
	if p.Size <= 0 || p.MaxLine < 512 || p.MaxRcpts <= 0 || p.MaxErrors < 0 || p.MaxAuthFail < 0 {
		return nil, fmt.Errorf("size, max_line (>= 512, RFC 5321 4.5.3.1.4) and max_recipients are required")
	}
	if p.BareLF != "accept" && p.BareLF != "reject" {
		return nil, fmt.Errorf("bare_lf: want accept or reject, not %q", p.BareLF)
	}
	switch p.UnsupportedOptions {
	case "":
		p.UnsupportedOptions = "ignore"
	case "ignore", "reject":
	default:
		return nil, fmt.Errorf("unsupported_options: want ignore or reject, not %q", p.UnsupportedOptions)
	}
	if p.Practice.User == "" || p.Practice.Password == "" {
		return nil, fmt.Errorf("practice user and password are required")
	}
	for i, m := range p.Mechanisms {
		p.Mechanisms[i] = strings.ToUpper(m)
		if _, ok := sasl.Lookup(m); !ok {
			return nil, fmt.Errorf("mechanism %s is not implemented (have %v)", m, sasl.Names())
		}
	}
	if o := p.OAuth; o != nil {
		if o.TokenPrefix == "" || o.RefreshPrefix == "" || o.Title == "" {
			return nil, fmt.Errorf("oauth: token_prefix, refresh_prefix and title are required")
		}
		real, ok := provider.BrandOAuth(p.Name)
		if !ok {
			return nil, fmt.Errorf("oauth: brand %s has no oauth entry in internal/provider/providers.yaml to emulate", p.Name)
		}
		o.Scope = real.Scope
		o.Name = p.Name
	}
	known := profileKnows(p)
	for _, v := range append(append(orderedVars{}, p.Vars...), p.MessageVars...) {
		if err := checkPlaceholders(v.value, known); err != nil {
			return nil, fmt.Errorf("var %s: %w", v.name, err)
		}
	}
	for _, d := range p.Domains {
		if err := checkPlaceholders(d, known); err != nil {
			return nil, fmt.Errorf("domains: %w", err)
		}
	}
	if err := p.parseReplies(known); err != nil {
		return nil, err
	}
	return p, nil
}

// parseReplies checks the profile's replies: every key of replyKeys and
// no other, well-formed lines, known placeholders, and EHLO replies that
// offer STARTTLS before TLS and not after.
func (p *profile) parseReplies(known func(string) bool) error {
	p.replies = map[string]replyTemplate{}
	for key, text := range p.Replies {
		_, required := replyKeys[key]
		if _, optional := optionalReplyKeys[key]; !required && !optional {
			return fmt.Errorf("replies: unknown key %q", key)
		}
		r, text, err := parseNamedReply(text)
		if err != nil {
			return fmt.Errorf("replies.%s: %w", key, err)
		}
		if err := checkPlaceholders(text, known); err != nil {
			return fmt.Errorf("replies.%s: %w", key, err)
		}
		p.replies[key] = r
	}
	var missing []string
	for key := range replyKeys {
		if _, ok := p.replies[key]; !ok {
			missing = append(missing, key)
		}
	}
	if _, ok := p.replies["unsupported_option"]; !ok && p.UnsupportedOptions == "reject" {
		missing = append(missing, "unsupported_option")
	}
	if _, ok := p.replies["forbidden_command"]; !ok && p.ForbiddenCommands {
		missing = append(missing, "forbidden_command")
	}
	if _, ok := p.replies["no_valid_recipients"]; !ok && p.AuthAtRcpt {
		missing = append(missing, "no_valid_recipients")
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return fmt.Errorf("replies: missing %s", strings.Join(missing, ", "))
	}
	for _, key := range []string{"ehlo", "ehlo_tls"} {
		if p.replies[key].code != 250 {
			return fmt.Errorf("replies.%s: want a 250 reply", key)
		}
	}
	if !p.replies["ehlo"].capabilities().Has(smtp.CmdSTARTTLS) {
		return fmt.Errorf("replies.ehlo: STARTTLS is not offered")
	}
	if p.replies["ehlo_tls"].capabilities().Has(smtp.CmdSTARTTLS) {
		return fmt.Errorf("replies.ehlo_tls: offers STARTTLS after TLS (RFC 3207 4.2)")
	}
	return nil
}

func normalizeHost(h string) string { return provider.NormalizeHost(h) }

// profileForHost picks the provider a host name belongs to; any other name
// gets the generic profile.
func (c *catalog) profileForHost(host string) *profile {
	if p, ok := c.byHost[normalizeHost(host)]; ok {
		return p
	}
	return c.generic
}

// portsFromCatalogue sets a brand profile's ports from the provider
// catalogue, each of which the sandbox must serve as the real host does:
// DialContext picks the mode by the port alone (ModeForPort), so a port
// whose TLS the catalogue gives otherwise cannot be emulated.
func (p *profile) portsFromCatalogue() error {
	if p.Generic {
		if len(p.Ports) == 0 {
			return fmt.Errorf("a generic profile lists its ports")
		}
		return nil
	}
	if len(p.Ports) > 0 {
		return fmt.Errorf("ports: a brand's ports are in internal/provider/providers.yaml, not here")
	}
	for _, pt := range provider.BrandPorts(p.Name) {
		if (pt.TLS == provider.ImplicitTLS) != (ModeForPort(pt.Number) == ImplicitTLS) {
			return fmt.Errorf("port %d: the catalogue says %s TLS, the sandbox serves it as %s", pt.Number, pt.TLS, ModeForPort(pt.Number))
		}
		p.Ports = append(p.Ports, pt.Number)
	}
	return nil
}

// ProfileInfo describes one emulated provider.
type ProfileInfo struct {
	Name        string
	Description string
	Hosts       []string // host names that select it; empty for the generic profile
	Ports       []int    // the ports the real provider listens on
	IP          string   // the address the sandbox's connections claim as remote address
	Generic     bool     // used for every host name no other profile lists
}

// Profiles lists the emulated providers, sorted by name.
func Profiles() []ProfileInfo {
	var out []ProfileInfo
	for _, p := range mustCatalog().profiles {
		out = append(out, ProfileInfo{
			Name:        p.Name,
			Description: p.Description,
			Hosts:       slices.Clone(p.Hosts),
			Ports:       slices.Clone(p.Ports),
			IP:          p.IP,
			Generic:     p.Generic,
		})
	}
	return out
}

// ProfileForHost returns the name of the profile DialContext uses for a
// host name.
func ProfileForHost(host string) string {
	return mustCatalog().profileForHost(host).Name
}

// PracticeCredentials returns the user name and password the profile
// accepts out of the box, or "", "" for an unknown profile.
func PracticeCredentials(profile string) (user, pass string) {
	p, ok := mustCatalog().byName[profile]
	if !ok {
		return "", ""
	}
	return p.Practice.User, p.Practice.Password
}
