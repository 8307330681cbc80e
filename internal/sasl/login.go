package sasl

import (
	"strings"

	gosasl "github.com/emersion/go-sasl"
)

// login is the LOGIN mechanism (draft-murchison-sasl-login), with go-sasl
// answering the password prompt. go-sasl sends the user name as an initial
// response; servers and smtprun's transcripts expect it as the answer to
// the "Username:" prompt, so it is held back until then.
type login struct {
	inner gosasl.Client
	user  []byte
	round int
	role  Role
}

func newLogin(user, secret string) Client {
	return &login{inner: gosasl.NewLoginClient(user, secret)}
}

func (l *login) Start() (string, []byte, error) {
	mech, user, err := l.inner.Start()
	l.user = user
	return mech, nil, err
}

// Next answers by the prompt: servers send "Username:" and "Password:"
// (base64), but some word them differently, so anything after the first
// prompt that does not ask for the user is taken to ask for the password.
func (l *login) Next(challenge []byte) ([]byte, error) {
	prompt := strings.ToLower(string(challenge))
	round := l.round
	l.round++
	if strings.Contains(prompt, "pass") || (round > 0 && !strings.Contains(prompt, "user")) {
		l.role = Password
		return l.inner.Next([]byte("Password:"))
	}
	l.role = Username
	return l.user, nil
}

func (l *login) Role() Role { return l.role }
