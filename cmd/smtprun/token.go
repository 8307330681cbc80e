package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/smtprun/smtprun/dsl"
	"github.com/smtprun/smtprun/engine"
	"github.com/smtprun/smtprun/internal/suggest"
	"github.com/smtprun/smtprun/oauth"
	"github.com/smtprun/smtprun/sandbox"
)

const tokenUsage = `smtprun token gets an OAuth 2.0 access token for SMTP AUTH (XOAUTH2, OAUTHBEARER).

Usage:
  smtprun token [flags] PROVIDER     office365 (device code), gmail (browser sign-in), or any name with --issuer/--token-url
  smtprun token --forget PROVIDER    remove the cached token
  export SMTP_TOKEN=$(smtprun token office365 --print)

Flags:
  --client-id ID        your app registration's client ID (or SMTPRUN_OAUTH_CLIENT_ID)
  --client-secret S     its client secret, where the provider wants one (gmail; or SMTPRUN_OAUTH_CLIENT_SECRET)
  --account ADDRESS     the mailbox the token is for: the cache key and a sign-in hint
  --print               write only the access token to stdout
  --no-cache            neither read nor write the token cache
  --forget              remove the cached token for PROVIDER (and --account)
  --sandbox             run the flow against the built-in emulation, in-process (no network)
  --issuer URL          endpoints at URL/authorize, URL/token, URL/devicecode
                        (smtprun serve prints http://127.0.0.1:2580/PROVIDER)
  --auth-url URL        authorization endpoint (browser flow)
  --token-url URL       token endpoint
  --device-url URL      device authorization endpoint (device flow)
  --scope SCOPE         scope to request (repeatable; replaces the provider's)
  --flow device|code    the flow for a provider that is not built in (default: device if --device-url or --issuer)
  --refresh             refresh the cached token even if it has not expired (signing in
                        again if the issuer no longer knows it, as a restarted smtprun serve)
  --timeout DURATION    bounds the whole command: every request to the issuer and the
                        wait for the sign-in (default 15m; each request also within 30s)

Prompts (the URL to open, the code to type) go to stderr. Tokens are cached in
` + "`os.UserConfigDir()`" + `/smtprun/tokens (mode 0600) per token endpoint and account,
and refreshed when they expire; a cache file or directory another user owns or can
write is refused. Endpoints on 127.0.0.1 (smtprun serve's) are named PROVIDER@HOST:PORT,
which --oauth and --forget take too; plain http is refused on any other host.

Example:
  smtprun token office365 --account you@example.com

Exit codes: 0 ok, 1 usage, 3 the sign-in failed (declined, expired, unreachable, bad answer),
130 interrupted.
`

type tokenOptions struct {
	clientID, clientSecret, account            string
	issuer, authURL, tokenURL, deviceURL, flow string
	scopes                                     []string
	print, noCache, forget, sandbox, noColor   bool
	refresh                                    bool
	timeout                                    time.Duration
	provider                                   string
}

func parseTokenFlags(args []string) (*tokenOptions, error) {
	o := &tokenOptions{timeout: 15 * time.Minute}
	fs := newFlagSet("token")
	fs.StringVar(&o.clientID, "client-id", os.Getenv("SMTPRUN_OAUTH_CLIENT_ID"), "")
	fs.StringVar(&o.clientSecret, "client-secret", os.Getenv("SMTPRUN_OAUTH_CLIENT_SECRET"), "")
	fs.StringVar(&o.account, "account", "", "")
	fs.StringVar(&o.issuer, "issuer", "", "")
	fs.StringVar(&o.authURL, "auth-url", "", "")
	fs.StringVar(&o.tokenURL, "token-url", "", "")
	fs.StringVar(&o.deviceURL, "device-url", "", "")
	fs.StringVar(&o.flow, "flow", "", "")
	fs.Var(listFlag{&o.scopes}, "scope", "")
	fs.BoolVar(&o.print, "print", false, "")
	fs.BoolVar(&o.noCache, "no-cache", false, "")
	fs.BoolVar(&o.forget, "forget", false, "")
	fs.BoolVar(&o.sandbox, "sandbox", false, "")
	fs.BoolVar(&o.refresh, "refresh", false, "")
	fs.BoolVar(&o.noColor, "no-color", false, "")
	fs.Var(durationFlag{&o.timeout}, "timeout", "")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return nil, err
	}
	switch len(pos) {
	case 0:
		return nil, fmt.Errorf("which provider? e.g. smtprun token office365 (built in: %s)", strings.Join(oauth.Names(), ", "))
	case 1:
		o.provider = pos[0]
	default:
		return nil, fmt.Errorf("one provider at a time, got %s", strings.Join(pos, " "))
	}
	if o.flow != "" && o.flow != string(oauth.DeviceFlow) && o.flow != string(oauth.CodeFlow) {
		return nil, fmt.Errorf("--flow %s: want device or code", o.flow)
	}
	for _, u := range []string{o.issuer, o.authURL, o.tokenURL, o.deviceURL} {
		if u == "" {
			continue
		}
		if p, err := url.Parse(u); err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" {
			return nil, fmt.Errorf("%q is not an http(s) URL", u)
		}
	}
	if o.sandbox && (o.issuer != "" || o.tokenURL != "") {
		return nil, fmt.Errorf("--sandbox serves its own endpoints; drop --issuer/--token-url, or use them against smtprun serve without --sandbox")
	}
	return o, nil
}

