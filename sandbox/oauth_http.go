package sandbox

import (
	"encoding/json"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"time"
)

// The HTTP side of the sandbox's OAuth server, one set of endpoints per
// provider with an oauth section, under /PROVIDER/:
//
//	POST /PROVIDER/devicecode  device authorization request (RFC 8628 3.1)
//	GET  /PROVIDER/device      verification page: the user code, Approve and Deny
//	POST /PROVIDER/device      user_code (and action=deny to decline)
//	GET  /PROVIDER/authorize   authorization page for the code grant (RFC 6749 4.1)
//	POST /PROVIDER/authorize   the same parameters, and action=approve|deny
//	POST /PROVIDER/token       device_code, authorization_code (with PKCE) and refresh_token grants
//
// `smtprun token --issuer http://HOST:PORT/PROVIDER` finds them there.

// OAuthPaths are the endpoint paths under an issuer URL, shared with the
// token command's generic --issuer form.
var OAuthPaths = struct{ Authorize, Token, DeviceCode, Device string }{
	"/authorize", "/token", "/devicecode", "/device"}

// OAuthHandler serves the emulated OAuth endpoints of every provider.
func (sb *Sandbox) OAuthHandler() http.Handler {
	mux := http.NewServeMux()
	for _, p := range sb.cat.profiles {
		if p.OAuth == nil {
			continue
		}
		p := p
		base := "/" + p.Name
		mux.HandleFunc("POST "+base+OAuthPaths.DeviceCode, func(w http.ResponseWriter, r *http.Request) { sb.deviceCode(w, r, p) })
		mux.HandleFunc("GET "+base+OAuthPaths.Device, func(w http.ResponseWriter, r *http.Request) { sb.devicePage(w, r, p, "") })
		mux.HandleFunc("POST "+base+OAuthPaths.Device, func(w http.ResponseWriter, r *http.Request) { sb.deviceDecide(w, r, p) })
		mux.HandleFunc("GET "+base+OAuthPaths.Authorize, func(w http.ResponseWriter, r *http.Request) { sb.authorizePage(w, r, p) })
		mux.HandleFunc("POST "+base+OAuthPaths.Authorize, func(w http.ResponseWriter, r *http.Request) { sb.authorizeDecide(w, r, p) })
		mux.HandleFunc("POST "+base+OAuthPaths.Token, func(w http.ResponseWriter, r *http.Request) { sb.token(w, r, p) })
	}
	return http.MaxBytesHandler(mux, 64<<10)
}

// OAuthProviders lists the providers whose OAuth endpoints the sandbox
// emulates.
func OAuthProviders() []string {
	var names []string
	for _, p := range mustCatalog().profiles {
		if p.OAuth != nil {
			names = append(names, p.Name)
		}
	}
	return names
}

// OAuthScope is the scope SMTP needs at an emulated provider.
func OAuthScope(provider string) string {
	if p, ok := mustCatalog().byName[provider]; ok && p.OAuth != nil {
		return p.OAuth.Scope
	}
	return ""
}

// InProcessOAuthBase is the issuer URL root of OAuthClient's endpoints.
const InProcessOAuthBase = "http://oauth.sandbox.invalid"

// OAuthClient is an HTTP client whose requests go to OAuthHandler in
// process, with no socket: `smtprun token --sandbox` runs the real flows
// through it against InProcessOAuthBase/PROVIDER.
func (sb *Sandbox) OAuthClient() *http.Client {
	h := sb.OAuthHandler()
	return &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		return rec.Result(), nil
	}), CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// oauthError answers a token or device request with RFC 6749 5.2's JSON.
func oauthError(w http.ResponseWriter, status int, code, description string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": description})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(v)
}

func baseURL(r *http.Request, p *profile) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + "/" + p.Name
}

