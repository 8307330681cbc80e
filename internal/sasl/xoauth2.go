package sasl

// xoauth2 is Google's and Microsoft's XOAUTH2: the initial response is
// "user=USER^Aauth=Bearer TOKEN^A^A" (^A is 0x01). A refused token gets a
// 334 whose text is base64 JSON; the client answers it with an empty line
// and the server then sends its final 5xx ("Google for Developers: OAuth
// 2.0 Mechanism").
type xoauth2 struct {
	oauthFailure
	user, token string
}

func newXOAuth2(user, token string) Client { return &xoauth2{user: user, token: token} }

func (x *xoauth2) Start() (string, []byte, error) {
	x.role = Token
	return "XOAUTH2", []byte("user=" + x.user + "\x01auth=Bearer " + x.token + "\x01\x01"), nil
}

// Next answers the error challenge with an empty response. Anything else
// is a server that ignored the initial response and asks for it with an
// empty 334, as Microsoft's can: it is sent again.
func (x *xoauth2) Next(challenge []byte) ([]byte, error) {
	if resp, ok := x.answerError(challenge, []byte{}); ok {
		return resp, nil
	}
	_, ir, err := x.Start()
	return ir, err
}