// resolve turns the options into a provider: a built-in one, moved to
// --issuer or the explicit URLs where given, or a generic one made of
// them. A provider moved elsewhere is cached under its own name, so the
// sandbox's tokens never replace the real ones.
func (o *tokenOptions) resolve() (oauth.Provider, error) {
	// "office365@127.0.0.1:2580" names smtprun serve's endpoints for a
	// provider (at http://127.0.0.1:2580/office365), and
	// "office365@https://login.microsoftonline.com/TENANT/oauth2/v2.0"
	// a provider's at an issuer URL: the token endpoint is worked out
	// from the name, never read from the cache.
	if base, where, ok := strings.Cut(o.provider, "@"); ok && o.issuer == "" && o.tokenURL == "" {
		if _, builtin := oauth.Lookup(base); !builtin {
			return oauth.Provider{}, fmt.Errorf("%q: unknown provider %q before the @ (built in: %s)", o.provider, base, strings.Join(oauth.Names(), ", "))
		}
		at := *o
		at.provider = base
		if strings.Contains(where, "://") {
			at.issuer = where
		} else if host, _, err := net.SplitHostPort(where); err == nil && isLoopbackHost(host) {
			at.issuer = "http://" + where + "/" + base
		} else {
			return oauth.Provider{}, fmt.Errorf("%q: want PROVIDER@HOST:PORT with a loopback host (smtprun serve's endpoints), as `smtprun token` printed it, or PROVIDER@ISSUER-URL", o.provider)
		}
		if _, err := url.Parse(at.issuer); err != nil {
			return oauth.Provider{}, fmt.Errorf("%q: %v", o.provider, err)
		}
		return at.resolve()
	}
	p, builtin := oauth.Lookup(o.provider)
	if !builtin && o.sandbox && sandbox.OAuthScope(o.provider) != "" {
		// An emulated provider that smtprun has no real endpoints for.
		return oauth.Provider{Name: o.provider, Flow: oauth.DeviceFlow, Scopes: []string{sandbox.OAuthScope(o.provider)}}, nil
	}
	if !builtin {
		if o.issuer == "" && o.tokenURL == "" {
			msg := fmt.Sprintf("unknown provider %q", o.provider)
			if best := suggest.Closest(o.provider, oauth.Names()); best != "" {
				msg += fmt.Sprintf(" (did you mean %s?)", best)
			}
			return p, fmt.Errorf("%s: the built-in ones are %s; for any other, give --issuer or --token-url with --device-url or --auth-url", msg, strings.Join(oauth.Names(), ", "))
		}
		p = oauth.Provider{Name: o.provider, Flow: oauth.DeviceFlow}
		if o.deviceURL == "" && o.issuer == "" {
			p.Flow = oauth.CodeFlow
		}
	}
	if o.issuer != "" {
		p = p.AtIssuer(o.issuer)
	}
	for _, f := range []struct {
		v   string
		dst *string
	}{{o.authURL, &p.AuthURL}, {o.tokenURL, &p.TokenURL}, {o.deviceURL, &p.DeviceURL}} {
		if f.v != "" {
			*f.dst = f.v
		}
	}
	if def, _ := oauth.Lookup(o.provider); builtin && urlHost(p.TokenURL) != urlHost(def.TokenURL) {
		// Elsewhere (smtprun serve's endpoints): cached under its own
		// name, so it never replaces the real provider's token, and no
		// secret is needed there. A tenant's own endpoints at the
		// provider's host stay under the provider's name.
		p.Name += "@" + urlHost(p.TokenURL)
		p.NeedsSecret = false
	}
	if o.flow != "" {
		p.Flow = oauth.Flow(o.flow)
	}
	if len(o.scopes) > 0 {
		p.Scopes = nil
		for _, s := range o.scopes {
			p.Scopes = append(p.Scopes, strings.Fields(s)...)
		}
	}
	return p, nil
}

