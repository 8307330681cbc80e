package engine_test

import (
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/smtprun/smtprun/dsl"
	"github.com/smtprun/smtprun/engine"
	"github.com/smtprun/smtprun/internal/smtptest"
)

const oauthLogin = tlsPrelude + `expect 250 /AUTH .*XOAUTH2/
auth ${MECH} "${USER}" "${TOKEN}"
expect 235
quit
`

// TestOAuthOnTheWire checks the exact bytes of XOAUTH2 and OAUTHBEARER
// against go-smtp: the initial responses, and on a refused token the JSON
// challenge, the client's empty (XOAUTH2) or ^A (OAUTHBEARER, RFC 7628
// 3.2.3) answer and the final 535 left for the expect.
func TestOAuthOnTheWire(t *testing.T) {
	for _, tc := range []struct {
		mech, ir, ack string
	}{
		{"xoauth2", "user=%U\x01auth=Bearer %T\x01\x01", ""},
		{"oauthbearer", "n,a=%U,\x01host=127.0.0.1\x01port=%P\x01auth=Bearer %T\x01\x01", "AQ=="},
	} {
		t.Run(tc.mech, func(t *testing.T) {
			g := smtptest.Start(t, false)
			port := g.Addr[strings.LastIndex(g.Addr, ":")+1:]
			ir := func(token string) string {
				return base64.StdEncoding.EncodeToString([]byte(strings.NewReplacer("%U", g.User, "%T", token, "%P", port).Replace(tc.ir)))
			}
			src := strings.ReplaceAll(oauthLogin, "${MECH}", tc.mech)
			vars := dsl.MapVars{"ADDR": g.Addr, "USER": g.User, "TOKEN": smtptest.Token}
			rec, _, err := runSrc(t, src, engine.WithRootCAs(g.PKI.Pool), engine.WithVars(vars))
			if err != nil {
				t.Fatalf("run: %v\n%s", err, rec.text())
			}
			if want := "AUTH " + strings.ToUpper(tc.mech) + " " + ir(smtptest.Token) + "\r\n235 "; !strings.Contains(waitWire(g, "235 "), want) {
				t.Errorf("wire lacks %q:\n%s", want, g.Wire())
			}
			if strings.Contains(rec.text(), smtptest.Token) || strings.Contains(rec.text(), ir(smtptest.Token)) {
				t.Errorf("token shown:\n%s", rec.text())
			}

			// A token the server refuses.
			g = smtptest.Start(t, false)
			port = g.Addr[strings.LastIndex(g.Addr, ":")+1:]
			const bad = "ya29.expired-token-abcdef"
			vars = dsl.MapVars{"ADDR": g.Addr, "USER": g.User, "TOKEN": bad}
			rec, _, err = runSrc(t, src, engine.WithRootCAs(g.PKI.Pool), engine.WithVars(vars))
			var ae *engine.AssertError
			if !errors.As(err, &ae) || ae.Got.Code != 535 {
				t.Fatalf("err %v, want the 535 to fail expect 235\n%s", err, rec.text())
			}
			if ae.OAuth == nil || ae.OAuth.Scope != "https://mail.google.com/" && tc.mech == "xoauth2" {
				t.Errorf("the failure does not name the refusal: %+v", ae.OAuth)
			}
			wire := waitWire(g, "535 5.7.8")
			challengeAt := strings.Index(wire, "\r\n334 ")
			if challengeAt < 0 {
				t.Fatalf("no 334 on the wire:\n%s", wire)
			}
			rest := wire[challengeAt+2:]
			line, rest, _ := strings.Cut(rest, "\r\n")
			js, derr := base64.StdEncoding.DecodeString(strings.TrimPrefix(line, "334 "))
			if derr != nil || !strings.Contains(string(js), `"status"`) {
				t.Fatalf("challenge %q: %s", line, js)
			}
			if !strings.HasPrefix(rest, tc.ack+"\r\n535 5.7.8 ") {
				t.Errorf("after the challenge, want %q then 535; wire:\n%q", tc.ack, rest)
			}
			text := rec.text()
			if !strings.Contains(text, "engine.OAuthRefused") || !strings.Contains(text, string(js)) {
				t.Errorf("no OAuthRefused event with the JSON:\n%s", text)
			}
			if !strings.Contains(text, "role=acknowledge") {
				t.Errorf("answer not marked as the acknowledgement:\n%s", text)
			}
			if strings.Contains(text, bad) || strings.Contains(text, ir(bad)) || strings.Contains(err.Error(), bad) {
				t.Errorf("refused token shown:\n%s\n%v", text, err)
			}
		})
	}
}

// TestOAuthBearerBindsTheServer: host= and port= are the connection's.
func TestOAuthBearerBindsTheServer(t *testing.T) {
	g := smtptest.Start(t, false)
	src := strings.ReplaceAll(oauthLogin, "${MECH}", "oauthbearer")
	vars := dsl.MapVars{"ADDR": g.Addr, "USER": g.User, "TOKEN": smtptest.Token}
	if _, _, err := runSrc(t, src, engine.WithRootCAs(g.PKI.Pool), engine.WithVars(vars)); err != nil {
		t.Fatal(err)
	}
	if len(g.Bearer) != 1 || g.Bearer[0].Host != "127.0.0.1" || g.Addr != "127.0.0.1:"+strconv.Itoa(g.Bearer[0].Port) {
		t.Errorf("bearer %+v, server %s", g.Bearer, g.Addr)
	}
}

// waitWire returns the server's copy of the wire once it holds want:
// go-smtp writes its debug copy after the bytes went out, so the client
// may have read a reply before the copy is made.
func waitWire(g *smtptest.Server, want string) string {
	deadline := time.Now().Add(2 * time.Second)
	for !strings.Contains(g.Wire(), want) && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	return g.Wire()
}
