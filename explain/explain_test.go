package explain

import (
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/smtprun/smtprun/internal/smtp"
)

func TestReplyEveryCode(t *testing.T) {
	k := base()
	for c := 200; c <= 599; c++ {
		e := Reply(c)
		if e.Topic != strconv.Itoa(c) || e.Kind != KindReply || e.Title == "" || e.Text == "" || e.Source == "" {
			t.Errorf("Reply(%d) = %+v", c, e)
		}
		if e.Title == titleNotReplyCode {
			t.Errorf("Reply(%d) says it is not a reply code", c)
		}
		if r, ok := k.replies[c]; ok && e.Title != r.Title {
			t.Errorf("Reply(%d) title %q, want the listed %q", c, e.Title, r.Title)
		}
	}
	for _, c := range []int{-1, 0, 99, 600, 999} {
		if e := Reply(c); e.Title != titleNotReplyCode {
			t.Errorf("Reply(%d) = %+v, want not a reply code", c, e)
		}
	}
	if e := Reply(535); !strings.Contains(e.Text, "permanent") || e.Source != "RFC 4954 6" {
		t.Errorf("Reply(535) = %+v", e)
	}
	if e := Reply(471); !strings.Contains(e.Text, "temporary") || !strings.Contains(e.Title, "Transient") {
		t.Errorf("Reply(471) = %+v, want the 4yz class explained", e)
	}
}

func TestEnhancedWellFormed(t *testing.T) {
	subjects := []int{}
	for s := 0; s <= 20; s++ {
		subjects = append(subjects, s)
	}
	subjects = append(subjects, 99, 100, 500, 999)
	for _, c := range []int{2, 4, 5} {
		for _, s := range subjects {
			for d := 0; d <= 999; d++ {
				code := strconv.Itoa(c) + "." + strconv.Itoa(s) + "." + strconv.Itoa(d)
				e, ok := Enhanced(code)
				if !ok || e.Topic != code || e.Title == "" || e.Text == "" || e.Source == "" {
					t.Fatalf("Enhanced(%q) = %+v, %v", code, e, ok)
				}
			}
		}
	}
	for _, bad := range []string{"", "5", "5.7", "3.1.1", "1.0.0", "5.07.1", "5.7.01", "5.7.1000", "5.1000.1", "5.7.x", "05.7.1", "5.7.1.", "5.7.1.2", "a.b.c"} {
		if e, ok := Enhanced(bad); ok {
			t.Errorf("Enhanced(%q) = %+v, want malformed", bad, e)
		}
	}
	cases := map[string]string{
		"5.7.8":  "Authentication credentials invalid",
		"5.7.9":  "Authentication mechanism is too weak",
		"5.2.2":  "Mailbox full",
		"5.3.4":  "Message too big for system",
		"4.7.0":  "Other or undefined security status",
		"5.1.10": "Recipient address has null MX",
		"5.7.30": "REQUIRETLS support required",
	}
	for code, title := range cases {
		if e, _ := Enhanced(code); e.Title != title {
			t.Errorf("Enhanced(%q).Title = %q, want %q", code, e.Title, title)
		}
	}
	if e, _ := Enhanced("4.2.2"); !strings.Contains(e.Text, "temporary") {
		t.Errorf("Enhanced(4.2.2) does not explain class 4: %q", e.Text)
	}
	// Not registered: class and subject still explained.
	if e, _ := Enhanced("5.7.139"); e.Title != "Security or policy status" || !strings.Contains(e.Text, "not in the IANA registry") {
		t.Errorf("Enhanced(5.7.139) = %+v", e)
	}
	if e, _ := Enhanced("4.9.1"); !strings.Contains(e.Text, "subject 9") {
		t.Errorf("Enhanced(4.9.1) = %+v", e)
	}
}

