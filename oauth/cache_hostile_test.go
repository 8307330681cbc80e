//go:build unix

package oauth

import (
	"context"
	"io"
	"net/http"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The token cache against a hostile neighbour: another local user who
// plants files and links in it, or an issuer path that only looks like
// another.

// validToken caches a token that needs no refresh for p.
func validToken(t *testing.T, c *Cache, p Provider, account, access string) {
	t.Helper()
	if err := c.Save(&Cached{Provider: p.Name, Account: account, AccessToken: access,
		Expiry: time.Now().Add(time.Hour), TokenURL: p.TokenURL, ClientID: "client"}); err != nil {
		t.Fatal(err)
	}
}

func onlyFile(t *testing.T, dir string) string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	if len(files) != 1 {
		t.Fatalf("cache files %q", files)
	}
	return files[0]
}

// nobody is the uid and gid of a user other than the test's, where the
// test runs as root; otherwise the test is skipped, saying why.
func nobody(t *testing.T) (uid, gid int) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to make a file owned by another user (CI runs the tests as root)")
	}
	u, err := user.Lookup("nobody")
	if err != nil {
		t.Skipf("no user nobody: %v", err)
	}
	uid, _ = strconv.Atoi(u.Uid)
	gid, _ = strconv.Atoi(u.Gid)
	return uid, gid
}

// TestCacheRefusesWhatOthersControl: a token in a directory others can
// write, or owned by another user, may have been planted: it is refused,
// never used. A file others could read is used, with a loud warning,
// and made private.
func TestCacheRefusesWhatOthersControl(t *testing.T) {
	p := deviceProvider("http://127.0.0.1:9/x")
	cases := []struct {
		name  string
		plant func(t *testing.T, dir, file string)
		// refused: Get fails; otherwise it warns with warn.
		refused bool
		warn    string
	}{
		{"directory writable by others", func(t *testing.T, dir, file string) { os.Chmod(dir, 0o777) }, true, ""},
		{"file writable by others", func(t *testing.T, dir, file string) { os.Chmod(file, 0o666) }, true, ""},
		{"directory owned by another user", func(t *testing.T, dir, file string) {
			uid, gid := nobody(t)
			os.Chown(dir, uid, gid)
		}, true, ""},
		{"file owned by another user", func(t *testing.T, dir, file string) {
			uid, gid := nobody(t)
			os.Chown(file, uid, gid)
		}, true, ""},
		{"file readable by others", func(t *testing.T, dir, file string) { os.Chmod(file, 0o644); os.Chmod(dir, 0o755) }, false, "readable by others"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := &Cache{Dir: filepath.Join(t.TempDir(), "tokens")}
			validToken(t, c, p, "", "PLANTED-TOKEN-0123456789")
			file := onlyFile(t, c.Dir)
			tc.plant(t, c.Dir, file)
			prompt := &strings.Builder{} // read once Get has returned
			res, err := Get(context.Background(), Request{Provider: p, ClientID: "client", Prompt: prompt, Cache: c, HTTPClient: noNetwork(t)})
			if tc.refused {
				if err == nil {
					t.Fatalf("used the token: %+v", res.Token)
				}
				if !strings.Contains(err.Error(), c.Dir) {
					t.Errorf("error does not name the cache: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(prompt.String(), "warning:") || !strings.Contains(prompt.String(), tc.warn) {
				t.Errorf("no warning:\n%s", prompt)
			}
			if fi, _ := os.Stat(file); fi.Mode().Perm() != 0o600 {
				t.Errorf("left at %v", fi.Mode().Perm())
			}
		})
	}
}

// TestCacheNeverTakesEndpoints: an expired token whose file names
// another token endpoint is refreshed where the provider's endpoint is,
// never where the file says: the refresh would send the client secret
// and the refresh token there.
func TestCacheNeverTakesEndpoints(t *testing.T) {
	attacker := newIssuer(t, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, tokenAnswer()) })
	legit := newIssuer(t, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, tokenAnswer()) })
	p := deviceProvider(legit.URL)
	c := expiredToken(t, p, "")
	file := onlyFile(t, c.Dir)
	b, _ := os.ReadFile(file)
	os.WriteFile(file, []byte(strings.ReplaceAll(string(b), legit.URL, attacker.URL)), 0o600)
	Get(context.Background(), Request{Provider: p, ClientID: "client", ClientSecret: "CLIENT-SECRET-0123456789", Prompt: io.Discard, Cache: c})
	if attacker.requests() != 0 {
		t.Errorf("the refresh went to the token URL in the cache file")
	}
}