func (sb *Sandbox) deviceCode(w http.ResponseWriter, r *http.Request, p *profile) {
	if r.PostFormValue("client_id") == "" {
		oauthError(w, http.StatusBadRequest, "invalid_request", "client_id is required: register an app and pass --client-id")
		return
	}
	is := sb.oauth
	is.mu.Lock()
	is.sweep()
	now := is.clock()
	g := &deviceGrant{provider: p.Name, scope: r.PostFormValue("scope"), userCode: userCode(),
		expires: now.Add(is.devTTL), interval: is.interval, state: "pending"}
	code := secretString(24)
	is.devices[code] = g
	is.byUser[g.userCode] = g
	is.mu.Unlock()
	verify := baseURL(r, p) + OAuthPaths.Device
	sb.oauthNote(p, "device code issued; user code %s, scope %q, good for %s", g.userCode, g.scope, is.devTTL)
	writeJSON(w, map[string]any{
		"device_code":               code,
		"user_code":                 g.userCode,
		"verification_uri":          verify,
		"verification_uri_complete": verify + "?user_code=" + url.QueryEscape(g.userCode),
		"expires_in":                int(is.devTTL / time.Second),
		"interval":                  int(is.interval / time.Second),
		"message":                   "To sign in, open " + verify + " and enter the code " + g.userCode + " to authenticate.",
	})
}

