package sasl

import (
	gosasl "github.com/emersion/go-sasl"
)

// oauthbearer is RFC 7628's OAUTHBEARER, with go-sasl building the GS2
// header "n,a=USER," and the host= and port= of the connection. go-sasl
// turns the error challenge into a Go error; the SMTP exchange instead
// needs the client to answer it with ^A (RFC 7628 3.2.3) and read the
// server's final reply, so that part is done here.
type oauthbearer struct {
	oauthFailure
	opts gosasl.OAuthBearerOptions
}

func newOAuthBearer(user, token string) Client {
	return &oauthbearer{opts: gosasl.OAuthBearerOptions{Username: user, Token: token}}
}

func (o *oauthbearer) SetServer(host string, port int) { o.opts.Host, o.opts.Port = host, port }

func (o *oauthbearer) Start() (string, []byte, error) {
	o.role = Token
	return gosasl.NewOAuthBearerClient(&o.opts).Start()
}

// Next answers the error challenge with ^A; an empty challenge (a server
// that ignored the initial response) gets the initial response again.
func (o *oauthbearer) Next(challenge []byte) ([]byte, error) {
	if resp, ok := o.answerError(challenge, []byte{0x01}); ok {
		return resp, nil
	}
	_, ir, err := o.Start()
	return ir, err
}
