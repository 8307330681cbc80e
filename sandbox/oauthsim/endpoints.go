package oauthsim

import (
	"encoding/json"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/smtprun/smtprun/oauth"
)

// The HTTP side of the issuer, one set of endpoints per provider, under
// /PROVIDER/:
//
//	POST /PROVIDER/devicecode  device authorization request (RFC 8628 3.1)
//	GET  /PROVIDER/device      verification page: the user code, Approve and Deny
//	POST /PROVIDER/device      user_code (and action=deny to decline)
//	GET  /PROVIDER/authorize   authorization page for the code grant (RFC 6749 4.1)
//	POST /PROVIDER/authorize   the same parameters, and action=approve|deny
//	POST /PROVIDER/token       device_code, authorization_code (with PKCE) and refresh_token grants
//
// `smtprun token --issuer http://HOST:PORT/PROVIDER` finds them there.

// devicePath is the verification page a device code sends the user to;
// the others are where `smtprun token --issuer` looks (oauth.Paths).
const devicePath = "/device"

// endpoints serve one issuer's grants over HTTP.
type endpoints struct {
	is   *Issuer
	note func(provider, line string)
}

// Handler serves the endpoints of providers. note, if not nil, hears what
// they did in words for the person watching: never a token, only codes a
// person types, scopes and lifetimes.
func (is *Issuer) Handler(providers []*Provider, note func(provider, line string)) http.Handler {
	h := &endpoints{is: is, note: note}
	mux := http.NewServeMux()
	for _, p := range providers {
		base := "/" + p.Name
		mux.HandleFunc("POST "+base+oauth.Paths.DeviceCode, func(w http.ResponseWriter, r *http.Request) { h.deviceCode(w, r, p) })
		mux.HandleFunc("GET "+base+devicePath, func(w http.ResponseWriter, r *http.Request) { h.devicePage(w, r, p, "") })
		mux.HandleFunc("POST "+base+devicePath, func(w http.ResponseWriter, r *http.Request) { h.deviceDecide(w, r, p) })
		mux.HandleFunc("GET "+base+oauth.Paths.Authorize, func(w http.ResponseWriter, r *http.Request) { h.authorizePage(w, r, p) })
		mux.HandleFunc("POST "+base+oauth.Paths.Authorize, func(w http.ResponseWriter, r *http.Request) { h.authorizeDecide(w, r, p) })
		mux.HandleFunc("POST "+base+oauth.Paths.Token, func(w http.ResponseWriter, r *http.Request) { h.token(w, r, p) })
	}
	return http.MaxBytesHandler(capFields(mux), maxBody)
}

// Bounds on a request: real ones are a few hundred bytes, with scopes
// of a few dozen (Microsoft's and Google's SMTP scopes are 37 and 24
// bytes long), codes and verifiers of 43 to 128 (RFC 7636 4.1).
const (
	maxBody   = 16 << 10
	maxFields = 32
	maxScope  = 1 << 10
	maxField  = 2 << 10
)

