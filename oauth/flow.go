package oauth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// Request is everything needed to get a token for one provider and
// account.
type Request struct {
	Provider     Provider
	ClientID     string
	ClientSecret string
	// Account is the address the token is for: part of the cache key,
	// and a login_hint for the sign-in page. "" is the default account.
	Account string
	// HTTPClient talks to the issuer; nil means http.DefaultClient. Its
	// transport is used, never its redirect policy: no request is
	// redirected.
	HTTPClient *http.Client
	// RequestTimeout bounds each request to the issuer, reading the
	// answer included; 0 means DefaultRequestTimeout. The context bounds
	// the whole flow.
	RequestTimeout time.Duration
	// InProcess says HTTPClient never leaves the process (the sandbox's
	// emulated endpoints), so its plain http URLs expose nothing.
	InProcess bool
	// Prompt receives what the user must do (the command's stderr), and
	// warnings.
	Prompt io.Writer
	// Cache, if set, is read first and written after; NoCache skips it.
	Cache *Cache
	// Refresh skips a cached access token that has not expired: it is
	// refreshed, or, if the issuer no longer knows the refresh token (a
	// restarted smtprun serve), signed in for again.
	Refresh bool
	// NoSignIn: return a NotCached error rather than start an
	// interactive flow when there is nothing to use or refresh.
	NoSignIn bool
	// Approve, if set, is called with the device flow's verification URI
	// and user code, or the code flow's URL, in its own goroutine: the
	// sandbox approves in place of a person.
	Approve func(ctx context.Context, url, userCode string) error
	// Now is the clock for expiry; nil means time.Now.
	Now func() time.Time
	// Wait bounds the code flow's wait for the browser; 0 means 5 minutes.
	Wait time.Duration
}

// Result is a token and how it was got.
type Result struct {
	Token *Cached
	// From is "cache", "refresh" or the flow that ran.
	From string
	// CachePath is where the token was written, or "".
	CachePath string
}

// expiryMargin: a token about to expire is refreshed rather than handed
// to a run that might outlast it.
const expiryMargin = 30 * time.Second

// assumedLifetime is given to a token whose answer had no expires_in
// (RECOMMENDED, not required, in RFC 6749 5.1): Microsoft's and Google's
// access tokens live an hour, and a token cached with no expiry would be
// handed out long after the issuer stopped taking it.
const assumedLifetime = time.Hour

// flow is one Get: the request, the client it talks through, and the
// secrets it has seen, masked in whatever it reports.
type flow struct {
	req Request
	ctx context.Context
	bt  *boundTransport
	m   masker
}

// Get returns a valid access token: from the cache when it has one that
// has not expired, by refresh when it has a refresh token, and otherwise
// by the provider's interactive flow. Endpoints are the provider's,
// never the cache file's.
func Get(ctx context.Context, req Request) (*Result, error) {
	f := &flow{req: req, ctx: ctx}
	f.m.add(req.ClientSecret)
	res, err := f.get()
	return res, f.shown(err)
}

func (f *flow) get() (*Result, error) {
	req := f.req
	if !req.InProcess {
		if err := checkEndpoints(req.Provider); err != nil {
			return nil, &Error{Kind: Setup, Msg: err.Error()}
		}
	}
	if req.Provider.TokenURL == "" {
		return nil, &Error{Kind: Setup, Msg: "no token endpoint: pass --token-url or --issuer"}
	}
	key := Key{Provider: req.Provider.Name, TokenURL: req.Provider.TokenURL, Account: req.Account}
	var cached *Cached
	if req.Cache != nil {
		c, err := req.Cache.Load(key, req.Prompt)
		if err != nil {
			return nil, &Error{Kind: Setup, Msg: "reading the token cache", Err: err}
		}
		if c != nil {
			f.m.add(c.AccessToken)
			f.m.add(c.RefreshToken)
			// A cached token carries the client it was issued to, so
			// a refresh needs no flags (smtprun --oauth).
			if req.ClientID == "" {
				req.ClientID = c.ClientID
			}
		}
		cached = c
	}
	f.req = req
	now := time.Now
	if req.Now != nil {
		now = req.Now
	}
	// A token without an expiry (cached by an older smtprun) is not
	// trusted forever: it is refreshed.
	if c := cached; c != nil && !req.Refresh && c.AccessToken != "" && c.Expiry.After(now().Add(expiryMargin)) {
		return &Result{Token: c, From: "cache"}, nil
	}
	hc, bt := hardened(f.ctx, req.HTTPClient, req.RequestTimeout)
	f.bt = bt
	ctx := context.WithValue(f.ctx, oauth2.HTTPClient, hc)
	if c := cached; c != nil && c.RefreshToken != "" && req.ClientID != "" {
		cfg := req.Provider.Config(req.ClientID, req.ClientSecret)
		tok, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: c.RefreshToken}).Token()
		if err == nil {
			return f.save(tok, "refresh")
		}
		var re *oauth2.RetrieveError
		if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" || f.ctx.Err() != nil {
			return nil, f.classify("refreshing the cached token", err)
		}
		// A revoked or expired refresh token, or an issuer that forgot
		// it: sign in again.
		fmt.Fprintf(req.Prompt, "The cached refresh token for %s was refused (%s); signing in again.\n", req.Provider.Name, re.ErrorCode)
	}
	if req.NoSignIn && (cached == nil || req.ClientID == "") {
		return nil, &Error{Kind: NotCached, Msg: "no cached token for " + req.Provider.Name}
	}
	if err := req.Provider.Check(req.ClientID, req.ClientSecret); err != nil {
		return nil, &Error{Kind: Setup, Msg: err.Error()}
	}
	cfg := req.Provider.Config(req.ClientID, req.ClientSecret)
	var tok *oauth2.Token
	var err error
	switch req.Provider.Flow {
	case DeviceFlow:
		tok, err = f.device(ctx, cfg)
	default:
		tok, err = f.code(ctx, cfg)
	}
	if err != nil {
		return nil, err
	}
	return f.save(tok, string(req.Provider.Flow))
}

