package sandbox

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSenderIdentity: each profile's answer when MAIL FROM or the From:
// header is not the account that logged in, the coach's diagnosis, and
// none when all three agree.
func TestSenderIdentity(t *testing.T) {
	for _, tc := range []struct {
		host, mailFrom, header string
		mailCode, endCode      string
		want                   string // the refusal, or a note
	}{
		{"smtp.office365.com", "", "boss@contoso.com", "250", "550", "550 5.7.60 SMTP; Client does not have permissions to send as this sender [SN"},
		{"smtp.office365.com", "boss@contoso.com", "", "250", "550", "550 5.7.60 SMTP; Client does not have permissions to send as this sender"},
		{"smtp.mail.yahoo.com", "someone@yahoo.com", "", "550", "", "550 Request failed; Mailbox unavailable"},
		{"smtp.mail.yahoo.com", "", "someone@yahoo.com", "250", "554", "554 6.6.0 Error sending message for delivery."},
		{"smtp.aol.com", "", "someone@aol.com", "250", "554", "554 6.6.0 Error sending message for delivery."},
		{"smtp.gmail.com", "", "someone@gmail.com", "250", "250", "gmail: the From: header someone@gmail.com is rewritten to smtprun.student@gmail.com, in the saved message too"},
		{"smtp.gmail.com", "", "someone@gmail.com", "250", "250", "saved: From: smtprun.student@gmail.com\r\nDate: Mon, 27 Mar 2023 18:17:53 +0000\r\nSubject: x\r\n\r\nhi\r\n"},
		{"smtp.office365.com", "", "", "250", "250", ""},
		{"smtp.gmail.com", "", "", "250", "250", ""},
	} {
		t.Run(tc.host+" "+tc.mailFrom+tc.header, func(t *testing.T) {
			r := &recorder{}
			dir := t.TempDir()
			sb := newTestSandbox(t, Options{Observer: r.observe, Explain: true, SaveDir: dir})
			user, _ := PracticeCredentials(ProfileForHost(tc.host))
			from, header := user, user
			if tc.mailFrom != "" {
				from = tc.mailFrom
			}
			if tc.header != "" {
				header = tc.header
			}
			c := login(t, sb, tc.host)
			got := c.cmd("MAIL FROM:<"+strings.ToUpper(from[:1])+from[1:]+">", tc.mailCode) // case does not matter
			if tc.endCode != "" {
				c.cmd("RCPT TO:<friend@example.com>", "250")
				c.cmd("DATA", "354")
				c.send("From: Some One <" + header + ">\r\nDate: Mon, 27 Mar 2023 18:17:53 +0000\r\nSubject: x\r\n\r\nhi\r\n.")
				got = c.reply(tc.endCode)
			}
			c.cmd("QUIT", "221")
			c.expectClosed()
			r.waitClosed(t, 1)
			var notes, diags []string
			for _, e := range r.kinds(1, Note) {
				notes = append(notes, e.Line)
			}
			for _, e := range r.kinds(1, DiagnosisMade) {
				diags = append(diags, e.Diagnosis.Rule+": "+e.Diagnosis.Detail)
			}
			text := strings.Join(got, "\n") + "\n" + strings.Join(notes, "\n")
			if emls, _ := filepath.Glob(filepath.Join(dir, "*.eml")); len(emls) == 1 {
				saved, _ := os.ReadFile(emls[0])
				text += "\nsaved: " + string(saved)
			}
			if tc.want == "" {
				if len(diags) != 0 || !strings.HasPrefix(got[0], "250") {
					t.Errorf("a matching sender: %q, diagnoses %q", got, diags)
				}
				return
			}
			if !strings.Contains(text, tc.want) {
				t.Errorf("got %q, want %q", text, tc.want)
			}
			if len(diags) != 1 || !strings.HasPrefix(diags[0], "sender_identity: AUTH user "+user) {
				t.Errorf("diagnoses %q", diags)
			}
		})
	}
}
