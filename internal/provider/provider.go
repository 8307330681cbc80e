// Package provider is the one catalogue of the mail providers smtprun
// knows by name: what they are called (and what else people call them),
// their submission hosts, the ports those listen on and how each starts
// TLS, their OAuth 2.0 endpoints and the scope SMTP AUTH needs there, and
// how to recognize them from a host name, a banner or a reply. The
// sandbox, the knowledge base and `smtprun token` all read it, so
// "office365" in one and "microsoft" in the other are the same provider,
// and Gmail's scope is written once. The data is providers.yaml,
// embedded, with the source of each fact beside it.
package provider

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
)

//go:embed providers.yaml
var data []byte

// Provider is one mail provider.
type Provider struct {
	Name    string   // canonical, lower-case: "microsoft"
	Title   string   // for display: "Microsoft 365 / Outlook.com"
	Aliases []string // lower-case: "office365", "gmail", "aol", ...
	// Hosts are the submission hosts by brand, the brand being the name
	// or an alias ("aol" -> smtp.aol.com).
	Hosts map[string][]string
	// Ports are the submission ports of a brand's hosts.
	Ports map[string][]Port
	// OAuth is a brand's OAuth 2.0 authorization server, for the brands
	// that take bearer tokens over SMTP AUTH.
	OAuth  map[string]*OAuth
	detect *regexp.Regexp
}

// TLS is how a port starts TLS.
type TLS string

const (
	// StartTLS: plaintext first, then STARTTLS (RFC 3207).
	StartTLS TLS = "starttls"
	// ImplicitTLS: TLS from the first byte (RFC 8314 3.3).
	ImplicitTLS TLS = "implicit"
)

// Port is one port of a brand's submission hosts.
type Port struct {
	Number int `yaml:"port"`
	TLS    TLS `yaml:"tls"`
}

// OAuth is a brand's OAuth 2.0 authorization server as SMTP AUTH uses it
// (XOAUTH2, OAUTHBEARER).
type OAuth struct {
	// Scope is the scope a token needs for SMTP AUTH.
	Scope string `yaml:"scope"`
	// ExtraScopes are requested with it: offline_access brings Microsoft's
	// refresh token.
	ExtraScopes []string `yaml:"extra_scopes"`
	// The endpoints; TokenURL is empty where smtprun knows none, and
	// then `smtprun token` needs --issuer.
	AuthURL   string `yaml:"auth_url"`
	TokenURL  string `yaml:"token_url"`
	DeviceURL string `yaml:"device_url"`
	// Flow is how a command-line tool gets tokens there: "device" (RFC
	// 8628) or "code" (authorization code with PKCE and a loopback
	// redirect, RFC 7636 and RFC 8252).
	Flow string `yaml:"flow"`
	// NeedsSecret: the provider wants the client secret even from an
	// installed app.
	NeedsSecret bool `yaml:"needs_secret"`
	// Register says where a user registers their own app.
	Register string `yaml:"register"`
}

// Detects reports whether text (a reply, a banner, a host name) is
// recognizably the provider's.
func (p *Provider) Detects(text string) bool { return text != "" && p.detect.MatchString(text) }

type catalogue struct {
	list   []*Provider
	byName map[string]*Provider // names and aliases
	byHost map[string]*Provider
	brand  map[string]string // host -> brand
}

var load = sync.OnceValues(func() (*catalogue, error) { return parse(data) })

func must() *catalogue {
	c, err := load()
	if err != nil {
		panic("provider: providers.yaml: " + err.Error())
	}
	return c
}

