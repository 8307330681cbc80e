package sasl

import "github.com/smtprun/smtprun/internal/smtp"

// cramMD5 is CRAM-MD5 (RFC 2195), which go-sasl does not have: the answer
// to the server's challenge is the user name, a space, and the hex
// HMAC-MD5 of the challenge keyed with the password.
type cramMD5 struct {
	user, secret string
}

func newCRAMMD5(user, secret string) Client { return &cramMD5{user, secret} }

func (c *cramMD5) Start() (string, []byte, error) { return "CRAM-MD5", nil, nil }

func (c *cramMD5) Next(challenge []byte) ([]byte, error) {
	return []byte(smtp.CRAMMD5Response(c.user, []byte(c.secret), challenge)), nil
}

func (c *cramMD5) Role() Role { return Digest }