func runToken(inv *invocation, args []string) int {
	stdout, stderr := inv.stdout, inv.stderr
	o, err := parseTokenFlags(args)
	if code, ok := inv.parsed(err); !ok {
		return code
	}
	p, err := o.resolve()
	if err != nil {
		return inv.usageError(err.Error())
	}
	var cache *oauth.Cache
	if !o.noCache && !o.sandbox {
		if cache, err = oauth.DefaultCache(); err != nil {
			return inv.usageError(err.Error())
		}
	}
	if o.forget {
		if cache == nil {
			return inv.usageError("--forget works on the cache; drop --no-cache/--sandbox")
		}
		key := oauth.Key{Provider: p.Name, TokenURL: p.TokenURL, Account: o.account}
		removed, err := cache.Forget(key)
		if err != nil {
			fmt.Fprintf(stderr, "smtprun token: %v\n", err)
			return exitRuntime
		}
		if removed {
			fmt.Fprintf(stderr, "smtprun token: forgot the cached token for %s (%s)\n", p.Name, cache.Path(key))
		} else {
			fmt.Fprintf(stderr, "smtprun token: no cached token for %s\n", p.Name)
		}
		return exitOK
	}
	req := oauth.Request{Provider: p, ClientID: o.clientID, ClientSecret: o.clientSecret, Account: o.account,
		Prompt: stderr, Cache: cache, Refresh: o.refresh}
	if o.sandbox {
		// A one-second polling interval: nobody types the code here.
		sb, err := sandbox.New(sandbox.Options{PollInterval: time.Second})
		if err != nil {
			return inv.usageError(err.Error())
		}
		defer sb.Close()
		req = sandboxTokenRequest(req, sb, o.provider, stderr)
		if req.Provider.TokenURL == "" {
			return inv.usageError(fmt.Sprintf("the sandbox emulates the OAuth endpoints of %s only", strings.Join(sandbox.OAuthProviders(), ", ")))
		}
	}
	ctx, cancel := context.WithTimeout(inv.ctx, o.timeout)
	defer cancel()
	res, err := oauth.Get(ctx, req)
	if err != nil {
		// oauth's errors come escaped, with every secret masked.
		fmt.Fprintf(stderr, "smtprun token: %s\n", err)
		return oauthExit(err)
	}
	if o.print {
		fmt.Fprintln(stdout, res.Token.AccessToken)
		return exitOK
	}
	fmt.Fprintf(stdout, "access token for %s: %s (%s)\n", p.Name, tokenSummary(res.Token), res.From)
	if res.From == "cache" && isLoopbackHost(hostOnly(urlHost(p.TokenURL))) {
		// A practice issuer forgets its tokens when it stops; the
		// expiry in the cache cannot know.
		fmt.Fprintf(stdout, "if the issuer restarted since (smtprun serve), this token is dead: `smtprun token %s --refresh` gets a new one\n", o.provider)
	}
	if res.CachePath != "" {
		if arg := o.oauthArg(p); arg != "" {
			fmt.Fprintf(stdout, "cached in %s; `smtprun --oauth %s SCRIPT` uses it as SMTP_TOKEN, `smtprun token %s --print` prints it\n", res.CachePath, arg, arg)
		} else {
			fmt.Fprintf(stdout, "cached in %s; this command with --print prints it (export SMTP_TOKEN=$(...))\n", res.CachePath)
		}
	} else if o.sandbox {
		fmt.Fprintln(stdout, "not cached: the in-process sandbox that issued it is gone when this command ends; use --print, or smtprun serve's --listen-oauth endpoints")
	}
	return exitOK
}