var pageTemplate = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>smtprun sandbox: {{.Provider}} sign-in</title></head>
<body>
<h1>{{.Provider}} (smtprun sandbox)</h1>
{{if .Message}}<p><strong>{{.Message}}</strong></p>{{else}}
<p>An application asks for access to your mail with the scope <code>{{.Scope}}</code>.</p>
<form method="post" action="{{.Action}}">
{{range $k, $v := .Hidden}}<input type="hidden" name="{{$k}}" value="{{$v}}">
{{end}}{{if .Device}}<p><label>Code <input name="user_code" value="{{.UserCode}}"></label></p>{{end}}
<p><label>Account <input name="account" value="" placeholder="any address"></label></p>
<p><button name="action" value="approve">Approve</button> <button name="action" value="deny">Deny</button></p>
</form>{{end}}
</body></html>
`))

type page struct {
	Provider, Scope, Action, UserCode, Message string
	Device                                     bool
	Hidden                                     map[string]string
}

func (sb *Sandbox) devicePage(w http.ResponseWriter, r *http.Request, p *profile, message string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	code := r.FormValue("user_code")
	scope := p.OAuth.Scope
	sb.oauth.mu.Lock()
	if g, ok := sb.oauth.byUser[strings.ToUpper(code)]; ok {
		scope = g.scope
	}
	sb.oauth.mu.Unlock()
	pageTemplate.Execute(w, page{Provider: p.OAuth.Title, Scope: scope, Action: baseURL(r, p) + OAuthPaths.Device,
		UserCode: code, Device: true, Message: message})
}

// deviceDecide records the user's answer for a user code: a POST of
// user_code approves it, with action=deny it is declined.
func (sb *Sandbox) deviceDecide(w http.ResponseWriter, r *http.Request, p *profile) {
	code := strings.ToUpper(strings.TrimSpace(r.PostFormValue("user_code")))
	is := sb.oauth
	is.mu.Lock()
	g, ok := is.byUser[code]
	msg := ""
	switch {
	case !ok || g.provider != p.Name:
		msg = "That code was not recognised. Check it and try again."
	case !is.clock().Before(g.expires):
		msg = "That code has expired. Start again from your application."
	case g.state != "pending":
		msg = "That code has already been used."
	case r.PostFormValue("action") == "deny":
		g.state = "denied"
		msg = "You declined. You can close this window."
	default:
		g.state, g.user = "approved", strings.TrimSpace(r.PostFormValue("account"))
		msg = "You have signed in to the application. You can close this window."
	}
	is.mu.Unlock()
	sb.oauthNote(p, "verification page, user code %q: %s", code, msg)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if !ok {
		w.WriteHeader(http.StatusNotFound)
	}
	pageTemplate.Execute(w, page{Provider: p.OAuth.Title, Message: msg})
}

// authorizeParams are the query parameters of an authorization request
// that the page carries into its form.
var authorizeParams = []string{"response_type", "client_id", "redirect_uri", "scope", "state", "code_challenge", "code_challenge_method", "access_type", "login_hint"}

// checkAuthorize validates an authorization request; it returns the
// problem in words, or "".
func checkAuthorize(r *http.Request) string {
	switch {
	case r.FormValue("response_type") != "code":
		return "response_type must be code"
	case r.FormValue("client_id") == "":
		return "client_id is required"
	case r.FormValue("code_challenge") == "" || r.FormValue("code_challenge_method") != "S256":
		return "PKCE is required: code_challenge with code_challenge_method S256 (RFC 7636)"
	}
	u, err := url.Parse(r.FormValue("redirect_uri"))
	if err != nil || u.Scheme != "http" {
		return "redirect_uri must be a loopback http URL (RFC 8252 7.3)"
	}
	if ip := net.ParseIP(u.Hostname()); (ip == nil || !ip.IsLoopback()) && u.Hostname() != "localhost" {
		return "redirect_uri must be a loopback http URL (RFC 8252 7.3)"
	}
	return ""
}

func (sb *Sandbox) authorizePage(w http.ResponseWriter, r *http.Request, p *profile) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if msg := checkAuthorize(r); msg != "" {
		// RFC 6749 4.1.2.1: a bad redirect URI is never redirected to.
		w.WriteHeader(http.StatusBadRequest)
		pageTemplate.Execute(w, page{Provider: p.OAuth.Title, Message: "Error: " + msg})
		return
	}
	hidden := map[string]string{}
	for _, k := range authorizeParams {
		if v := r.FormValue(k); v != "" {
			hidden[k] = v
		}
	}
	pageTemplate.Execute(w, page{Provider: p.OAuth.Title, Scope: r.FormValue("scope"), Action: baseURL(r, p) + OAuthPaths.Authorize, Hidden: hidden})
}

// authorizeDecide redirects to the client's loopback redirect URI with a
// code, or with error=access_denied (RFC 6749 4.1.2).
func (sb *Sandbox) authorizeDecide(w http.ResponseWriter, r *http.Request, p *profile) {
	if msg := checkAuthorize(r); msg != "" {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusBadRequest)
		pageTemplate.Execute(w, page{Provider: p.OAuth.Title, Message: "Error: " + msg})
		return
	}
	redirect, _ := url.Parse(r.FormValue("redirect_uri"))
	q := redirect.Query()
	if s := r.FormValue("state"); s != "" {
		q.Set("state", s)
	}
	if r.FormValue("action") == "deny" {
		sb.oauthNote(p, "authorization denied; redirecting to %s", r.FormValue("redirect_uri"))
		q.Set("error", "access_denied")
		q.Set("error_description", "The user declined.")
	} else {
		code := secretString(24)
		is := sb.oauth
		is.mu.Lock()
		is.codes[code] = &codeGrant{provider: p.Name, scope: r.FormValue("scope"), user: strings.TrimSpace(r.FormValue("account")),
			redirectURI: r.FormValue("redirect_uri"), challenge: r.FormValue("code_challenge"), expires: is.clock().Add(10 * time.Minute)}
		is.mu.Unlock()
		q.Set("code", code)
		sb.oauthNote(p, "authorization approved (PKCE S256); redirecting to %s with a code", r.FormValue("redirect_uri"))
	}
	redirect.RawQuery = q.Encode()
	http.Redirect(w, r, redirect.String(), http.StatusFound)
}

func (sb *Sandbox) token(w http.ResponseWriter, r *http.Request, p *profile) {
	is := sb.oauth
	is.mu.Lock()
	defer is.mu.Unlock()
	now := is.clock()
	if r.PostFormValue("client_id") == "" {
		if _, _, ok := r.BasicAuth(); !ok {
			oauthError(w, http.StatusUnauthorized, "invalid_client", "client_id is required")
			return
		}
	}
	var user, scope string
	switch gt := r.PostFormValue("grant_type"); gt {
	case "urn:ietf:params:oauth:grant-type:device_code":
		g, ok := is.devices[r.PostFormValue("device_code")]
		switch {
		case !ok || g.provider != p.Name || g.state == "used":
			oauthError(w, http.StatusBadRequest, "invalid_grant", "unknown or used device_code")
			return
		case !now.Before(g.expires):
			oauthError(w, http.StatusBadRequest, "expired_token", "the device code has expired; start again")
			return
		case g.state == "denied":
			oauthError(w, http.StatusBadRequest, "access_denied", "the user declined")
			return
		case !g.lastPoll.IsZero() && now.Sub(g.lastPoll) < g.interval:
			// RFC 8628 3.5: polling too fast adds 5 s to the interval.
			g.lastPoll = now
			g.interval += slowDownStep
			oauthError(w, http.StatusBadRequest, "slow_down", "polling too fast")
			return
		case g.state == "pending":
			g.lastPoll = now
			oauthError(w, http.StatusBadRequest, "authorization_pending", "the user has not approved yet")
			return
		}
		g.state = "used"
		user, scope = g.user, g.scope
	case "authorization_code":
		c, ok := is.codes[r.PostFormValue("code")]
		delete(is.codes, r.PostFormValue("code")) // a code is good once (RFC 6749 4.1.2)
		switch {
		case !ok || c.provider != p.Name || !now.Before(c.expires):
			oauthError(w, http.StatusBadRequest, "invalid_grant", "unknown, used or expired code")
			return
		case r.PostFormValue("redirect_uri") != c.redirectURI:
			oauthError(w, http.StatusBadRequest, "invalid_grant", "redirect_uri does not match the authorization request")
			return
		case s256(r.PostFormValue("code_verifier")) != c.challenge:
			oauthError(w, http.StatusBadRequest, "invalid_grant", "code_verifier does not match the code_challenge (RFC 7636 4.6)")
			return
		}
		user, scope = c.user, c.scope
	case "refresh_token":
		rt := r.PostFormValue("refresh_token")
		g, ok := is.refresh[rt]
		if !ok || g.provider != p.Name {
			oauthError(w, http.StatusBadRequest, "invalid_grant", "unknown or revoked refresh_token")
			return
		}
		access := p.OAuth.TokenPrefix + secretString(32)
		is.access[access] = grant{provider: p.Name, user: g.user, scope: g.scope, expires: now.Add(is.ttl)}
		sb.oauthNote(p, "access token refreshed, good for %s", is.ttl)
		writeJSON(w, map[string]any{"access_token": access, "token_type": "Bearer", "expires_in": int(is.ttl / time.Second),
			"scope": g.scope, "refresh_token": rt})
		return
	default:
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "grant_type "+gt+" is not supported")
		return
	}
	access, refresh, ttl := is.tokens(p, user, scope)
	sb.oauthNote(p, "tokens issued (%s grant), scope %q, good for %s", strings.TrimPrefix(r.PostFormValue("grant_type"), "urn:ietf:params:oauth:grant-type:"), scope, ttl)
	writeJSON(w, map[string]any{"access_token": access, "token_type": "Bearer", "expires_in": int(ttl / time.Second),
		"scope": scope, "refresh_token": refresh})
}

// oauthNote tells the person watching `smtprun serve` what the OAuth
// endpoints did, as Conn 0 notes. Never a token: only codes a person
// types, scopes and lifetimes.
func (sb *Sandbox) oauthNote(p *profile, format string, a ...any) {
	sb.observe(Event{Time: sb.clock(), Kind: Note, Profile: p.Name, Line: "oauth " + p.Name + ": " + fmt.Sprintf(format, a...)})
}