func TestEnhancedFor(t *testing.T) {
	cases := []struct {
		code, provider, wantProvider string
		want                         []string
	}{
		{"5.7.139", "office365", "microsoft", []string{"SMTP AUTH", "not in the IANA registry"}},
		{"5.7.139", "smtp.office365.com", "microsoft", []string{"SMTP AUTH"}},
		{"5.7.57", "microsoft", "microsoft", []string{"authenticate before MAIL FROM"}},
		{"5.7.3", "o365", "microsoft", []string{"login fails", "IANA meaning of X.7.3: Security conversion required but not possible"}},
		{"5.7.9", "gmail", "google", []string{"app password", "IANA meaning of X.7.9: Authentication mechanism is too weak"}},
		{"5.7.8", "smtp.gmail.com", "google", []string{"app password", "Authentication credentials invalid"}},
		{"5.7.9", "", "", []string{"weaker than the server's policy"}},
		{"5.7.9", "yahoo", "", []string{"weaker than the server's policy"}},
		{"5.7.1", "microsoft", "", []string{"not allowed to send"}},
	}
	for _, c := range cases {
		e, ok := EnhancedFor(c.code, c.provider)
		if !ok || e.Provider != c.wantProvider || e.Topic != c.code {
			t.Errorf("EnhancedFor(%q, %q) = %+v, %v; want provider %q", c.code, c.provider, e, ok, c.wantProvider)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(e.Text, w) {
				t.Errorf("EnhancedFor(%q, %q).Text = %q, want it to contain %q", c.code, c.provider, e.Text, w)
			}
		}
	}
	if _, ok := EnhancedFor("5.7", "google"); ok {
		t.Error("EnhancedFor accepted a malformed code")
	}
}

func TestCommand(t *testing.T) {
	cases := []struct {
		line, topic string
		want        []string
	}{
		{"EHLO laptop", "EHLO", []string{"extensions"}},
		{"ehlo [127.0.0.1]", "EHLO", nil},
		{"HELO laptop", "HELO", nil},
		{"STARTTLS", "STARTTLS", []string{"TLS"}},
		{"AUTH LOGIN", "AUTH", []string{"LOGIN:", "Username:"}},
		{"auth plain AGFsaWNlAHNlY3JldA==", "AUTH", []string{"PLAIN:", "initial response"}},
		{"AUTH XOAUTH2 dXNlcj1...", "AUTH", []string{"XOAUTH2:", "OAuth 2.0"}},
		{"AUTH FOO-BAR", "AUTH", []string{"does not know"}},
		{"MAIL FROM:<a@b>", "MAIL", []string{"envelope sender"}},
		{"mail from:<a@b> SIZE=1234 BODY=8BITMIME", "MAIL", []string{"SIZE (declared message size)", "BODY (body type)"}},
		{"MAIL FROM:<> RET=HDRS ENVID=x", "MAIL", []string{"RET", "ENVID"}},
		{"RCPT TO:<a@b> NOTIFY=FAILURE ORCPT=rfc822;a@b", "RCPT", []string{"NOTIFY", "ORCPT"}},
		{"DATA", "DATA", []string{"dot"}},
		{"BDAT 1000 LAST", "BDAT", []string{"CHUNKING"}},
		{"RSET", "RSET", nil},
		{"NOOP", "NOOP", nil},
		{"VRFY postmaster", "VRFY", []string{"252"}},
		{"EXPN staff", "EXPN", nil},
		{"HELP", "HELP", nil},
		{"QUIT", "QUIT", []string{"221"}},
	}
	for _, c := range cases {
		e, ok := Command(c.line)
		if !ok || e.Topic != c.topic || e.Kind != KindCommand || e.Source == "" {
			t.Errorf("Command(%q) = %+v, %v; want topic %s", c.line, e, ok, c.topic)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(e.Text, w) {
				t.Errorf("Command(%q).Text = %q, want it to contain %q", c.line, e.Text, w)
			}
		}
	}
	for _, bad := range []string{"", "   ", "FROB", "250 OK", "MAILFROM:<a@b>"} {
		if e, ok := Command(bad); ok {
			t.Errorf("Command(%q) = %+v, want false", bad, e)
		}
	}
	if p := Parameters("MAIL FROM:<a@b> SMTPUTF8 REQUIRETLS X-FOO=1"); len(p) != 2 || p[0].Topic != "MAIL SMTPUTF8" || p[1].Topic != "MAIL REQUIRETLS" {
		t.Errorf("Parameters = %+v", p)
	}
}

