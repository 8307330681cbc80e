package oauth

import (
	"io"
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
	key := Key{"office365", "https://x/token", "me@contoso.com"}
	if p := c.Path(key); !strings.HasPrefix(filepath.Base(p), "office365-me@contoso.com.") || filepath.Ext(p) != ".json" {
		t.Errorf("path %s", p)
	}
	if p := c.Path(Key{"office365@127.0.0.1:2580", "http://127.0.0.1:2580/office365/token", "../x"}); strings.Contains(filepath.Base(p), "/") || filepath.Dir(p) != c.Dir {
		t.Errorf("unsafe name escaped the directory: %s", p)
	}
	got, err := c.Load(key, io.Discard)
	if err != nil || got == nil || *got != *want {
		t.Fatalf("load: %+v %v", got, err)
	}
	fi, _ := os.Stat(c.Path(key))
	di, _ := os.Stat(c.Dir)
	if fi.Mode().Perm() != 0o600 || di.Mode().Perm() != 0o700 {
		t.Errorf("modes file %v dir %v", fi.Mode().Perm(), di.Mode().Perm())
	}
	if removed, err := c.Forget(key); !removed || err != nil {
		t.Errorf("forget: %v %v", removed, err)
	}
	if got, err := c.Load(key, io.Discard); got != nil || err != nil {
		t.Errorf("after forget: %v %v", got, err)
	}
	gmail := Key{"gmail", "https://oauth2.googleapis.com/token", ""}
	os.WriteFile(c.Path(gmail), []byte("{"), 0o600)
	if _, err := c.Load(gmail, io.Discard); err == nil || !strings.Contains(err.Error(), "is damaged") {
		t.Errorf("damaged cache: %v", err)
	}
}