func parse(b []byte) (*catalogue, error) {
	var file struct {
		Providers []struct {
			Name    string              `yaml:"name"`
			Title   string              `yaml:"title"`
			Aliases []string            `yaml:"aliases"`
			Hosts   map[string][]string `yaml:"hosts"`
			Ports   map[string][]Port   `yaml:"ports"`
			OAuth   map[string]*OAuth   `yaml:"oauth"`
			Detect  string              `yaml:"detect"`
		} `yaml:"providers"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&file); err != nil {
		return nil, err
	}
	c := &catalogue{byName: map[string]*Provider{}, byHost: map[string]*Provider{}, brand: map[string]string{}}
	var errs []error
	for i, f := range file.Providers {
		p := &Provider{Name: norm(f.Name), Title: f.Title, Hosts: map[string][]string{}, Ports: map[string][]Port{}, OAuth: map[string]*OAuth{}}
		bad := func(format string, a ...any) {
			errs = append(errs, fmt.Errorf("entry %d (%s): %s", i+1, f.Name, fmt.Sprintf(format, a...)))
		}
		if p.Name == "" || p.Title == "" || f.Detect == "" {
			bad("name, title and detect are required")
			continue
		}
		re, err := regexp.Compile("(?i)" + f.Detect)
		if err != nil {
			bad("detect: %v", err)
			continue
		}
		p.detect = re
		for _, n := range append([]string{f.Name}, f.Aliases...) {
			n = norm(n)
			if n == "" || c.byName[n] != nil {
				bad("empty or duplicate name or alias %q", n)
				continue
			}
			c.byName[n] = p
			if n != p.Name {
				p.Aliases = append(p.Aliases, n)
			}
		}
		for brand, hosts := range f.Hosts {
			brand = norm(brand)
			if c.byName[brand] != p {
				bad("hosts: brand %q is not the provider's name or an alias", brand)
			}
			for _, h := range hosts {
				h = NormalizeHost(h)
				if c.byHost[h] != nil {
					bad("host %s listed twice", h)
				}
				c.byHost[h], c.brand[h] = p, brand
				p.Hosts[brand] = append(p.Hosts[brand], h)
			}
		}
		for brand, ports := range f.Ports {
			brand = norm(brand)
			if len(p.Hosts[brand]) == 0 {
				bad("ports: brand %q has no hosts", brand)
			}
			for _, pt := range ports {
				if pt.Number < 1 || pt.Number > 65535 || (pt.TLS != StartTLS && pt.TLS != ImplicitTLS) {
					bad("ports: %d %q: want a port from 1 to 65535 and tls %s or %s", pt.Number, pt.TLS, StartTLS, ImplicitTLS)
				}
			}
			p.Ports[brand] = ports
		}
		for brand, o := range f.OAuth {
			brand = norm(brand)
			switch {
			case len(p.Hosts[brand]) == 0:
				bad("oauth: brand %q has no hosts", brand)
			case o == nil || o.Scope == "":
				bad("oauth %s: scope is required", brand)
			case o.TokenURL != "" && o.Flow != "device" && o.Flow != "code":
				bad("oauth %s: flow must be device or code, not %q", brand, o.Flow)
			default:
				p.OAuth[brand] = o
			}
		}
		c.list = append(c.list, p)
	}
	return c, errors.Join(errs...)
}

func norm(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// NormalizeHost is how host names compare: lower-case, without a final dot.
func NormalizeHost(h string) string { return strings.TrimSuffix(norm(h), ".") }

// All lists the providers in file order.
func All() []*Provider { return slices.Clone(must().list) }

// Named finds a provider by name or alias, case-insensitive; nil if none.
func Named(name string) *Provider { return must().byName[norm(name)] }

// ForHost finds the provider whose submission host this is, and the brand
// it serves ("smtp.aol.com" -> yahoo, "aol"); nil if none.
func ForHost(host string) (*Provider, string) {
	c := must()
	h := NormalizeHost(host)
	return c.byHost[h], c.brand[h]
}

// BrandHosts are the submission hosts of a brand (a provider's name or
// alias): "gmail" -> smtp.gmail.com, smtp.googlemail.com.
func BrandHosts(brand string) []string {
	p := Named(brand)
	if p == nil {
		return nil
	}
	return slices.Clone(p.Hosts[norm(brand)])
}

// BrandPorts are the submission ports of a brand's hosts, nil for a name
// that is not a brand with hosts.
func BrandPorts(brand string) []Port {
	p := Named(brand)
	if p == nil {
		return nil
	}
	return slices.Clone(p.Ports[norm(brand)])
}

// BrandOAuth is a brand's OAuth 2.0 authorization server; false if it has
// none in the catalogue.
func BrandOAuth(brand string) (OAuth, bool) {
	p := Named(brand)
	if p == nil || p.OAuth[norm(brand)] == nil {
		return OAuth{}, false
	}
	o := *p.OAuth[norm(brand)]
	o.ExtraScopes = slices.Clone(o.ExtraScopes)
	return o, true
}

// OAuthBrands lists the brands with an OAuth entry, sorted.
func OAuthBrands() []string {
	var brands []string
	for _, p := range must().list {
		for b := range p.OAuth {
			brands = append(brands, b)
		}
	}
	slices.Sort(brands)
	return brands
}

// Detect recognizes the provider in a reply text, a banner or a host name
// by its detect pattern; nil if none.
func Detect(text string) *Provider {
	for _, p := range must().list {
		if p.Detects(text) {
			return p
		}
	}
	return nil
}

// Find is what a caller means by s: a name, an alias, a submission host,
// or text the detect patterns recognize; nil if none.
func Find(s string) *Provider {
	if norm(s) == "" {
		return nil
	}
	if p := Named(s); p != nil {
		return p
	}
	if p, _ := ForHost(s); p != nil {
		return p
	}
	return Detect(norm(s))
}