func (f *flow) save(tok *oauth2.Token, from string) (*Result, error) {
	req := f.req
	f.m.add(tok.AccessToken)
	f.m.add(tok.RefreshToken)
	scope, _ := tok.Extra("scope").(string)
	f.checkScope(scope)
	expiry := tok.Expiry
	if expiry.IsZero() {
		expiry = time.Now().Add(assumedLifetime)
	}
	c := &Cached{Provider: req.Provider.Name, Account: req.Account, AccessToken: tok.AccessToken,
		RefreshToken: tok.RefreshToken, Expiry: expiry, Scope: scope,
		TokenURL: req.Provider.TokenURL, ClientID: req.ClientID}
	r := &Result{Token: c, From: from}
	if req.Cache != nil {
		if err := req.Cache.Save(c); err != nil {
			return nil, &Error{Kind: Setup, Msg: "writing the token cache", Err: err}
		}
		r.CachePath = req.Cache.Path(c.Key())
	}
	return r, nil
}

// checkScope says so when the issuer granted less than was asked for
// (RFC 6749 3.3 lets it): such a token is cached all the same, since
// the provider may still take it, but a refused login then has its
// reason on screen. offline_access asks for a refresh token and is not
// always echoed (Microsoft leaves it out).
func (f *flow) checkScope(granted string) {
	if granted == "" {
		return
	}
	have := strings.Fields(granted)
	var missing []string
	for _, s := range f.req.Provider.Scopes {
		if s != "offline_access" && !slices.Contains(have, s) {
			missing = append(missing, s)
		}
	}
	if len(missing) > 0 {
		fmt.Fprintf(f.req.Prompt, "warning: the issuer granted the scope %q, not the %q asked for; a server that needs it will refuse this token\n",
			f.m.show(granted), strings.Join(missing, " "))
	}
}

// Bounds on what a device authorization response may say. RFC 8628 3.2
// makes 5 s the interval when none is given; an interval a minute long
// is already absurd, and one large enough to overflow a duration is
// clamped before it reaches a ticker. A code lives as long as the issuer
// says (Microsoft 15 minutes), within an hour, and 15 minutes when the
// answer's lifetime is missing or not a positive duration.
const (
	defaultInterval = 5
	maxInterval     = 60
	maxCodeLife     = time.Hour
	defaultCodeLife = 15 * time.Minute
)

// sanitize clamps the interval and the lifetime the issuer gave.
func sanitize(da *oauth2.DeviceAuthResponse, now time.Time) {
	switch {
	case da.Interval <= 0:
		da.Interval = defaultInterval
	case da.Interval > maxInterval:
		da.Interval = maxInterval
	}
	life := da.Expiry.Sub(now)
	switch {
	case da.Expiry.IsZero() || life <= 0:
		// Missing, negative, or an expires_in whose seconds overflowed.
		da.Expiry = now.Add(defaultCodeLife)
	case life > maxCodeLife:
		da.Expiry = now.Add(maxCodeLife)
	}
}

