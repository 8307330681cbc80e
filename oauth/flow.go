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
	// Account is the address the token is for: the cache key, and a
	// login_hint for the sign-in page. "" is the default account.
	Account string
	// HTTPClient talks to the issuer; nil means http.DefaultClient.
	HTTPClient *http.Client
	// Prompt receives what the user must do (the command's stderr).
	Prompt io.Writer
	// Cache, if set, is read first and written after; NoCache skips it.
	Cache *Cache
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

// Get returns a valid access token: from the cache when it has one that
// has not expired, by refresh when it has a refresh token, and otherwise
// by the provider's interactive flow.
func Get(ctx context.Context, req Request) (*Result, error) {
	var cached *Cached
	if req.Cache != nil {
		c, err := req.Cache.Load(req.Provider.Name, req.Account)
		if err != nil {
			return nil, &Error{Kind: Setup, Msg: "reading the token cache", Err: err}
		}
		// A cached token carries the client it was issued to, so a
		// refresh needs no flags (smtprun --oauth).
		if c != nil && req.ClientID == "" {
			req.ClientID = c.ClientID
		}
		if c != nil && req.Provider.TokenURL == "" {
			req.Provider.TokenURL = c.TokenURL
		}
		cached = c
	}
	now := time.Now
	if req.Now != nil {
		now = req.Now
	}
	if c := cached; c != nil && c.AccessToken != "" && (c.Expiry.IsZero() || c.Expiry.After(now().Add(expiryMargin))) {
		return &Result{Token: c, From: "cache"}, nil
	}
	if err := req.Provider.Check(req.ClientID, req.ClientSecret); err != nil {
		if cached == nil || cached.RefreshToken == "" || req.ClientID == "" {
			return nil, &Error{Kind: Setup, Msg: err.Error()}
		}
	}
	if req.HTTPClient != nil {
		ctx = context.WithValue(ctx, oauth2.HTTPClient, req.HTTPClient)
	}
	cfg := req.Provider.Config(req.ClientID, req.ClientSecret)
	if c := cached; c != nil {
		if c.RefreshToken != "" {
			// A refresh token is redeemed where it was issued (a
			// tenant's own endpoint, say), whatever the defaults.
			rcfg := *cfg
			if c.TokenURL != "" {
				rcfg.Endpoint.TokenURL = c.TokenURL
			}
			tok, err := rcfg.TokenSource(ctx, &oauth2.Token{RefreshToken: c.RefreshToken}).Token()
			if err == nil {
				return req.save(tok, "refresh", rcfg.Endpoint.TokenURL)
			}
			var re *oauth2.RetrieveError
			if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
				return nil, classify("refreshing the cached token", err)
			}
			// A revoked or expired refresh token: sign in again.
			fmt.Fprintf(req.Prompt, "The cached refresh token for %s was refused (%s); signing in again.\n", req.Provider.Name, re.ErrorCode)
		}
	}
	if err := req.Provider.Check(req.ClientID, req.ClientSecret); err != nil {
		return nil, &Error{Kind: Setup, Msg: err.Error()}
	}
	var tok *oauth2.Token
	var err error
	switch req.Provider.Flow {
	case DeviceFlow:
		tok, err = req.device(ctx, cfg)
	default:
		tok, err = req.code(ctx, cfg)
	}
	if err != nil {
		return nil, err
	}
	return req.save(tok, string(req.Provider.Flow), req.Provider.TokenURL)
}

func (req Request) save(tok *oauth2.Token, from, tokenURL string) (*Result, error) {
	scope, _ := tok.Extra("scope").(string)
	c := &Cached{Provider: req.Provider.Name, Account: req.Account, AccessToken: tok.AccessToken,
		RefreshToken: tok.RefreshToken, Expiry: tok.Expiry, Scope: scope,
		TokenURL: tokenURL, ClientID: req.ClientID}
	r := &Result{Token: c, From: from}
	if req.Cache != nil {
		if err := req.Cache.Save(c); err != nil {
			return nil, &Error{Kind: Setup, Msg: "writing the token cache", Err: err}
		}
		r.CachePath = req.Cache.Path(c.Provider, c.Account)
	}
	return r, nil
}

// device runs the device authorization grant (RFC 8628).
func (req Request) device(ctx context.Context, cfg *oauth2.Config) (*oauth2.Token, error) {
	var opts []oauth2.AuthCodeOption
	if req.Account != "" {
		opts = append(opts, oauth2.SetAuthURLParam("login_hint", req.Account))
	}
	da, err := cfg.DeviceAuth(ctx, opts...)
	if err != nil {
		return nil, classify("device authorization", err)
	}
	if da.DeviceCode == "" || da.UserCode == "" || da.VerificationURI == "" {
		return nil, &Error{Kind: Malformed, Msg: "device authorization: the issuer's answer lacks device_code, user_code or verification_uri"}
	}
	fmt.Fprintf(req.Prompt, "To sign in to %s, open %s and enter the code %s\n", req.Provider.Name, da.VerificationURI, da.UserCode)
	if !da.Expiry.IsZero() {
		fmt.Fprintf(req.Prompt, "(the code is good for %s; waiting for you to approve...)\n", time.Until(da.Expiry).Round(time.Second))
	}
	if req.Approve != nil {
		go req.Approve(ctx, da.VerificationURI, da.UserCode)
	}
	tok, err := cfg.DeviceAccessToken(ctx, da)
	if err != nil {
		return nil, classify("device authorization", err)
	}
	return tok, nil
}

// code runs the authorization code grant with PKCE (RFC 7636) and a
// loopback redirect (RFC 8252 7.3): a listener on 127.0.0.1 and a port
// the system picks, which Google and Microsoft accept for installed apps.
func (req Request) code(ctx context.Context, cfg *oauth2.Config) (*oauth2.Token, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, &Error{Kind: Setup, Msg: "opening the loopback listener for the redirect", Err: err}
	}
	defer ln.Close()
	cfg.RedirectURL = "http://" + ln.Addr().String() + "/"
	verifier := oauth2.GenerateVerifier()
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
		return nil, classify("authorization", ctx.Err())
	}
	switch {
	case a.err == "access_denied":
		return nil, &Error{Kind: Declined, Msg: "authorization: you declined the request"}
	case a.err != "":
		return nil, &Error{Kind: Refused, Msg: "authorization: the issuer refused: " + a.err + strings.TrimSuffix(" ("+a.desc+")", " ()")}
	case a.code == "":
		return nil, &Error{Kind: Malformed, Msg: "authorization: the redirect carried neither a code nor an error"}
	}
	tok, err := cfg.Exchange(ctx, a.code, oauth2.VerifierOption(verifier))
	if err != nil {
		return nil, classify("exchanging the authorization code", err)
	}
	return tok, nil
}

func randomState() string {
	b := make([]byte, 16)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
