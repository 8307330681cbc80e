package oauth

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestDefaultCacheFollowsXDG(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", dir)
	c, err := DefaultCache()
	if err != nil {
		t.Fatal(err)
	}
	if c.Dir != filepath.Join(dir, "smtprun", "tokens") {
		t.Errorf("cache dir %s", c.Dir)
	}
}

func TestCacheRoundTrip(t *testing.T) {
	c := &Cache{Dir: filepath.Join(t.TempDir(), "tokens")}
	// A directory left readable by others is tightened on save.
	os.MkdirAll(c.Dir, 0o755)
	want := &Cached{Provider: "office365", Account: "Me@Contoso.com", AccessToken: "a", RefreshToken: "r",
		Expiry: time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC), TokenURL: "https://x/token", ClientID: "id"}
	if err := c.Save(want); err != nil {
		t.Fatal(err)
	}
	if p := c.Path("office365", "Me@Contoso.com"); filepath.Base(p) != "office365-me@contoso.com.json" {
		t.Errorf("path %s", p)
	}
	if p := c.Path("office365@127.0.0.1:2580", "../x"); strings.Contains(filepath.Base(p), "/") || filepath.Dir(p) != c.Dir {
		t.Errorf("unsafe name escaped the directory: %s", p)
	}
	got, err := c.Load("office365", "me@contoso.com")
	if err != nil || got == nil || *got != *want {
		t.Fatalf("load: %+v %v", got, err)
	}
	fi, _ := os.Stat(c.Path("office365", "me@contoso.com"))
	di, _ := os.Stat(c.Dir)
	if fi.Mode().Perm() != 0o600 || di.Mode().Perm() != 0o700 {
		t.Errorf("modes file %v dir %v", fi.Mode().Perm(), di.Mode().Perm())
	}
	if removed, err := c.Forget("office365", "me@contoso.com"); !removed || err != nil {
		t.Errorf("forget: %v %v", removed, err)
	}
	if got, err := c.Load("office365", "me@contoso.com"); got != nil || err != nil {
		t.Errorf("after forget: %v %v", got, err)
	}
	os.WriteFile(c.Path("gmail", ""), []byte("{"), 0o600)
	if _, err := c.Load("gmail", ""); err == nil || !strings.Contains(err.Error(), "--forget gmail") {
		t.Errorf("damaged cache: %v", err)
	}
}
