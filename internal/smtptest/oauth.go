package smtptest

import (
	"encoding/json"
	"strings"

	"github.com/emersion/go-sasl"

	"github.com/smtprun/smtprun/internal/provider"
)

// Token is the one OAuth access token the server accepts, for Server.User.
const Token = "ya29.test-access-token-0123456789"

// oauthScope is what the error challenge names, as Gmail does.
var oauthScope = func() string {
	o, _ := provider.BrandOAuth("gmail")
	return o.Scope
}()

// oauthError is the JSON challenge Gmail sends for a refused token.
func oauthError() []byte {
	b, _ := json.Marshal(sasl.OAuthBearerError{Status: "400", Schemes: "Bearer", Scope: oauthScope})
	return b
}

// xoauth2Server is the server side of XOAUTH2 as Gmail speaks it, which
// go-sasl lacks: "user=U^Aauth=Bearer T^A^A"; a bad token gets the JSON
// challenge, the client's empty answer, then 535 5.7.8.
type xoauth2Server struct {
	g      *Server
	ok     func(string)
	failed bool
}

func (x *xoauth2Server) Next(resp []byte) ([]byte, bool, error) {
	if x.failed {
		if len(resp) != 0 {
			return nil, true, errBadRequest
		}
		return nil, true, errBadCredentials
	}
	if resp == nil {
		return []byte{}, false, nil
	}
	var user, token string
	for _, kv := range strings.Split(string(resp), "\x01") {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "user":
			user = v
		case "auth":
			token, _ = strings.CutPrefix(v, "Bearer ")
		}
	}
	if !strings.HasSuffix(string(resp), "\x01\x01") || user != x.g.User || token != Token {
		x.failed = true
		return oauthError(), false, nil
	}
	x.ok(user)
	return nil, true, nil
}

// oauthBearerServer wraps go-sasl's OAUTHBEARER server (RFC 7628): it
// checks the token and that host= and port= name this server, and turns
// go-sasl's errors into the 535 a real server sends after the client's ^A.
type oauthBearerServer struct{ inner sasl.Server }

func (o *oauthBearerServer) Next(resp []byte) ([]byte, bool, error) {
	ch, done, err := o.inner.Next(resp)
	if err != nil {
		return nil, true, errBadCredentials
	}
	return ch, done, nil
}

func (s *goSession) oauthBearer() sasl.Server {
	_, port, _ := strings.Cut(s.g.Addr, ":")
	return &oauthBearerServer{inner: sasl.NewOAuthBearerServer(func(o sasl.OAuthBearerOptions) *sasl.OAuthBearerError {
		s.g.mu.Lock()
		s.g.Bearer = append(s.g.Bearer, o)
		s.g.mu.Unlock()
		if o.Username != s.g.User || o.Token != Token || o.Host == "" || o.Port == 0 || port != itoa(o.Port) {
			return &sasl.OAuthBearerError{Status: "invalid_token", Schemes: "bearer", Scope: oauthScope}
		}
		s.user = o.Username
		return nil
	})}
}
