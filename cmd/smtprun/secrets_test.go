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

// TestTokensNeverPrinted sweeps the outputs of XOAUTH2 and OAUTHBEARER
// runs refused by the sandbox (Gmail's JSON challenge path and
// Microsoft's plain 535) for the token in every encoding, including the
// whole base64 blobs of both mechanisms.
func TestTokensNeverPrinted(t *testing.T) {
	dir := t.TempDir()
	bearer := writeFile(t, dir, "bearer.smtp", `connect "smtp.gmail.com:587"
expect 220
send "EHLO me"
expect 250
starttls
send "EHLO me"
expect 250 "OAUTHBEARER"
auth oauthbearer "${SMTP_USER}" "${SMTP_TOKEN}"
expect 235
quit
`)
	const token = "ya29.a0AfB_byC-not-issued-here-0123456789"
	runs := map[string]struct{ script, user, blob string }{
		"xoauth2 gmail":     {"../../scripts/gmail-oauth.smtp", "smtprun.student@gmail.com", "user=smtprun.student@gmail.com\x01auth=Bearer " + token + "\x01\x01"},
		"xoauth2 office365": {"../../scripts/utep-oauth.smtp", "student@contoso.onmicrosoft.com", "user=student@contoso.onmicrosoft.com\x01auth=Bearer " + token + "\x01\x01"},
		"oauthbearer":       {bearer, "smtprun.student@gmail.com", "n,a=smtprun.student@gmail.com,\x01host=smtp.gmail.com\x01port=587\x01auth=Bearer " + token + "\x01\x01"},
	}
	for name, r := range runs {
		for _, mode := range [][]string{nil, {"-q"}, {"--explain"}} {
			args := append([]string{"--sandbox", "--var", "SMTP_TOKEN=" + token}, mode...)
			code, out, errOut := cli(t, append(args, r.script)...)
			if code != exitExpectation {
				t.Fatalf("%s %v: exit %d, want the refusal to fail expect 235\n%s%s", name, mode, code, out, errOut)
			}
			all := out + errOut
			forms := leakForms(r.user, token)
			forms["mechanism blob"] = b64(r.blob)
			for form, s := range forms {
				if strings.Contains(all, s) {
					t.Errorf("%s, mode %v: output contains the %s form %q:\n%s", name, mode, form, s, all)
				}
			}
			if mode == nil && strings.Contains(name, "gmail") && !strings.Contains(all, `decodes to {"status":"400"`) {
				t.Errorf("%s: the JSON challenge is not shown decoded:\n%s", name, all)
			}
		}
	}
}