// tokenSummary describes a token without showing it.
func tokenSummary(t *oauth.Cached) string {
	s := fmt.Sprintf("%d characters, not shown", len(t.AccessToken))
	if !t.Expiry.IsZero() {
		s += ", expires " + t.Expiry.Local().Format(time.RFC3339)
	}
	if t.RefreshToken != "" {
		s += ", with a refresh token"
	}
	if t.Scope != "" {
		s += ", scope " + t.Scope
	}
	return s
}

// oauthExit is the exit code for a failure of oauth.Get.
func oauthExit(err error) int {
	var oe *oauth.Error
	errors.As(err, &oe)
	switch {
	case oe == nil:
		return exitRuntime
	case oe.Kind == oauth.Setup || oe.Kind == oauth.NotCached:
		return exitUsage
	case oe.Kind == oauth.Interrupted:
		return exitInterrupted
	}
	return exitRuntime
}

// oauthArg is the name --oauth finds p's token by: the provider's own
// name when its endpoints are the built-in ones, PROVIDER@HOST:PORT for
// smtprun serve's, PROVIDER@ISSUER for an --issuer; "" when none
// resolves to p's token endpoint (explicit --token-url).
func (o *tokenOptions) oauthArg(p oauth.Provider) string {
	base, _, _ := strings.Cut(o.provider, "@")
	cands := []string{base, p.Name}
	if o.issuer != "" {
		cands = append(cands, base+"@"+o.issuer)
	}
	for _, c := range cands {
		q, err := (&tokenOptions{provider: c}).resolve()
		if err == nil && q.TokenURL == p.TokenURL && q.Name == p.Name {
			return c
		}
	}
	return ""
}

// hostOnly is a URL host without its port.
func hostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return hostport
}

func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// sandboxTokenRequest points the request at the sandbox's in-process
// endpoints and approves in place of the user, saying so.
func sandboxTokenRequest(req oauth.Request, sb *sandbox.Sandbox, provider string, stderr io.Writer) oauth.Request {
	if sandbox.OAuthScope(provider) == "" {
		req.Provider.TokenURL = ""
		return req
	}
	client := sb.OAuthClient()
	builtin, ok := oauth.Lookup(provider)
	if !ok {
		builtin = oauth.Provider{Name: provider, Flow: oauth.DeviceFlow, Scopes: []string{sandbox.OAuthScope(provider)}}
	}
	p := builtin.AtIssuer(sandbox.InProcessOAuthBase + "/" + provider)
	p.NeedsSecret = false
	p.Scopes = req.Provider.Scopes
	req.Provider, req.HTTPClient, req.InProcess = p, client, true
	if req.ClientID == "" {
		// Offline there is no app registration to check.
		req.ClientID = "smtprun-sandbox"
	}
	req.Approve = func(ctx context.Context, where, userCode string) error {
		// Said first: once approved, the flow may end before this returns.
		fmt.Fprintln(stderr, "sandbox: approving on the emulated sign-in page, as you would in a browser")
		err := sandboxApprove(ctx, client, where, userCode)
		if err != nil {
			fmt.Fprintf(stderr, "sandbox: approving failed: %v\n", err)
		}
		return err
	}
	return req
}

// sandboxApprove plays the user's part: for the device flow, a POST of
// the user code to the verification page; for the code flow, the Approve
// button of the authorization page, then the browser's redirect to the
// loopback listener.
func sandboxApprove(ctx context.Context, client *http.Client, where, userCode string) error {
	if userCode != "" {
		resp, err := client.PostForm(where, url.Values{"user_code": {userCode}})
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("verification page answered %s", resp.Status)
		}
		return nil
	}
	u, err := url.Parse(where)
	if err != nil {
		return err
	}
	form := u.Query()
	form.Set("action", "approve")
	u.RawQuery = ""
	resp, err := client.PostForm(u.String(), form)
	if err != nil {
		return err
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound || loc == "" {
		return fmt.Errorf("authorization page answered %s", resp.Status)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, loc, nil)
	if err != nil {
		return err
	}
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			// The listener got the code and the flow moved on.
			return nil
		}
		return err
	}
	resp.Body.Close()
	return nil
}

// tokenVar is the variable --oauth fills, the one the OAuth scripts use.
const tokenVar = "SMTP_TOKEN"

