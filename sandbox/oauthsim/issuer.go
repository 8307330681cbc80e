package oauthsim

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"sync"
	"time"
)

const (
	defaultTokenTTL  = time.Hour // what Microsoft and Google issue
	defaultDeviceTTL = 15 * time.Minute
	// defaultPollInterval is RFC 8628 3.2's default, which both providers use.
	defaultPollInterval = 5 * time.Second
	// slowDownStep is what RFC 8628 3.5 adds to the interval on slow_down.
	slowDownStep = 5 * time.Second
)

// Provider is one emulated provider's authorization server: a sandbox
// profile's oauth section, and the profile's name.
type Provider struct {
	// Name keys the grants and the endpoints (/NAME/token); the profile
	// sets it, not its oauth section.
	Name string `yaml:"-"`
	// Scope is the scope a token must carry for SMTP: the provider
	// catalogue's, not the profile's.
	Scope string `yaml:"-"`
	// TokenPrefix and RefreshPrefix make issued tokens look like the
	// provider's (Google's "ya29.", "1//").
	TokenPrefix   string `yaml:"token_prefix"`
	RefreshPrefix string `yaml:"refresh_prefix"`
	// Challenge: a refused token gets the JSON 334 challenge before the
	// final reply (Gmail); otherwise the final reply comes at once
	// (Microsoft's 535 5.7.3).
	Challenge bool `yaml:"challenge"`
	// Title names the sign-in service on the emulated pages.
	Title string `yaml:"title"`
}

// grant is what a token stands for.
type grant struct {
	provider, user, scope string
	expires               time.Time // zero for a refresh token
}

// deviceGrant is one pending device authorization (RFC 8628 3.2).
type deviceGrant struct {
	provider, scope, user string
	userCode              string
	expires               time.Time
	interval              time.Duration
	lastPoll              time.Time
	state                 string // "pending", "approved", "denied", "used"
}

// codeGrant is one authorization code waiting for its token request.
type codeGrant struct {
	provider, scope, user string
	redirectURI           string
	challenge             string // S256 of the verifier (RFC 7636 4.2)
	expires               time.Time
}

// Issuer holds every grant of one sandbox.
type Issuer struct {
	mu       sync.Mutex
	clock    func() time.Time
	ttl      time.Duration
	devTTL   time.Duration
	interval time.Duration
	devices  map[string]*deviceGrant // by device code
	byUser   map[string]*deviceGrant // by user code
	codes    map[string]*codeGrant
	access   map[string]grant
	refresh  map[string]grant
}

// Config sets an Issuer's clock and lifetimes; a zero field takes the
// providers' own value.
type Config struct {
	// Clock is time.Now when nil.
	Clock func() time.Time
	// TokenTTL is the lifetime of access tokens; 0 means an hour.
	TokenTTL time.Duration
	// DeviceCodeTTL is how long a device code waits for approval; 0
	// means 15 minutes.
	DeviceCodeTTL time.Duration
	// PollInterval is the device flow's polling interval; 0 means 5
	// seconds (RFC 8628 3.2).
	PollInterval time.Duration
}

// NewIssuer returns an issuer with no grants.
func NewIssuer(c Config) *Issuer {
	is := &Issuer{clock: c.Clock, ttl: c.TokenTTL, devTTL: c.DeviceCodeTTL, interval: c.PollInterval,
		devices: map[string]*deviceGrant{}, byUser: map[string]*deviceGrant{}, codes: map[string]*codeGrant{},
		access: map[string]grant{}, refresh: map[string]grant{}}
	if is.clock == nil {
		is.clock = time.Now
	}
	if is.ttl <= 0 {
		is.ttl = defaultTokenTTL
	}
	if is.devTTL <= 0 {
		is.devTTL = defaultDeviceTTL
	}
	if is.interval <= 0 {
		is.interval = defaultPollInterval
	}
	return is
}