// TestCacheKeyIsUnambiguous: tokens from two issuers on one host, or a
// provider whose name looks like another's plus an account, never stand
// in for each other.
func TestCacheKeyIsUnambiguous(t *testing.T) {
	is := newIssuer(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 400, map[string]string{"error": "invalid_client"})
	})
	cases := []struct {
		name               string
		first, second      Provider
		account1, account2 string
	}{
		{"issuer path", deviceProvider(is.URL + "/ok"), deviceProvider(is.URL + "/other"), "", ""},
		{"provider and account", Provider{Name: "gmail-x", Flow: DeviceFlow, Scopes: []string{"mail"}}.AtIssuer(is.URL + "/custom"),
			Provider{Name: "gmail", Flow: DeviceFlow, Scopes: []string{"mail"}}.AtIssuer(is.URL + "/gmail"), "", "x"},
		{"same endpoints, account case aside", deviceProvider(is.URL), deviceProvider(is.URL), "me@example.com", "me@example.org"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := &Cache{Dir: filepath.Join(t.TempDir(), "tokens")}
			validToken(t, c, tc.first, tc.account1, "FIRST-TOKEN-0123456789")
			res, err := Get(context.Background(), Request{Provider: tc.second, ClientID: "client", Account: tc.account2, Prompt: io.Discard, Cache: c})
			if err == nil && res.Token.AccessToken == "FIRST-TOKEN-0123456789" {
				t.Errorf("%s/%s got the token of %s/%s", tc.second.TokenURL, tc.account2, tc.first.TokenURL, tc.account1)
			}
		})
	}
}

// TestCacheFileIsNotAStream: /dev/zero or a FIFO at the cache file's name
// is refused at once, not read until memory runs out or a writer comes.
func TestCacheFileIsNotAStream(t *testing.T) {
	p := deviceProvider("http://127.0.0.1:9/x")
	for _, tc := range []struct {
		name  string
		plant func(file string) error
	}{
		{"a FIFO", func(file string) error { os.Remove(file); return syscall.Mkfifo(file, 0o600) }},
		{"a link to /dev/zero", func(file string) error { os.Remove(file); return os.Symlink("/dev/zero", file) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &Cache{Dir: filepath.Join(t.TempDir(), "tokens")}
			validToken(t, c, p, "", "TOKEN-0123456789")
			if err := tc.plant(onlyFile(t, c.Dir)); err != nil {
				t.Skip(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_, err, took := getWithin(t, 5*time.Second, ctx, Request{Provider: p, ClientID: "client", Prompt: io.Discard, Cache: c, HTTPClient: noNetwork(t)})
			if err == nil || !strings.Contains(err.Error(), "not a regular file") || took > 2*time.Second {
				t.Errorf("after %v: %v", took, err)
			}
		})
	}
}

// TestCacheWritesNoLinks: a cache directory that is a link (to a
// directory another user set up) is refused rather than written through;
// a link planted at the file's name is replaced, its target untouched.
func TestCacheWritesNoLinks(t *testing.T) {
	p := deviceProvider("http://127.0.0.1:9/x")
	root := t.TempDir()
	elsewhere := filepath.Join(root, "elsewhere")
	os.Mkdir(elsewhere, 0o700)
	c := &Cache{Dir: filepath.Join(root, "tokens")}
	os.Symlink(elsewhere, c.Dir)
	if err := c.Save(&Cached{Provider: p.Name, AccessToken: "TOKEN-0123456789", TokenURL: p.TokenURL}); err == nil {
		t.Errorf("saved through a linked directory")
	}
	if files, _ := filepath.Glob(filepath.Join(elsewhere, "*")); len(files) != 0 {
		t.Errorf("written through the link: %q", files)
	}

	c = &Cache{Dir: filepath.Join(root, "real")}
	validToken(t, c, p, "", "TOKEN-0123456789")
	file := onlyFile(t, c.Dir)
	victim := filepath.Join(root, "bashrc")
	os.WriteFile(victim, []byte("# mine\n"), 0o644)
	os.Remove(file)
	os.Symlink(victim, file)
	validToken(t, c, p, "", "TOKEN-9876543210")
	if b, _ := os.ReadFile(victim); string(b) != "# mine\n" {
		t.Errorf("the link's target was overwritten: %q", b)
	}
	if fi, _ := os.Lstat(file); fi.Mode()&os.ModeSymlink != 0 || fi.Mode().Perm() != 0o600 {
		t.Errorf("cache file %v", fi.Mode())
	}
}