func TestKeyword(t *testing.T) {
	cases := []struct {
		line, topic string
		want        []string
	}{
		{"PIPELINING", "PIPELINING", []string{"without waiting"}},
		{"250-PIPELINING", "PIPELINING", nil},
		{"250 SMTPUTF8", "SMTPUTF8", nil},
		{"SIZE 35882577", "SIZE", []string{"35,882,577 bytes", "35.9 MB", "34.2 MiB"}},
		{"size 157286400", "SIZE", []string{"157.3 MB", "150.0 MiB"}},
		{"SIZE", "SIZE", []string{"No fixed limit"}},
		{"SIZE 0", "SIZE", []string{"No fixed limit"}},
		{"SIZE lots", "SIZE", []string{"not a number"}},
		{"AUTH LOGIN PLAIN XOAUTH2", "AUTH", []string{"LOGIN (", "PLAIN (", "XOAUTH2 (OAuth 2.0"}},
		{"AUTH PLAIN XAOL-UAS-MB LOGIN", "AUTH", []string{"XAOL-UAS-MB (private)"}},
		{"AUTH=PLAIN LOGIN", "AUTH=", []string{"early draft", "PLAIN (", "LOGIN ("}},
		{"AUTH", "AUTH", []string{"No mechanisms"}},
		{"8 BITMIME", "8 BITMIME", []string{"space"}},
		{"250-8 BITMIME", "8 BITMIME", nil},
		{"8BITMIME", "8BITMIME", nil},
		{"DELIVERBY 240", "DELIVERBY", []string{"240 seconds"}},
		{"XCLIENT NAME ADDR PROTO HELO", "XCLIENT", []string{"NAME ADDR PROTO HELO"}},
		{"XFORWARD NAME ADDR", "XFORWARD", nil},
		{"STARTTLS", "STARTTLS", nil},
		{"CHUNKING", "CHUNKING", nil},
		{"ENHANCEDSTATUSCODES", "ENHANCEDSTATUSCODES", nil},
		{"XOORG", "XOORG", []string{"non-standard"}},
	}
	for _, c := range cases {
		e, ok := Keyword(c.line)
		if !ok || e.Topic != c.topic || e.Kind != KindKeyword || e.Source == "" {
			t.Errorf("Keyword(%q) = %+v, %v; want topic %s", c.line, e, ok, c.topic)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(e.Text, w) {
				t.Errorf("Keyword(%q).Text = %q, want it to contain %q", c.line, e.Text, w)
			}
		}
	}
	for _, bad := range []string{"", "250", "mx.google.com at your service, [203.0.113.5]", "250-smtp.example.com Hello", "FROBNICATE"} {
		if e, ok := Keyword(bad); ok {
			t.Errorf("Keyword(%q) = %+v, want false", bad, e)
		}
	}
}

func TestChallenge(t *testing.T) {
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	cases := []struct {
		in, decoded, topic string
	}{
		{"VXNlcm5hbWU6", "Username:", "Username:"},
		{"UGFzc3dvcmQ6", "Password:", "Password:"},
		{"334 VXNlcm5hbWU6", "Username:", "Username:"},
		{" UGFzc3dvcmQ6\r\n", "Password:", "Password:"},
		{b64("<1896.697170952@postoffice.reston.mci.net>"), "<1896.697170952@postoffice.reston.mci.net>", "<...@host>"},
		{b64(`{"status":"400","schemes":"Bearer","scope":"https://mail.google.com/"}`), `{"status":"400","schemes":"Bearer","scope":"https://mail.google.com/"}`, `{"status": ...}`},
		{"", "", "(empty)"},
		{"334 ", "", "(empty)"},
		{b64("something else"), "something else", "334"},
		{"VXNlcm5hbWU", "Username", "Username:"}, // unpadded
		{"aGVsbG8", "hello", "334"},
	}
	for _, c := range cases {
		d, e, ok := Challenge(c.in)
		if !ok || d != c.decoded || e.Topic != c.topic || e.Text == "" || e.Source == "" || e.Kind != KindChallenge {
			t.Errorf("Challenge(%q) = %q, %+v, %v; want %q topic %q", c.in, d, e, ok, c.decoded, c.topic)
		}
	}
	if d, e, ok := Challenge("not base64!"); ok {
		t.Errorf("Challenge(not base64) = %q, %+v, true", d, e)
	}
}

