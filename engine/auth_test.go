package engine_test

import (
	"bufio"
	"encoding/base64"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/smtprun/smtprun/dsl"
	"github.com/smtprun/smtprun/engine"
)

// TestSASLWireBytes pins what each mechanism puts on the wire, line by
// line, and the role each line is reported with: the exchange is driven
// the same way for all, and must stay byte for byte what servers expect.
func TestSASLWireBytes(t *testing.T) {
	b64 := base64.StdEncoding.EncodeToString
	challenge := "<1896.697170952@postoffice.reston.mci.net>"
	tests := []struct {
		mech       string
		challenges []string // the server's 334 texts, decoded
		wire       []string
		roles      []engine.Role
	}{
		{"plain", nil, []string{"AUTH PLAIN " + b64([]byte("\x00tim\x00tanstaaftanstaaf"))},
			[]engine.Role{engine.RoleCredentials}},
		{"login", []string{"Username:", "Password:"}, []string{"AUTH LOGIN", b64([]byte("tim")), b64([]byte("tanstaaftanstaaf"))},
			[]engine.Role{engine.RoleAuth, engine.RoleUsername, engine.RolePassword}},
		{"cram-md5", []string{challenge}, []string{"AUTH CRAM-MD5", b64([]byte("tim b913a602c7eda7a495b4e6e7334d3890"))},
			[]engine.Role{engine.RoleAuth, engine.RoleDigest}},
	}
	for _, tc := range tests {
		t.Run(tc.mech, func(t *testing.T) {
			f := startFake(t, func(c net.Conn, r *bufio.Reader) []byte {
				say(c, "220 fake\r\n")
				var got []string
				got = append(got, expectLine(r))
				for _, ch := range tc.challenges {
					say(c, "334 "+b64([]byte(ch))+"\r\n")
					got = append(got, expectLine(r))
				}
				say(c, "235 ok\r\n")
				return []byte(strings.Join(got, "\n"))
			})
			src := "connect \"${ADDR}\"\nexpect 220\nauth " + tc.mech + " \"tim\" \"tanstaaftanstaaf\"\nexpect 235\n"
			rec, err := runFake(t, f, src, 2*time.Second, dsl.MapVars{})
			if err != nil {
				t.Fatalf("%v\n%s", err, rec.text())
			}
			if got := strings.Split(string(f.result(t)), "\n"); !slices.Equal(got, tc.wire) {
				t.Errorf("wire %q, want %q", got, tc.wire)
			}
			var roles []engine.Role
			for _, ev := range rec.events {
				if s, ok := ev.(engine.Sent); ok {
					roles = append(roles, s.Role)
					if s.Role.Secret() && !strings.HasSuffix(s.Line, engine.Mask) {
						t.Errorf("secret line shown as %q", s.Line)
					}
				}
			}
			if !slices.Equal(roles, tc.roles) {
				t.Errorf("roles %v, want %v", roles, tc.roles)
			}
		})
	}
}