// secretString is a random token body, always from crypto/rand: never
// from the sandbox's Options.Rand, which tests make predictable.
func secretString(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// userCode is what a person types: eight letters from an alphabet without
// look-alikes, shown as XXXX-XXXX (RFC 8628 6.1).
func userCode() string {
	const alphabet = "BCDFGHJKLMNPQRSTVWXZ"
	b := make([]byte, 8)
	rand.Read(b)
	var s strings.Builder
	for i, c := range b {
		if i == 4 {
			s.WriteByte('-')
		}
		s.WriteByte(alphabet[int(c)%len(alphabet)])
	}
	return s.String()
}

// sweepAbove is the number of grants past which issuing one first drops
// the expired ones, so a long-running serve does not grow without bound.
const sweepAbove = 1024

// sweep drops expired device codes, authorization codes and access
// tokens once there are many, and caps the tokens kept.
func (is *Issuer) sweep() {
	if len(is.devices)+len(is.codes)+len(is.access) > sweepAbove {
		is.dropExpired()
	}
	for k := range is.access {
		if len(is.access) <= maxAccess {
			break
		}
		delete(is.access, k)
	}
	for k := range is.refresh {
		if len(is.refresh) <= maxRefresh {
			break
		}
		delete(is.refresh, k)
	}
}

// maxPending bounds the device and authorization codes waiting at once:
// each lives 10 to 15 minutes, and a practice server has a few people
// signing in, not thousands.
const maxPending = 1000

// pendingFull says whether maxPending codes are waiting, once the
// expired ones are gone.
func (is *Issuer) pendingFull() bool {
	if len(is.devices)+len(is.codes) < maxPending {
		return false
	}
	is.dropExpired()
	return len(is.devices)+len(is.codes) >= maxPending
}

func (is *Issuer) dropExpired() {
	now := is.clock()
	for k, g := range is.devices {
		if !now.Before(g.expires) {
			delete(is.devices, k)
			delete(is.byUser, g.userCode)
		}
	}
	for k, c := range is.codes {
		if !now.Before(c.expires) {
			delete(is.codes, k)
		}
	}
	for k, g := range is.access {
		if !now.Before(g.expires) {
			delete(is.access, k)
		}
	}
}

// maxAccess and maxRefresh cap the tokens kept (refresh tokens do not
// expire here, as at the providers; access tokens are only swept above
// sweepAbove): past them, any go (map order is as good as any).
const (
	maxAccess  = 10000
	maxRefresh = 10000
)

// tokens issues an access token and a refresh token for a grant.
func (is *Issuer) tokens(p *Provider, user, scope string) (access, refresh string, expiresIn time.Duration) {
	is.sweep()
	access = p.TokenPrefix + secretString(32)
	refresh = p.RefreshPrefix + secretString(32)
	is.access[access] = grant{provider: p.Name, user: user, scope: scope, expires: is.clock().Add(is.ttl)}
	is.refresh[refresh] = grant{provider: p.Name, user: user, scope: scope}
	return access, refresh, is.ttl
}

// Verdict is what the issuer says of a token presented over SMTP.
type Verdict int

const (
	Valid      Verdict = iota // issued here, for this provider, in time, with the scope
	Unknown                   // never issued, or issued for another provider
	Expired                   // issued, but its lifetime is over
	WrongScope                // issued without the scope SMTP needs
	WrongUser                 // issued for another account
)

// Check judges a bearer token presented by user to provider p.
func (is *Issuer) Check(p *Provider, user, token string) Verdict {
	is.mu.Lock()
	defer is.mu.Unlock()
	g, ok := is.access[token]
	switch {
	case !ok || g.provider != p.Name:
		return Unknown
	case !is.clock().Before(g.expires):
		return Expired
	case !hasScope(g.scope, p.Scope):
		return WrongScope
	case g.user != "" && !strings.EqualFold(g.user, user):
		// A grant approved without naming an account serves any user
		// name, as the practice password does.
		return WrongUser
	}
	return Valid
}

// PracticeToken issues a valid token without any flow, for --sandbox runs
// whose SMTP_TOKEN is unset.
func (is *Issuer) PracticeToken(p *Provider, user string) string {
	is.mu.Lock()
	defer is.mu.Unlock()
	a, _, _ := is.tokens(p, user, p.Scope)
	return a
}

func hasScope(granted, want string) bool {
	for _, s := range strings.Fields(granted) {
		if s == want {
			return true
		}
	}
	return false
}

// s256 is RFC 7636 4.2's code challenge of a verifier.
func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
