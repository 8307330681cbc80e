package main

import (
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"
)

// TestSecretsNeverPrinted sweeps every output of runs that authenticate
// with PLAIN, LOGIN and CRAM-MD5, succeeding and failing, in normal and
// quiet mode, for the secret in every encoding it could leak in.
func TestSecretsNeverPrinted(t *testing.T) {
	dir := t.TempDir()
	cram := writeFile(t, dir, "cram.smtp", `connect "mail.example.edu:587"
expect 220
send "EHLO me"
expect 250
starttls
send "EHLO me"
expect 250 "CRAM-MD5"
auth cram-md5 "${SMTP_USER}" "${SMTP_PASS}"
expect 235
quit
`)
	// The user names are the practice accounts; PLAIN embeds them.
	runs := map[string]struct{ script, user string }{
		"login": {"../../scripts/utep.smtp", "student@contoso.onmicrosoft.com"},
		"plain": {"../../scripts/gmail.smtp", "smtprun.student@gmail.com"},
		"cram":  {cram, "student@example.edu"},
	}
	for mech, r := range runs {
		for _, pass := range []string{"practice-password", "Wr0ng-Secret-Value!"} {
			for _, mode := range [][]string{nil, {"-q"}, {"--explain"}} {
				args := append([]string{"--sandbox", "--var", "SMTP_PASS=" + pass}, mode...)
				args = append(args, r.script)
				code, out, errOut := cli(t, args...)
				if code != 0 && code != exitExpectation {
					t.Fatalf("%s %s: exit %d\n%s%s", mech, pass, code, out, errOut)
				}
				all := out + errOut
				user := r.user
				for name, form := range leakForms(user, pass) {
					if strings.Contains(all, form) {
						t.Errorf("%s, password %q, mode %v: output contains the %s form %q:\n%s", mech, pass, mode, name, form, all)
					}
				}
			}
		}
	}
}

func leakForms(user, pass string) map[string]string {
	forms := map[string]string{
		"plain":      pass,
		"hex":        hex.EncodeToString([]byte(pass)),
		"HEX":        strings.ToUpper(hex.EncodeToString([]byte(pass))),
		"base64":     base64.StdEncoding.EncodeToString([]byte(pass)),
		"PLAIN blob": base64.StdEncoding.EncodeToString([]byte("\x00" + user + "\x00" + pass)),
	}
	for k := 1; k < 3; k++ {
		enc := base64.StdEncoding.EncodeToString(append(make([]byte, k), pass...))
		forms["base64 offset "+string(rune('0'+k))] = enc[4 : len(enc)-4]
	}
	return forms
}
