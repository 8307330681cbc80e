// Package provider is the one catalogue of the mail providers smtprun
// knows by name: what they are called (and what else people call them),
// their submission hosts, and how to recognize them from a host name, a
// banner or a reply. The sandbox and the knowledge base both read it, so
// "office365" in one and "microsoft" in the other are the same provider.
// The data is providers.yaml, embedded.
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
	Hosts  map[string][]string
	detect *regexp.Regexp
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
		p := &Provider{Name: norm(f.Name), Title: f.Title, Hosts: map[string][]string{}}
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
