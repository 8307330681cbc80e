package web

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"net"
	"net/http"
	"strings"
)

// TokenHeader carries the per-run token on changing requests.
const TokenHeader = "X-Smtprun-Token"

func newToken() string {
	b := make([]byte, 24)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// allowed decides whether a request may be served at all, and a changing
// one may change anything; the reason when not.
//
// The Host check stops DNS rebinding: a page on evil.example that
// re-resolves its name to 127.0.0.1 reaches this server with Host
// evil.example. The origin checks stop a cross-site form post or fetch,
// which a browser sends with the other site's Origin or with
// Sec-Fetch-Site: cross-site; the token stops what sends neither (a
// browser too old to, a plugin), since only a same-origin page can read it.
func (s *Server) allowed(r *http.Request) (bool, string) {
	if !s.public && !loopbackHost(r.Host) {
		return false, "the Host header names neither localhost nor a loopback address"
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		return true, ""
	}
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		return false, "cross-origin request (Sec-Fetch-Site: " + site + ")"
	}
	if o := r.Header.Get("Origin"); o != "" && o != "http://"+r.Host {
		return false, "cross-origin request (Origin is not this server's)"
	}
	got := r.Header.Get(TokenHeader)
	if subtle.ConstantTimeCompare([]byte(got), []byte(s.token)) != 1 {
		return false, "missing or wrong " + TokenHeader + " header (GET /api/v1/token gives it)"
	}
	return true, ""
}

func loopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