// capFields refuses a request with more fields, or longer ones, than any
// client sends, before a handler keeps any of it in a grant.
func capFields(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			oauthError(w, http.StatusBadRequest, "invalid_request", "the request's form cannot be read (at most 16 KiB)")
			return
		}
		if len(r.Form) > maxFields {
			oauthError(w, http.StatusBadRequest, "invalid_request", fmt.Sprintf("more than %d fields", maxFields))
			return
		}
		for k, vs := range r.Form {
			limit, code := maxField, "invalid_request"
			if k == "scope" {
				limit, code = maxScope, "invalid_scope"
			}
			for _, v := range vs {
				if len(v) > limit || len(k) > maxField {
					oauthError(w, http.StatusBadRequest, code, fmt.Sprintf("%s is longer than %d bytes", short(k), limit))
					return
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

// maxLogged is how much of a value a client chose goes into the log.
const maxLogged = 64

// short is s cut to maxLogged bytes (at a character boundary), saying so.
func short(s string) string {
	if len(s) <= maxLogged {
		return s
	}
	cut := maxLogged
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + fmt.Sprintf("... (%d bytes)", len(s))
}

// tooManyPending answers a request for one more grant when maxPending
// are waiting.
func tooManyPending(w http.ResponseWriter) {
	oauthError(w, http.StatusServiceUnavailable, "temporarily_unavailable",
		fmt.Sprintf("%d sign-ins are waiting already; approve, deny or let some expire, then retry", maxPending))
}

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

func baseURL(r *http.Request, p *Provider) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + "/" + p.Name
}

func (h *endpoints) deviceCode(w http.ResponseWriter, r *http.Request, p *Provider) {
	if r.PostFormValue("client_id") == "" {
		oauthError(w, http.StatusBadRequest, "invalid_request", "client_id is required: register an app and pass --client-id")
		return
	}
	is := h.is
	is.mu.Lock()
	is.sweep()
	if is.pendingFull() {
		is.mu.Unlock()
		tooManyPending(w)
		return
	}
	now := is.clock()
	g := &deviceGrant{provider: p.Name, scope: r.PostFormValue("scope"), userCode: userCode(),
		expires: now.Add(is.devTTL), interval: is.interval, state: "pending"}
	code := secretString(24)
	is.devices[code] = g
	is.byUser[g.userCode] = g
	is.mu.Unlock()
	verify := baseURL(r, p) + devicePath
	h.notef(p, "device code issued; user code %s, scope %q, good for %s", g.userCode, short(g.scope), is.devTTL)
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

var pageTemplate = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("page").Parse(`<!DOCTYPE html>
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
})

type page struct {
	Provider, Scope, Action, UserCode, Message string
	Device                                     bool
	Hidden                                     map[string]string
}

func (h *endpoints) devicePage(w http.ResponseWriter, r *http.Request, p *Provider, message string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	code := r.FormValue("user_code")
	scope := p.Scope
	h.is.mu.Lock()
	if g, ok := h.is.byUser[strings.ToUpper(code)]; ok {
		scope = g.scope
	}
	h.is.mu.Unlock()
	pageTemplate().Execute(w, page{Provider: p.Title, Scope: scope, Action: baseURL(r, p) + devicePath,
		UserCode: code, Device: true, Message: message})
}

// deviceDecide records the user's answer for a user code: a POST of
// user_code approves it, with action=deny it is declined.
func (h *endpoints) deviceDecide(w http.ResponseWriter, r *http.Request, p *Provider) {
	code := strings.ToUpper(strings.TrimSpace(r.PostFormValue("user_code")))
	is := h.is
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
	h.notef(p, "verification page, user code %q: %s", short(code), msg)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if !ok {
		w.WriteHeader(http.StatusNotFound)
	}
	pageTemplate().Execute(w, page{Provider: p.Title, Message: msg})
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

func (h *endpoints) authorizePage(w http.ResponseWriter, r *http.Request, p *Provider) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if msg := checkAuthorize(r); msg != "" {
		// RFC 6749 4.1.2.1: a bad redirect URI is never redirected to.
		w.WriteHeader(http.StatusBadRequest)
		pageTemplate().Execute(w, page{Provider: p.Title, Message: "Error: " + msg})
		return
	}
	hidden := map[string]string{}
	for _, k := range authorizeParams {
		if v := r.FormValue(k); v != "" {
			hidden[k] = v
		}
	}
	pageTemplate().Execute(w, page{Provider: p.Title, Scope: r.FormValue("scope"), Action: baseURL(r, p) + oauth.Paths.Authorize, Hidden: hidden})
}

// authorizeDecide redirects to the client's loopback redirect URI with a
// code, or with error=access_denied (RFC 6749 4.1.2).
func (h *endpoints) authorizeDecide(w http.ResponseWriter, r *http.Request, p *Provider) {
	if msg := checkAuthorize(r); msg != "" {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusBadRequest)
		pageTemplate().Execute(w, page{Provider: p.Title, Message: "Error: " + msg})
		return
	}
	redirect, _ := url.Parse(r.FormValue("redirect_uri"))
	q := redirect.Query()
	if s := r.FormValue("state"); s != "" {
		q.Set("state", s)
	}
	if r.FormValue("action") == "deny" {
		h.notef(p, "authorization denied; redirecting to %s", short(r.FormValue("redirect_uri")))
		q.Set("error", "access_denied")
		q.Set("error_description", "The user declined.")
	} else {
		code := secretString(24)
		is := h.is
		is.mu.Lock()
		if is.pendingFull() {
			is.mu.Unlock()
			tooManyPending(w)
			return
		}
		is.codes[code] = &codeGrant{provider: p.Name, scope: r.FormValue("scope"), user: strings.TrimSpace(r.FormValue("account")),
			redirectURI: r.FormValue("redirect_uri"), challenge: r.FormValue("code_challenge"), expires: is.clock().Add(10 * time.Minute)}
		is.mu.Unlock()
		q.Set("code", code)
		h.notef(p, "authorization approved (PKCE S256); redirecting to %s with a code", short(r.FormValue("redirect_uri")))
	}
	redirect.RawQuery = q.Encode()
	http.Redirect(w, r, redirect.String(), http.StatusFound)
}

func (h *endpoints) token(w http.ResponseWriter, r *http.Request, p *Provider) {
	is := h.is
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
		access := p.TokenPrefix + secretString(32)
		is.access[access] = grant{provider: p.Name, user: g.user, scope: g.scope, expires: now.Add(is.ttl)}
		h.notef(p, "access token refreshed, good for %s", is.ttl)
		writeJSON(w, map[string]any{"access_token": access, "token_type": "Bearer", "expires_in": int(is.ttl / time.Second),
			"scope": g.scope, "refresh_token": rt})
		return
	default:
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "grant_type "+short(gt)+" is not supported")
		return
	}
	access, refresh, ttl := is.tokens(p, user, scope)
	h.notef(p, "tokens issued (%s grant), scope %q, good for %s", strings.TrimPrefix(r.PostFormValue("grant_type"), "urn:ietf:params:oauth:grant-type:"), short(scope), ttl)
	writeJSON(w, map[string]any{"access_token": access, "token_type": "Bearer", "expires_in": int(ttl / time.Second),
		"scope": scope, "refresh_token": refresh})
}

// notef tells the person watching what the endpoints did.
func (h *endpoints) notef(p *Provider, format string, a ...any) {
	if h.note != nil {
		h.note(p.Name, "oauth "+p.Name+": "+fmt.Sprintf(format, a...))
	}
}
