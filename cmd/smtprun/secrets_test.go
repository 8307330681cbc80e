package main

import (
	"bufio"
	"encoding/base64"
	"encoding/hex"
	"io"
	"net"
	"strings"
	"testing"

	"github.com/smtprun/smtprun/engine"
	"github.com/smtprun/smtprun/internal/smtptest"
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

// unusualPasswords are the secrets a review found shown: bytes that look
// different once escaped (a backslash, a control byte, DEL, invalid
// UTF-8, an escape sequence), and a very short one.
var unusualPasswords = map[string]string{
	"backslash": `Tr0ub4dor\&3`,
	"control":   "Tr0ub4dor\x01&3",
	"DEL":       "Tr0ub4dor\x7f&3",
	"non-UTF-8": "Tr0ub4dor\xff\xfe&3",
	"ESC":       "Tr0ub4dor\x1b]0;pwned\x07",
	"short":     "q7",
}

// echoServer answers like a server that quotes the client's AUTH data
// back, blob and decoded password both, in its refusal.
func echoServer(t *testing.T) string {
	return smtptest.Serve(t, func(c net.Conn, r *bufio.Reader) {
		io.WriteString(c, "220 echo\r\n")
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			line = strings.TrimRight(line, "\r\n")
			switch f := strings.Fields(line); {
			case len(f) == 0:
				io.WriteString(c, "500 empty\r\n")
			case strings.EqualFold(f[0], "EHLO"):
				io.WriteString(c, "250-echo\r\n250 AUTH PLAIN\r\n")
			case strings.EqualFold(f[0], "AUTH") && len(f) == 3:
				dec, _ := base64.StdEncoding.DecodeString(f[2])
				parts := strings.SplitN(string(dec), "\x00", 3)
				pass := parts[len(parts)-1]
				io.WriteString(c, "535-5.7.8 you sent "+f[2]+"\r\n535 5.7.8 password "+pass+" is wrong\r\n")
			case strings.EqualFold(f[0], "QUIT"):
				io.WriteString(c, "221 bye\r\n")
				return
			default:
				io.WriteString(c, "250 ok "+line+"\r\n")
			}
		}
	})
}

// TestUnusualSecretsNeverPrinted sweeps the transcript, -q and --explain
// of runs against a server that echoes the password, for each unusual
// password, as is and as the terminal escaping would show it.
func TestUnusualSecretsNeverPrinted(t *testing.T) {
	addr := echoServer(t)
	dir := t.TempDir()
	script := writeFile(t, dir, "echo.smtp", `connect "${ADDR}"
expect 220
send "EHLO me"
expect 250
auth plain "${SMTP_USER}" "${SMTP_PASS}"
expect 235
quit
`)
	const user = "student@example.test"
	for name, pass := range unusualPasswords {
		for _, mode := range [][]string{nil, {"-q"}, {"--explain"}} {
			args := append([]string{"--var", "ADDR=" + addr, "--var", "SMTP_USER=" + user, "--var", "SMTP_PASS=" + pass}, mode...)
			code, out, errOut := cli(t, append(args, script)...)
			all := out + errOut
			if code != exitExpectation {
				t.Fatalf("%s %v: exit %d, want %d\n%s", name, mode, code, exitExpectation, all)
			}
			var forms map[string]string
			if len(pass) < engine.ShortSecret {
				// Too short to search for encodings of: they occur by
				// chance. The secret itself, and the PLAIN blob, may not.
				forms = map[string]string{"plain": pass,
					"PLAIN blob": base64.StdEncoding.EncodeToString([]byte("\x00" + user + "\x00" + pass))}
				if mode == nil && !strings.Contains(all, "under 4 characters") {
					t.Errorf("%s: no warning about the short secret:\n%s", name, all)
				}
			} else {
				forms = leakForms(user, pass)
			}
			forms["escaped"] = engine.Escape([]byte(pass))
			for form, s := range forms {
				if strings.Contains(all, s) {
					t.Errorf("%s, mode %v: output contains the %s form %q:\n%s", name, mode, form, s, all)
				}
			}
			if !strings.Contains(all, "password "+engine.Mask+" is wrong") {
				t.Errorf("%s, mode %v: the echo is not shown masked:\n%s", name, mode, all)
			}
		}
	}
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
