package oauth

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"golang.org/x/oauth2"

	"github.com/smtprun/smtprun/internal/provider"
)

// Flow is how a provider hands out tokens to a command-line tool.
type Flow string

const (
	// DeviceFlow: the user opens a URL on any device and types a code
	// (RFC 8628).
	DeviceFlow Flow = "device"
	// CodeFlow: the user opens a URL in a browser on this machine, which
	// redirects to a loopback listener with a code (RFC 6749 4.1, PKCE
	// per RFC 7636, loopback redirect per RFC 8252 7.3).
	CodeFlow Flow = "code"
)

// Provider is one identity platform's endpoints and the scope that SMTP
// AUTH needs there.
type Provider struct {
	Name                         string
	AuthURL, TokenURL, DeviceURL string
	Scopes                       []string
	Flow                         Flow
	// NeedsSecret: the provider wants the client secret even from an
	// installed app (Google's "Desktop app" clients have one, which is
	// not confidential there).
	NeedsSecret bool
	// Register says where the user registers their app, for error messages.
	Register string
}

// Paths are where an --issuer URL's endpoints are: Microsoft's layout
// (https://login.microsoftonline.com/TENANT/oauth2/v2.0/token), which the
// sandbox's emulated endpoints use too.
var Paths = struct{ Authorize, Token, DeviceCode string }{"/authorize", "/token", "/devicecode"}

// providers are the built-in ones: the brands of the provider catalogue
// (internal/provider) whose OAuth entry has a token endpoint.
var providers = sync.OnceValue(func() map[string]Provider {
	m := map[string]Provider{}
	for _, brand := range provider.OAuthBrands() {
		o, _ := provider.BrandOAuth(brand)
		if o.TokenURL == "" {
			continue
		}
		m[brand] = Provider{Name: brand, AuthURL: o.AuthURL, TokenURL: o.TokenURL, DeviceURL: o.DeviceURL,
			Scopes: append([]string{o.Scope}, o.ExtraScopes...), Flow: Flow(o.Flow), NeedsSecret: o.NeedsSecret, Register: o.Register}
	}
	return m
})

// Lookup finds a built-in provider.
func Lookup(name string) (Provider, bool) {
	p, ok := providers()[strings.ToLower(name)]
	return p, ok
}

// Names lists the built-in providers.
func Names() []string {
	var n []string
	for k := range providers() {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

// AtIssuer returns p with every endpoint under issuer, in Paths' layout.
func (p Provider) AtIssuer(issuer string) Provider {
	issuer = strings.TrimSuffix(issuer, "/")
	p.AuthURL, p.TokenURL, p.DeviceURL = issuer+Paths.Authorize, issuer+Paths.Token, issuer+Paths.DeviceCode
	return p
}

// Check says what is missing for the provider's flow.
func (p Provider) Check(clientID, clientSecret string) error {
	switch {
	case clientID == "":
		return fmt.Errorf("no client ID: register an app (%s), then pass --client-id or set SMTPRUN_OAUTH_CLIENT_ID", orDefault(p.Register, "with the provider"))
	case p.TokenURL == "":
		return fmt.Errorf("no token endpoint: pass --token-url or --issuer")
	case p.Flow == DeviceFlow && p.DeviceURL == "":
		return fmt.Errorf("no device authorization endpoint: pass --device-url or --issuer")
	case p.Flow == CodeFlow && p.AuthURL == "":
		return fmt.Errorf("no authorization endpoint: pass --auth-url or --issuer")
	case p.NeedsSecret && clientSecret == "":
		return fmt.Errorf("%s wants the client secret of your Desktop app client: pass --client-secret or set SMTPRUN_OAUTH_CLIENT_SECRET", p.Name)
	case len(p.Scopes) == 0:
		return fmt.Errorf("no scope: pass --scope")
	}
	return nil
}

// Config is the x/oauth2 configuration for the provider.
func (p Provider) Config(clientID, clientSecret string) *oauth2.Config {
	return &oauth2.Config{
		ClientID:     clientID,
		ClientSecret: clientSecret,
		Scopes:       slices.Clone(p.Scopes),
		Endpoint: oauth2.Endpoint{AuthURL: p.AuthURL, TokenURL: p.TokenURL, DeviceAuthURL: p.DeviceURL,
			// Sent in the body: Microsoft and Google take it there, and a
			// public client has no secret to put in a header.
			AuthStyle: oauth2.AuthStyleInParams},
	}
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}