// oauthVars gives a run SMTP_TOKEN from the token cache for --oauth
// PROVIDER, refreshing an expired token, or signing in if nothing is
// cached and a client ID is set; a variable already set wins, and
// --sandbox issues its own. Each request to the issuer is bounded by
// --timeout. refused is what to say if the server refuses the token.
func oauthVars(inv *invocation, o *options, vars dsl.Vars) (_ dsl.Vars, note, refused string, code int) {
	stderr := inv.stderr
	if _, ok := vars.Lookup(tokenVar); ok {
		return vars, fmt.Sprintf("--oauth %s: %s is already set; using it", o.oauth, tokenVar), "", exitOK
	}
	if o.sandbox {
		return vars, "", "", exitOK
	}
	to := &tokenOptions{provider: o.oauth, clientID: os.Getenv("SMTPRUN_OAUTH_CLIENT_ID"), clientSecret: os.Getenv("SMTPRUN_OAUTH_CLIENT_SECRET")}
	p, err := to.resolve()
	if err != nil {
		return nil, "", "", inv.usageError("--oauth: " + err.Error())
	}
	cache, err := oauth.DefaultCache()
	if err != nil {
		return nil, "", "", inv.usageError("--oauth: " + err.Error())
	}
	ctx, cancel := context.WithTimeout(inv.ctx, 15*time.Minute)
	defer cancel()
	res, err := oauth.Get(ctx, oauth.Request{Provider: p, ClientID: to.clientID, ClientSecret: to.clientSecret, Prompt: stderr, Cache: cache,
		RequestTimeout: o.timeout, NoSignIn: to.clientID == ""})
	if err != nil {
		var oe *oauth.Error
		if errors.As(err, &oe) && oe.Kind == oauth.NotCached {
			return nil, "", "", inv.usageError(fmt.Sprintf("--oauth %s: no cached token: run `smtprun token %s` first (with your app's --client-id)", o.oauth, o.oauth))
		}
		fmt.Fprintf(stderr, "%s: --oauth %s: %s\n", inv.cmd.label(), o.oauth, err)
		return nil, "", "", oauthExit(err)
	}
	note = fmt.Sprintf("--oauth %s: %s is the cached access token", o.oauth, tokenVar)
	if res.From != "cache" {
		note = fmt.Sprintf("--oauth %s: %s is a new access token (%s), now cached", o.oauth, tokenVar, res.From)
	}
	refused = fmt.Sprintf("hint: the server refused the %s that --oauth %s gave: `smtprun token %s --refresh` gets a new one, "+
		"signing in again if the issuer no longer knows the refresh token (a restarted smtprun serve forgets every token it issued)", tokenVar, o.oauth, o.oauth)
	return dsl.Chain{dsl.MapVars{tokenVar: res.Token.AccessToken}, vars}, note, refused, exitOK
}

// tokenRefused says whether a run failed on the server's refusal of an
// OAuth login: a JSON challenge (Gmail), or 535 at the end of AUTH
// (Microsoft's 535 5.7.3).
func tokenRefused(err error) bool {
	var ae *engine.AssertError
	return errors.As(err, &ae) && (ae.OAuth != nil || ae.Got != nil && ae.Got.Code == 535)
}

// tokenUnsetHelp adds to "variable is not set" for the token of an
// xoauth2/oauthbearer step how to get one, for the provider the script
// connects to.
func tokenUnsetHelp(script *dsl.Program, vars dsl.Vars, err error) error {
	var de *dsl.Error
	if !errors.As(err, &de) {
		return err
	}
	for _, st := range script.Steps() {
		a, ok := st.(*dsl.Auth)
		if !ok || !isOAuth(a) {
			continue
		}
		for _, p := range a.Secret.Variables() {
			if p.Pos != de.Pos {
				continue
			}
			provider := firstProfile(script, vars)
			if _, ok := oauth.Lookup(provider); !ok {
				provider = "PROVIDER"
			}
			c := *de
			c.Notes = append(append([]string(nil), de.Notes...),
				fmt.Sprintf("help: %s is an OAuth access token: get one with `smtprun token %s`, then run with --oauth %s (or export %s=$(smtprun token %s --print)); --sandbox issues a practice token", p.Var, provider, provider, p.Var, provider))
			return &c
		}
	}
	return err
}

func urlHost(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return ""
	}
	return p.Host
}
