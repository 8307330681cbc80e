package sandbox

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// normalConversation is the whole happy path of a submission: greeting,
// EHLO, STARTTLS, EHLO, AUTH LOGIN, MAIL, RCPT, DATA (with a line that
// needs dot-stuffing), QUIT.
func normalConversation(t *testing.T, host string) string {
	c := login(t, newTestSandbox(t, Options{}), host)
	user, _ := PracticeCredentials(ProfileForHost(host))
	c.cmd("MAIL FROM:<"+user+">", "250")
	c.cmd("RCPT TO:<friend@example.net>", "250")
	c.cmd("DATA", "354")
	for _, l := range []string{
		"From: <" + user + ">",
		"To: <friend@example.net>",
		"Subject: practice",
		"Date: Mon, 27 Mar 2023 18:17:50 +0000",
		"Message-ID: <practice-1@client.example.org>",
		"",
		"Hello.",
		"..a line that began with a dot",
	} {
		c.send(l)
	}
	c.cmd(".", "250")
	c.cmd("QUIT", "221")
	return "# " + ProfileForHost(host) + ": " + host + ":587\n" + c.transcript.String()
}

// verbatim are lines that must appear exactly in each profile's normal
// conversation: the real providers' words. Variable parts (host names,
// IDs) are regular expressions.
var verbatim = map[string][]string{
	"office365": {
		`220 SC1PR\d\dCA\d{4}\.outlook\.office365\.com Microsoft ESMTP MAIL Service ready at Mon, 27 Mar 2023 18:17:53 \+0000`,
		`250-SC1PR\d\dCA\d{4}\.outlook\.office365\.com Hello \[198\.51\.100\.23\]`,
		`250-SIZE 157286400`, `250-PIPELINING`, `250-DSN`, `250-ENHANCEDSTATUSCODES`, `250-STARTTLS`,
		`250-8BITMIME`, `250-BINARYMIME`, `250-CHUNKING`, `250 SMTPUTF8`,
		`220 2\.0\.0 SMTP server ready`,
		`250-AUTH LOGIN XOAUTH2`,
		`334 VXNlcm5hbWU6`, `334 UGFzc3dvcmQ6`,
		`250 2\.0\.0 OK <practice-1@client\.example\.org> \[Hostname=SN\dPR\d\dMB\d{4}\.namprd\d\d\.prod\.outlook\.com\]`,
	},
	"gmail": {
		`220 smtp\.gmail\.com ESMTP [0-9a-f]{13}-[0-9a-f]{11}sm\d{7}[a-z]{3}\.\d\d - gsmtp`,
		`250-smtp\.gmail\.com at your service, \[198\.51\.100\.23\]`,
		`250-SIZE 35882577`, `250-8BITMIME`, `250-STARTTLS`, `250-ENHANCEDSTATUSCODES`, `250-PIPELINING`, `250-CHUNKING`, `250 SMTPUTF8`,
		`220 2\.0\.0 Ready to start TLS`,
		`250-AUTH LOGIN PLAIN XOAUTH2 PLAIN-CLIENTTOKEN OAUTHBEARER XOAUTH`,
		`235 2\.7\.0 Accepted`,
		`250 2\.1\.0 OK [0-9a-f]{13}-\S+ - gsmtp`,
		`250 2\.1\.5 OK [0-9a-f]{13}-\S+ - gsmtp`,
		`354 Go ahead [0-9a-f]{13}-\S+ - gsmtp`,
	},
	"yahoo": {
		`220 smtp\.mail\.yahoo\.com ESMTP ready`,
		`250-PIPELINING`, `250-SIZE 41697280`, `250-8 BITMIME`, `250 STARTTLS`,
		`250 AUTH PLAIN LOGIN XOAUTH2 OAUTHBEARER`,
		`235 2\.7\.0 Authentication successful`,
		`250 2\.1\.0 Sender <smtprun\.student@yahoo\.com> OK`,
		`250 2\.1\.5 Recipient <friend@example\.net> OK`,
	},
	"aol": {
		`220-mtaout-m[a-z]\d\d\.r1000\.mx\.aol\.com ESMTP MUA/Third Party Client Interface`,
		`220 which no reverse-DNS \(PTR record\) assigned\.`,
		`250-AUTH PLAIN XAOL-UAS-MB LOGIN`, `250-AUTH=PLAIN XAOL-UAS-MB LOGIN`, `250-SIZE 36700160`,
	},
	"postfix": {
		`220 mail\.example\.edu ESMTP Postfix`,
		`250-mail\.example\.edu`, `250-PIPELINING`, `250-SIZE 10240000`, `250-VRFY`, `250-ETRN`, `250-STARTTLS`,
		`250-ENHANCEDSTATUSCODES`, `250-8BITMIME`, `250-DSN`, `250-SMTPUTF8`, `250 CHUNKING`,
		`220 2\.0\.0 Ready to start TLS`,
		`250-AUTH PLAIN LOGIN CRAM-MD5`,
		`235 2\.7\.0 Authentication successful`,
		`250 2\.1\.0 Ok`, `250 2\.1\.5 Ok`,
		`354 End data with <CR><LF>\.<CR><LF>`,
		`250 2\.0\.0 Ok: queued as [0-9A-F]{10}`,
		`221 2\.0\.0 Bye`,
	},
}

func TestGoldenTranscripts(t *testing.T) {
	hosts := map[string]string{
		"office365": "smtp.office365.com",
		"gmail":     "smtp.gmail.com",
		"yahoo":     "smtp.mail.yahoo.com",
		"aol":       "smtp.aol.com",
		"postfix":   "mail.example.edu",
	}
	for _, p := range Profiles() {
		t.Run(p.Name, func(t *testing.T) {
			host, ok := hosts[p.Name]
			if !ok {
				t.Fatalf("no test host for profile %s", p.Name)
			}
			got := normalConversation(t, host)
			for _, want := range verbatim[p.Name] {
				re := regexp.MustCompile(`(?m)^S: ` + want + `$`)
				if !re.MatchString(got) {
					t.Errorf("transcript lacks the line %s", want)
				}
			}
			file := filepath.Join("testdata", p.Name+".golden")
			if *update {
				if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(file)
			if err != nil {
				t.Fatalf("%v (run go test ./sandbox -update)", err)
			}
			if got != string(want) {
				t.Errorf("transcript differs from %s (run go test ./sandbox -update if intended)\ngot:\n%s", file, got)
			}
		})
	}
}

// The same conversation twice gives the same bytes: Clock and Rand make
// the sandbox deterministic.
func TestDeterministic(t *testing.T) {
	a := normalConversation(t, "smtp.office365.com")
	b := normalConversation(t, "smtp.office365.com")
	if a != b {
		t.Errorf("two runs differ:\n%s\n---\n%s", a, b)
	}
	if !strings.Contains(a, "2023-03-27T18:17:53.123Z") && !strings.Contains(a, "Mon, 27 Mar 2023") {
		t.Error("Clock not used")
	}
}
