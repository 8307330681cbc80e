package main

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/smtprun/smtprun/internal/testenv"
	"github.com/smtprun/smtprun/sandbox"
)

// smtplibXOAUTH2 logs in with XOAUTH2 using Python's smtplib, a client
// smtprun did not write: argv is host, port, CA file, user, token. It
// prints the final reply code.
const smtplibXOAUTH2 = `
import smtplib, ssl, sys
host, port, ca, user, token = sys.argv[1:6]
s = smtplib.SMTP(host, int(port), timeout=10)
s.starttls(context=ssl.create_default_context(cafile=ca))
s.ehlo("python.example")
try:
    code, _ = s.auth("XOAUTH2", lambda challenge=None: "" if challenge else "user=%s\x01auth=Bearer %s\x01\x01" % (user, token), initial_response_ok=True)
except smtplib.SMTPAuthenticationError as e:
    code = e.smtp_code
print(code)
s.quit()
`

// TestOAuthWithRealClients: curl runs the device flow against serve's
// endpoints by hand (RFC 8628 3.1, 3.4, the verification form), and
// Python's smtplib logs in with the token it got on the same serve.
func TestOAuthWithRealClients(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		testenv.Missing(t, "curl is not installed; `apt-get install curl` (.ci/run installs it)")
	}
	python, err := exec.LookPath("python3")
	if err != nil {
		testenv.Missing(t, "python3 is not installed; `apt-get install python3` (.ci/run installs it)")
	}
	sub, base, ca, _ := oauthServe(t, sandbox.Options{}, "--profile", "office365")
	post := func(url string, form ...string) map[string]any {
		t.Helper()
		args := []string{"-s", "--max-time", "10", url}
		for _, f := range form {
			args = append(args, "--data-urlencode", f)
		}
		out, err := exec.Command(curl, args...).Output()
		if err != nil {
			t.Fatalf("curl %s: %v", url, err)
		}
		var m map[string]any
		if json.Unmarshal(out, &m) != nil {
			return map[string]any{"body": string(out)}
		}
		return m
	}
	da := post(base+"/office365/devicecode", "client_id=curl-test", "scope=https://outlook.office.com/SMTP.Send offline_access")
	code, _ := da["user_code"].(string)
	verify, _ := da["verification_uri"].(string)
	if code == "" || verify != base+"/office365/device" {
		t.Fatalf("device authorization: %v", da)
	}
	poll := func() map[string]any {
		return post(base+"/office365/token", "client_id=curl-test", "grant_type=urn:ietf:params:oauth:grant-type:device_code",
			"device_code="+da["device_code"].(string))
	}
	if got := poll(); got["error"] != "authorization_pending" {
		t.Errorf("before approval: %v", got)
	}
	if got := post(verify, "user_code="+code); !strings.Contains(got["body"].(string), "You have signed in") {
		t.Errorf("approval page: %v", got)
	}
	time.Sleep(1100 * time.Millisecond) // the 1 s interval, or slow_down
	tok := poll()
	access, _ := tok["access_token"].(string)
	if access == "" || tok["token_type"] != "Bearer" || tok["refresh_token"] == nil {
		t.Fatalf("token response: %v", tok)
	}

	host, port, _ := strings.Cut(sub, ":")
	for token, want := range map[string]string{access: "235", access + "x": "535"} {
		out, err := exec.Command(python, "-c", smtplibXOAUTH2, host, port, ca, "me@contoso.com", token).CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != want {
			t.Errorf("smtplib XOAUTH2: %v, printed %q, want %s", err, out, want)
		}
	}
}
