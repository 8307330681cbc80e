package provider

import (
	"slices"
	"strings"
	"testing"
)

func TestCatalogueLoads(t *testing.T) {
	if _, err := load(); err != nil {
		t.Fatal(err)
	}
	if len(All()) < 3 {
		t.Fatalf("%d providers", len(All()))
	}
	for _, p := range All() {
		for brand, hosts := range p.Hosts {
			for _, h := range hosts {
				// Every submission host is recognized as its provider's, by
				// the host table and by the detect pattern alike.
				if got, b := ForHost(h); got != p || b != brand {
					t.Errorf("ForHost(%s) = %v %q", h, got, b)
				}
				if !p.Detects(h) {
					t.Errorf("%s's detect pattern misses its host %s", p.Name, h)
				}
			}
		}
	}
}

func TestFind(t *testing.T) {
	for in, want := range map[string]string{
		"microsoft": "microsoft", "Office365": "microsoft", "smtp.office365.com": "microsoft",
		"gmail": "google", "SMTP.GMAIL.COM.": "google",
		"535-5.7.8 Username and Password not accepted. https://support.google.com/mail/?p=BadCredentials - gsmtp": "google",
		"aol": "yahoo", "smtp.aol.com": "yahoo",
		"mail.example.edu": "", "": "",
	} {
		got := ""
		if p := Find(in); p != nil {
			got = p.Name
		}
		if got != want {
			t.Errorf("Find(%q) = %q, want %q", in, got, want)
		}
	}
	if hosts := BrandHosts("aol"); !slices.Equal(hosts, []string{"smtp.aol.com", "smtp.de.aol.com"}) {
		t.Errorf("aol hosts %v", hosts)
	}
	if BrandHosts("postfix") != nil {
		t.Error("postfix is no provider")
	}
}

func TestParseRejects(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"providers:\n  - {name: a, title: A, detect: a}\n  - {name: b, title: B, aliases: [a], detect: b}\n", "duplicate"},
		{"providers:\n  - {name: a, title: A, detect: '('}\n", "detect"},
		{"providers:\n  - {name: a, title: A, detect: a, hosts: {b: [x.test]}}\n", "brand"},
		{"providers:\n  - {name: a, title: A, detect: a, hosts: {a: [x.test, X.test]}}\n", "twice"},
		{"providers:\n  - {name: a, detect: a}\n", "required"},
		{"providers:\n  - {name: a, title: A, detect: a, color: red}\n", "color"},
		{"providers:\n  - {name: a, title: A, detect: a, hosts: {a: [x.test]}, ports: {a: [{port: 587, tls: ssl}]}}\n", "tls"},
		{"providers:\n  - {name: a, title: A, detect: a, hosts: {a: [x.test]}, ports: {a: [{port: 0, tls: starttls}]}}\n", "port"},
		{"providers:\n  - {name: a, title: A, aliases: [b], detect: a, hosts: {a: [x.test]}, ports: {b: [{port: 25, tls: starttls}]}}\n", "no hosts"},
		{"providers:\n  - {name: a, title: A, detect: a, hosts: {a: [x.test]}, oauth: {a: {token_url: t}}}\n", "scope"},
		{"providers:\n  - {name: a, title: A, detect: a, hosts: {a: [x.test]}, oauth: {a: {scope: s, token_url: t, flow: implicit}}}\n", "flow"},
	} {
		_, err := parse([]byte(tc.yaml))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %q", tc.yaml, err, tc.want)
		}
	}
}

// Ports and OAuth servers are a brand's: what the sandbox's profiles and
// `smtprun token` read.
func TestBrandPortsAndOAuth(t *testing.T) {
	if got := BrandPorts("gmail"); !slices.Equal(got, []Port{{587, StartTLS}, {465, ImplicitTLS}, {25, StartTLS}}) {
		t.Errorf("gmail ports %v", got)
	}
	for _, p := range All() {
		for brand := range p.Hosts {
			if len(p.Ports[brand]) == 0 {
				t.Errorf("brand %s has hosts but no ports", brand)
			}
		}
	}
	g, ok := BrandOAuth("gmail")
	if !ok || g.Scope != "https://mail.google.com/" || g.Flow != "code" || !g.NeedsSecret {
		t.Errorf("gmail oauth %+v %v", g, ok)
	}
	if y, ok := BrandOAuth("yahoo"); !ok || y.TokenURL != "" || y.Scope != "mail-w" {
		t.Errorf("yahoo oauth %+v %v", y, ok)
	}
	if _, ok := BrandOAuth("aol"); ok {
		t.Error("aol has no OAuth entry")
	}
	if _, ok := BrandOAuth("google"); ok {
		t.Error("OAuth is a brand's, not the provider's")
	}
	if got := OAuthBrands(); !slices.Equal(got, []string{"gmail", "office365", "yahoo"}) {
		t.Errorf("OAuthBrands %v", got)
	}
}