func TestHints(t *testing.T) {
	cases := []struct {
		name  string
		code  int
		lines []string
		want  string // ID of the first hint
	}{
		{"o365 smtp auth disabled", 535, []string{"5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information. [SN4PR0501CA0123.namprd05.prod.outlook.com]"}, "o365-smtp-auth-disabled"},
		{"o365 basic auth disabled", 535, []string{"5.7.139 Authentication unsuccessful, basic authentication is disabled. [BN9PR03CA0123.namprd03.prod.outlook.com]"}, "o365-basic-auth-disabled"},
		{"o365 security defaults", 535, []string{"5.7.139 Authentication unsuccessful, user is locked by your organization's security defaults policy. Contact your administrator. [...]"}, "o365-security-defaults"},
		{"o365 139 other", 535, []string{"5.7.139 Authentication unsuccessful, the request did not meet the criteria to be authenticated successfully. Contact your administrator. [...]"}, "o365-auth-139"},
		{"o365 not authenticated", 530, []string{"5.7.57 Client not authenticated to send mail. [...]"}, "o365-not-authenticated"},
		{"o365 not authenticated, MAIL FROM", 530, []string{"5.7.57 SMTP; Client was not authenticated to send anonymous mail during MAIL FROM [AM0PR10CA0001.EURPRD10.PROD.OUTLOOK.COM]"}, "o365-not-authenticated"},
		{"o365 5.7.3", 535, []string{"5.7.3 Authentication unsuccessful [...]"}, "o365-auth-unsuccessful"},
		{"o365 send as", 554, []string{"5.7.60 SMTP; Client does not have permissions to send as this sender"}, "o365-send-as"},
		{"gmail app password", 534, []string{"5.7.9 Application-specific password required. Learn more at", "5.7.9  https://support.google.com/mail/?p=InvalidSecondFactor d9443c01a7336-2a0d8d4b8d0sm12345abc - gsmtp"}, "gmail-app-password"},
		{"gmail app password, code kept on lines", 534, []string{"534-5.7.9 Application-specific password required. Learn more at", "534 5.7.9  https://support.google.com/mail/?p=InvalidSecondFactor d9443c01a7336-2a0d8d4b8d0sm12345abc - gsmtp"}, "gmail-app-password"},
		{"gmail bad credentials", 535, []string{"5.7.8 Username and Password not accepted. Learn more at", "5.7.8  https://support.google.com/mail/?p=BadCredentials d9443c01a7336-2a0d8d4b8d0sm12345abc - gsmtp"}, "gmail-bad-credentials"},
		{"gmail starttls first", 530, []string{"5.7.0 Must issue a STARTTLS command first. xyz - gsmtp"}, "starttls-first"},
		{"gmail auth required", 530, []string{"5.7.0 Authentication Required. Learn more at", "5.7.0  https://support.google.com/mail/?p=WantAuthError xyz - gsmtp"}, "auth-required"},
		{"postfix starttls first", 530, []string{"5.7.0 Must issue a STARTTLS command first"}, "starttls-first"},
		{"yahoo MBR1212", 535, []string{"5.7.0 (#MBR1212) Incorrect username or password."}, "yahoo-mbr1212"},
		{"yahoo AUTH005", 535, []string{"5.7.0 (#AUTH005) Too many bad auth attempts."}, "yahoo-auth005"},
		{"postfix relay denied", 554, []string{"5.7.1 <x@example.com>: Relay access denied"}, "relay-denied"},
		{"gmail relay denied", 550, []string{"5.7.0 Mail relay denied [203.0.113.5]. Invalid credentials for relay for one of the domains in: laptop (as obtained from HELO and MAIL FROM). xyz - gsmtp"}, "relay-denied"},
		{"postfix greylisted", 451, []string{"4.7.1 <x@example.com>: Recipient address rejected: Greylisted"}, "greylisted"},
		{"451 4.7.1 no text", 451, []string{"4.7.1 Please try again later"}, "deferred-policy"},
		{"postfix too many errors", 421, []string{"4.7.0 mx.example Error: too many errors"}, "postfix-too-many-errors"},
		{"421 other", 421, []string{"4.3.2 Service shutting down"}, "closing"},
		{"postfix bare LF", 550, []string{"5.5.2 mx.example Error: bare <LF> received"}, "bare-lf"},
		{"postfix message too big", 552, []string{"5.3.4 Message size exceeds fixed limit"}, "message-too-large-text"},
		{"message too big, enhanced only", 552, []string{"5.3.4 Error: message file too big"}, "message-too-large-text"},
		{"message too big, code only", 554, []string{"5.3.4 Rejected"}, "message-too-large"},
		{"mailbox full", 552, []string{"5.2.2 <x@example.com>: Mailbox full"}, "mailbox-full-text"},
		{"mailbox full, enhanced only", 452, []string{"4.2.2 The email account that you tried to reach is over quota."}, "mailbox-full-text"},
		{"mailbox full, no text", 552, []string{"5.2.2 Sorry"}, "mailbox-full"},
		{"TLS not available", 454, []string{"4.7.0 TLS not available due to local problem"}, "tls-not-available"},
		{"454 auth temporary", 454, []string{"4.7.0 Temporary authentication failure"}, "auth-temporary"},
		{"503 HELO first", 503, []string{"5.5.1 Error: send HELO/EHLO first"}, "need-helo"},
		{"503 o365 hello first", 503, []string{"5.5.2 Send hello first [...]"}, "need-helo"},
		{"503 need MAIL", 503, []string{"5.5.1 Error: need MAIL command"}, "need-mail"},
		{"503 gmail MAIL first", 503, []string{"5.5.1 MAIL first. xyz - gsmtp"}, "need-mail"},
		{"503 need RCPT", 503, []string{"5.5.1 Error: need RCPT command"}, "need-rcpt"},
		{"503 other", 503, []string{"Bad sequence of commands"}, "bad-sequence"},
		{"500 not recognized", 500, []string{"5.5.2 Error: command not recognized"}, "command-unrecognized"},
		{"502 gmail unrecognized", 502, []string{"5.5.1 Unrecognized command. xyz - gsmtp"}, "command-unrecognized"},
		{"500 o365 unrecognized", 500, []string{"5.3.3 Unrecognized command 'unknown' [...]"}, "command-unrecognized"},
		{"535 generic", 535, []string{"5.7.8 Error: authentication failed: authentication failure"}, "auth-failed"},
		{"535 no text", 535, nil, "auth-failed"},
		{"504 mechanism", 504, []string{"5.7.4 Unrecognized authentication type [...]"}, "auth-mechanism-unknown"},
		{"blocklisted", 554, []string{"5.7.1 Service unavailable; Client host [203.0.113.5] blocked using zen.spamhaus.org"}, "blocklisted"},
		{"user unknown", 550, []string{"5.1.1 <x@example.com>: Recipient address rejected: User unknown in local recipient table"}, "user-unknown"},
		{"too many recipients", 452, []string{"4.5.3 Error: too many recipients"}, "too-many-recipients"},
		{"spf", 550, []string{"5.7.23 SPF validation failed"}, "sender-authentication-failed"},
		{"policy 5.7.1", 550, []string{"5.7.1 Message rejected"}, "policy-refused"},
		{"null mx", 556, []string{"5.1.10 Domain does not accept mail"}, "no-mail-accepted"},
	}
	for _, c := range cases {
		hs := Hints(c.code, c.lines)
		if len(hs) == 0 || hs[0].ID != c.want {
			ids := []string{}
			for _, h := range hs {
				ids = append(ids, h.ID)
			}
			t.Errorf("%s: Hints(%d, %q) = %v, want %s first", c.name, c.code, c.lines, ids, c.want)
		}
		for _, h := range hs {
			if h.Text == "" || h.Source == "" {
				t.Errorf("%s: incomplete hint %+v", c.name, h)
			}
		}
	}
	// A general hint is not shown next to a specific one, and a hint is not
	// repeated.
	hs := Hints(535, []string{"5.7.0 (#MBR1212) Incorrect username or password."})
	if len(hs) != 1 {
		t.Errorf("MBR1212: %d hints, want only the specific one: %+v", len(hs), hs)
	}
	// Provider-specific hints do not fire for another provider.
	if hs := HintsFor(535, []string{"5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant."}, "gmail"); len(hs) > 0 && strings.HasPrefix(hs[0].ID, "o365-") {
		t.Errorf("Microsoft hint given for a Gmail reply: %+v", hs)
	}
	if hs := HintsFor(530, []string{"5.7.57 Client not authenticated to send mail."}, "smtp.office365.com"); len(hs) == 0 || hs[0].ID != "o365-not-authenticated" {
		t.Errorf("HintsFor(office365) = %+v", hs)
	}
	if hs := Hints(250, []string{"2.0.0 OK"}); len(hs) != 0 {
		t.Errorf("hints for a 250: %+v", hs)
	}
}

