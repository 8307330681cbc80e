package smtp

import (
	"crypto/hmac"
	"crypto/md5"
	"encoding/hex"
)

// CRAMMD5Digest is the hex HMAC-MD5 of the challenge keyed with the
// secret: what a CRAM-MD5 client sends after its user name (RFC 2195 2).
func CRAMMD5Digest(secret, challenge []byte) string {
	m := hmac.New(md5.New, secret)
	m.Write(challenge)
	return hex.EncodeToString(m.Sum(nil))
}

// CRAMMD5Response is the client's whole answer before base64: "user
// digest".
func CRAMMD5Response(user string, secret, challenge []byte) string {
	return user + " " + CRAMMD5Digest(secret, challenge)
}

// CRAMMD5Verify reports whether a response's digest (hex, as sent) is the
// one secret gives for challenge, comparing in constant time.
func CRAMMD5Verify(digestHex string, secret, challenge []byte) bool {
	got, err := hex.DecodeString(digestHex)
	if err != nil {
		return false
	}
	m := hmac.New(md5.New, secret)
	m.Write(challenge)
	return hmac.Equal(m.Sum(nil), got)
}