// device runs the device authorization grant (RFC 8628).
func (f *flow) device(ctx context.Context, cfg *oauth2.Config) (*oauth2.Token, error) {
	req := f.req
	var opts []oauth2.AuthCodeOption
	if req.Account != "" {
		opts = append(opts, oauth2.SetAuthURLParam("login_hint", req.Account))
	}
	da, err := cfg.DeviceAuth(ctx, opts...)
	if err != nil {
		return nil, f.classify("device authorization", err)
	}
	if da.DeviceCode == "" || da.UserCode == "" || da.VerificationURI == "" {
		return nil, &Error{Kind: Malformed, Msg: "device authorization: the issuer's answer lacks device_code, user_code or verification_uri"}
	}
	f.m.add(da.DeviceCode)
	sanitize(da, time.Now())
	fmt.Fprintf(req.Prompt, "To sign in to %s, open %s and enter the code %s\n", req.Provider.Name, f.m.show(da.VerificationURI), f.m.show(da.UserCode))
	fmt.Fprintf(req.Prompt, "(the code is good for %s; waiting for you to approve...)\n", time.Until(da.Expiry).Round(time.Second))
	if req.Approve != nil {
		go req.Approve(ctx, da.VerificationURI, da.UserCode)
	}
	tok, err := cfg.DeviceAccessToken(ctx, da)
	if err != nil {
		return nil, f.classify("device authorization", err)
	}
	return tok, nil
}

// code runs the authorization code grant with PKCE (RFC 7636) and a
// loopback redirect (RFC 8252 7.3): a listener on 127.0.0.1 and a port
// the system picks, which Google and Microsoft accept for installed apps.
func (f *flow) code(ctx context.Context, cfg *oauth2.Config) (*oauth2.Token, error) {
	req := f.req
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, &Error{Kind: Setup, Msg: "opening the loopback listener for the redirect", Err: err}
	}
	defer ln.Close()
	cfg.RedirectURL = "http://" + ln.Addr().String() + "/"
	verifier := oauth2.GenerateVerifier()
	f.m.add(verifier)
	state := randomState()
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier), oauth2.AccessTypeOffline}
	if req.Account != "" {
		opts = append(opts, oauth2.SetAuthURLParam("login_hint", req.Account))
	}
	authURL := cfg.AuthCodeURL(state, opts...)

	type answer struct{ code, err, desc string }
	got := make(chan answer, 1)
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("state") != state {
			// Not the answer to this request (RFC 6749 10.12).
			http.Error(w, "unexpected request", http.StatusBadRequest)
			return
		}
		a := answer{code: q.Get("code"), err: q.Get("error"), desc: q.Get("error_description")}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		msg := "Signed in. You can close this window and return to smtprun."
		if a.code == "" {
			msg = "Sign-in did not complete (" + html.EscapeString(a.err) + "). You can close this window."
		}
		w.Header().Set("Connection", "close")
		fmt.Fprintf(w, "<!DOCTYPE html><html><body><p>%s</p></body></html>\n", msg)
		// The page goes out before the command hears the answer: once it
		// does, it stops this server, and the browser must not be left
		// with a dropped connection instead of the page.
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
		select {
		case got <- a:
		default:
		}
	})}
	go srv.Serve(ln)
	defer func() {
		// Shutdown, not Close: a browser whose request is still being
		// answered gets its page.
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()

	fmt.Fprintf(req.Prompt, "To sign in to %s, open this URL in a browser on this machine:\n\n  %s\n\nWaiting for the browser to come back to %s ...\n", req.Provider.Name, authURL, cfg.RedirectURL)
	if req.Approve != nil {
		go req.Approve(ctx, authURL, "")
	}
	wait := req.Wait
	if wait <= 0 {
		wait = 5 * time.Minute
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	var a answer
	select {
	case a = <-got:
	case <-timer.C:
		return nil, &Error{Kind: Expired, Msg: fmt.Sprintf("authorization: no answer from the browser within %s; run the command again", wait)}
	case <-ctx.Done():
		return nil, f.classify("authorization", ctx.Err())
	}
	switch {
	case a.err == "access_denied":
		return nil, &Error{Kind: Declined, Msg: "authorization: you declined the request"}
	case a.err != "":
		return nil, &Error{Kind: Refused, Msg: "authorization: the issuer refused: " + a.err + strings.TrimSuffix(" ("+a.desc+")", " ()")}
	case a.code == "":
		return nil, &Error{Kind: Malformed, Msg: "authorization: the redirect carried neither a code nor an error"}
	}
	f.m.add(a.code)
	tok, err := cfg.Exchange(ctx, a.code, oauth2.VerifierOption(verifier))
	if err != nil {
		return nil, f.classify("exchanging the authorization code", err)
	}
	return tok, nil
}

func randomState() string {
	b := make([]byte, 16)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