func TestLookup(t *testing.T) {
	type want struct {
		kind, topic, provider string
	}
	cases := []struct {
		arg     string
		entries []want
		hint    string
	}{
		{"535", []want{{KindReply, "535", ""}}, "auth-failed"},
		{"5.7.139", []want{{KindEnhanced, "5.7.139", ""}, {KindEnhanced, "5.7.139", "microsoft"}}, "o365-auth-139"},
		{"5.7.9", []want{{KindEnhanced, "5.7.9", ""}, {KindEnhanced, "5.7.9", "google"}}, ""},
		{"530 5.7.0 Must issue a STARTTLS command first", []want{{KindReply, "530", ""}, {KindEnhanced, "5.7.0", ""}}, "starttls-first"},
		{"535-5.7.8 Username and Password not accepted. Learn more at", []want{{KindProviderReply, "gmail.auth.bad_credentials_learn_more", "google"}, {KindReply, "535", ""}, {KindEnhanced, "5.7.8", "google"}}, "gmail-bad-credentials"},
		{"535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information.", []want{{KindProviderReply, "office365.auth.smtp_auth_disabled", "microsoft"}, {KindReply, "535", ""}, {KindEnhanced, "5.7.139", "microsoft"}}, "o365-smtp-auth-disabled"},
		{"534-5.7.9 Application-specific password required. For more information, go to\n534 5.7.9  https://support.google.com/mail/?p=InvalidSecondFactor x - gsmtp", []want{{KindProviderReply, "gmail.auth.app_password_required", "google"}, {KindReply, "534", ""}, {KindEnhanced, "5.7.9", "google"}}, "gmail-app-password"},
		{"550 5.7.1 Relay access denied", []want{{KindReply, "550", ""}, {KindEnhanced, "5.7.1", ""}}, "relay-denied"},
		{"334 VXNlcm5hbWU6", []want{{KindReply, "334", ""}, {KindChallenge, "Username:", ""}}, ""},
		{"250-SIZE 35882577", []want{{KindReply, "250", ""}, {KindKeyword, "SIZE", ""}}, ""},
		{"PIPELINING", []want{{KindKeyword, "PIPELINING", ""}}, ""},
		{"SIZE 35882577", []want{{KindKeyword, "SIZE", ""}}, ""},
		{"AUTH LOGIN PLAIN XOAUTH2", []want{{KindKeyword, "AUTH", ""}}, ""},
		{"AUTH PLAIN AGFAYg==", []want{{KindCommand, "AUTH", ""}}, ""},
		{"MAIL", []want{{KindCommand, "MAIL", ""}}, ""},
		{"mail from:<a@b> size=10", []want{{KindCommand, "MAIL", ""}, {KindParameter, "MAIL SIZE", ""}}, ""},
		{"STARTTLS", []want{{KindKeyword, "STARTTLS", ""}, {KindCommand, "STARTTLS", ""}}, ""},
		{"xoauth2", []want{{KindMechanism, "XOAUTH2", ""}}, ""},
		{"NOTIFY", []want{{KindParameter, "RCPT NOTIFY", ""}}, ""},
		{"8 BITMIME", []want{{KindKeyword, "8 BITMIME", ""}}, ""},
		{"VXNlcm5hbWU6", []want{{KindChallenge, "Username:", ""}}, ""},
		{"5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant.", []want{{KindProviderReply, "office365.auth.smtp_auth_disabled", "microsoft"}, {KindEnhanced, "5.7.139", "microsoft"}}, "o365-smtp-auth-disabled"},
		{"5.1.1 User unknown", []want{{KindEnhanced, "5.1.1", ""}}, "user-unknown"},
		{"AUTH", []want{{KindKeyword, "AUTH", ""}, {KindCommand, "AUTH", ""}, {KindParameter, "MAIL AUTH", ""}}, ""},
		{"250-smtp.gmail.com at your service\n250-SIZE 35882577\n250-8BITMIME\n250 SMTPUTF8", []want{{KindReply, "250", ""}, {KindKeyword, "SIZE", ""}, {KindKeyword, "8BITMIME", ""}, {KindKeyword, "SMTPUTF8", ""}}, ""},
	}
	for _, c := range cases {
		es, hs, err := Lookup(c.arg)
		if err != nil {
			t.Errorf("Lookup(%q): %v", c.arg, err)
			continue
		}
		got := []want{}
		for _, e := range es {
			got = append(got, want{e.Kind, e.Topic, e.Provider})
			if e.Title == "" || e.Text == "" || e.Source == "" {
				t.Errorf("Lookup(%q): incomplete entry %+v", c.arg, e)
			}
		}
		if len(got) != len(c.entries) {
			t.Errorf("Lookup(%q) entries = %v, want %v", c.arg, got, c.entries)
		} else {
			for i := range got {
				if got[i] != c.entries[i] {
					t.Errorf("Lookup(%q) entries = %v, want %v", c.arg, got, c.entries)
					break
				}
			}
		}
		if c.hint != "" && (len(hs) == 0 || hs[0].ID != c.hint) {
			t.Errorf("Lookup(%q) hints = %+v, want %s first", c.arg, hs, c.hint)
		}
	}

	errCases := []struct {
		arg, want, suggestion string
	}{
		{"frobnicate", "try a reply code", ""},
		{"999", "not an SMTP reply code", ""},
		{"150", "never used", ""},
		{"999 5.7.1 nope", "not an SMTP reply code", ""},
		{"3.1.1", "well-formed enhanced status code", ""},
		{"5.07.1 text", "well-formed enhanced status code", ""},
		{"", "nothing to explain", ""},
		{"PIPELINNG", "try a reply code", "PIPELINING"},
		{"STARTLS", "try a reply code", "STARTTLS"},
		{"ehol", "try a reply code", "EHLO"},
	}
	for _, c := range errCases {
		es, _, err := Lookup(c.arg)
		var nf *NotFoundError
		if !errors.As(err, &nf) {
			t.Errorf("Lookup(%q) = %+v, %v; want a *NotFoundError", c.arg, es, err)
			continue
		}
		if !strings.Contains(err.Error(), c.want) || nf.Suggestion != c.suggestion {
			t.Errorf("Lookup(%q) error %q (suggestion %q); want it to contain %q, suggestion %q", c.arg, err, nf.Suggestion, c.want, c.suggestion)
		}
		if c.suggestion != "" && !strings.Contains(err.Error(), c.suggestion) {
			t.Errorf("Lookup(%q) error %q does not show the suggestion", c.arg, err)
		}
	}
}

func TestProviderOf(t *testing.T) {
	cases := map[string]string{
		"microsoft":             "microsoft",
		"Office365":             "microsoft",
		"smtp.office365.com":    "microsoft",
		"smtp-mail.outlook.com": "microsoft",
		"gmail":                 "google",
		"smtp.gmail.com":        "google",
		"x - gsmtp":             "google",
		"aol":                   "yahoo",
		"smtp.mail.yahoo.com":   "yahoo",
		"smtp.aol.com":          "yahoo",
		"mx.example":            "",
		"":                      "",
	}
	for in, want := range cases {
		if got := ProviderOf(in); got != want {
			t.Errorf("ProviderOf(%q) = %q, want %q", in, got, want)
		}
	}
}

// The knowledge base explains every command verb of the protocol core, the
// list the sandbox answers and the engine sends.
func TestEveryCoreCommandExplained(t *testing.T) {
	for _, verb := range smtp.Commands() {
		if e, ok := Command(verb); !ok || e.Topic != verb {
			t.Errorf("no entry for %s", verb)
		}
	}
}
