package sasl

import (
	"crypto/hmac"
	"crypto/md5"
	"encoding/hex"
)

// cramMD5 is CRAM-MD5 (RFC 2195), which go-sasl does not have: the answer
// to the server's challenge is the user name, a space, and the hex
// HMAC-MD5 of the challenge keyed with the password.
type cramMD5 struct {
	user, secret string
}

func newCRAMMD5(user, secret string) Client { return &cramMD5{user, secret} }

func (c *cramMD5) Start() (string, []byte, error) { return "CRAM-MD5", nil, nil }

func (c *cramMD5) Next(challenge []byte) ([]byte, error) {
	return []byte(CRAMMD5Response(c.user, c.secret, challenge)), nil
}

// CRAMMD5Response is the answer to a CRAM-MD5 challenge, before base64:
// what the client sends, and what a server checks against.
func CRAMMD5Response(user, secret string, challenge []byte) string {
	mac := hmac.New(md5.New, []byte(secret))
	mac.Write(challenge)
	return user + " " + hex.EncodeToString(mac.Sum(nil))
}

func (c *cramMD5) Role() Role { return Digest }
