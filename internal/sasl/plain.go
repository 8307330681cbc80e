package sasl

import gosasl "github.com/emersion/go-sasl"

// plain is go-sasl's PLAIN client (RFC 4616), which sends everything as the
// initial response of AUTH (RFC 4954 4) to save a round trip.
type plain struct {
	gosasl.Client
	ir []byte
}

func newPlain(user, secret string) Client {
	return &plain{Client: gosasl.NewPlainClient("", user, secret)}
}

func (p *plain) Start() (string, []byte, error) {
	mech, ir, err := p.Client.Start()
	p.ir = ir
	return mech, ir, err
}

// Next answers a server that ignored the initial response and asks again
// with a 334 by sending the same response, where go-sasl would give up.
func (p *plain) Next([]byte) ([]byte, error) { return p.ir, nil }

func (p *plain) Role() Role { return Credentials }
