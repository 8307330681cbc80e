package oauth

import (
	"slices"
	"strings"
	"testing"
)

func TestBuiltinProviders(t *testing.T) {
	if !slices.Equal(Names(), []string{"gmail", "office365"}) {
		t.Fatalf("names %q", Names())
	}
	o, _ := Lookup("Office365")
	if o.Flow != DeviceFlow || !slices.Equal(o.Scopes, []string{"https://outlook.office.com/SMTP.Send", "offline_access"}) || o.NeedsSecret {
		t.Errorf("office365 %+v", o)
	}
	g, _ := Lookup("gmail")
	if g.Flow != CodeFlow || !slices.Equal(g.Scopes, []string{"https://mail.google.com/"}) || !g.NeedsSecret {
		t.Errorf("gmail %+v", g)
	}
	at := o.AtIssuer("http://127.0.0.1:2580/office365/")
	if at.DeviceURL != "http://127.0.0.1:2580/office365/devicecode" || at.TokenURL != "http://127.0.0.1:2580/office365/token" {
		t.Errorf("at issuer %+v", at)
	}
	if err := g.Check("id", ""); err == nil || !strings.Contains(err.Error(), "--client-secret") {
		t.Errorf("gmail without a secret: %v", err)
	}
	if err := o.Check("", ""); err == nil || !strings.Contains(err.Error(), "SMTPRUN_OAUTH_CLIENT_ID") {
		t.Errorf("no client id: %v", err)
	}
}
