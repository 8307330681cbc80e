package oauth

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"
)

// Cached is one cached token, with what is needed to refresh it. TokenURL
// and Account say whose it is; a refresh goes to the provider's token
// endpoint, never to the one written here, which is only checked against
// it.
type Cached struct {
	Provider     string    `json:"provider"`
	Account      string    `json:"account,omitempty"`
	AccessToken  string    `json:"access_token"`
	RefreshToken string    `json:"refresh_token,omitempty"`
	Expiry       time.Time `json:"expiry,omitzero"`
	Scope        string    `json:"scope,omitempty"`
	TokenURL     string    `json:"token_url"`
	ClientID     string    `json:"client_id"`
}

// Key names a cached token: the token endpoint that redeems it and the
// account (an address, compared without case). Provider only names the
// file for people: two providers at one endpoint share their tokens, two
// issuers on one host (http://127.0.0.1:2580/ok, .../other) never do.
type Key struct{ Provider, TokenURL, Account string }

// Key is the key the token is cached under.
func (t *Cached) Key() Key { return Key{t.Provider, t.TokenURL, t.Account} }

// Cache is a directory of cached tokens, one file per token endpoint and
// account. The directory is 0700 and each file 0600: they hold refresh
// tokens, which are as good as a password until revoked. What is read is
// checked as ssh checks its keys: a directory or file another user owns
// or can write is refused (a token planted there would be used, and its
// refresh would send the client secret), one others can read is made
// private with a warning; links, FIFOs and devices are refused.
type Cache struct{ Dir string }

// DefaultCache is os.UserConfigDir()/smtprun/tokens, so XDG_CONFIG_HOME
// moves it.
func DefaultCache() (*Cache, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return nil, fmt.Errorf("no directory for the token cache: %w", err)
	}
	return &Cache{Dir: filepath.Join(dir, "smtprun", "tokens")}, nil
}

var unsafeName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`[^A-Za-z0-9@._+-]`) })

// maxCacheFile bounds what is read: a token file is a few kilobytes.
const maxCacheFile = 1 << 20

// Path is the file for a key: a readable name, and a digest of the
// token endpoint and account that tells apart what the name cannot
// ("gmail" for x and "gmail-x", two paths on one host).
func (c *Cache) Path(k Key) string {
	name := strings.ToLower(k.Provider)
	if k.Account != "" {
		name += "-" + strings.ToLower(k.Account)
	}
	sum := sha256.Sum256([]byte(k.TokenURL + "\x00" + strings.ToLower(k.Account)))
	return filepath.Join(c.Dir, unsafeName().ReplaceAllString(name, "_")+"."+hex.EncodeToString(sum[:8])+".json")
}

// Load returns the cached token for k, or nil if there is none. Warnings
// (a file others could read, now made private) go to warn.
func (c *Cache) Load(k Key, warn io.Writer) (*Cached, error) {
	if err := c.checkDir(warn, false); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	path := c.Path(k)
	b, err := readPrivate(path, warn)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var t Cached
	if err := json.Unmarshal(b, &t); err != nil {
		return nil, fmt.Errorf("token cache %s is damaged (%v): remove it", path, err)
	}
	if t.TokenURL != k.TokenURL || !strings.EqualFold(t.Account, k.Account) {
		// Copied or planted: its name promises a token it does not hold.
		return nil, fmt.Errorf("token cache %s holds a token for %s, not for %s: remove it", path, describe(t.Key()), describe(k))
	}
	return &t, nil
}

// readBounded reads f, refusing more than maxCacheFile.
func readBounded(f io.Reader, path string) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(f, maxCacheFile+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxCacheFile {
		return nil, fmt.Errorf("token cache %s is larger than %d bytes, which no token is: refusing it; remove it", path, maxCacheFile)
	}
	return b, nil
}

func describe(k Key) string {
	if k.Account == "" {
		return k.TokenURL
	}
	return k.Account + " at " + k.TokenURL
}

// checkDir checks the cache directory; create makes it if missing.
func (c *Cache) checkDir(warn io.Writer, create bool) error {
	fi, err := os.Lstat(c.Dir)
	if errors.Is(err, fs.ErrNotExist) && create {
		if err := os.MkdirAll(filepath.Dir(c.Dir), 0o700); err != nil {
			return err
		}
		if err := os.Mkdir(c.Dir, 0o700); err != nil {
			return err
		}
		fi, err = os.Lstat(c.Dir)
	}
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("token cache %s is not a directory (a link?): refusing it; remove it", c.Dir)
	}
	if err := checkOwner(c.Dir, fi); err != nil {
		return err
	}
	if fi.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("token cache %s is writable by others (mode %04o), who could have planted a token in it: refusing it; remove it and sign in again", c.Dir, fi.Mode().Perm())
	}
	if fi.Mode().Perm()&0o077 != 0 {
		if !create {
			fmt.Fprintf(warn, "warning: token cache %s was open to others (mode %04o); made private (0700)\n", c.Dir, fi.Mode().Perm())
		}
		return os.Chmod(c.Dir, 0o700)
	}
	return nil
}

// Save writes a token, replacing the file atomically so a reader never
// sees half of one, with mode 0600 in a 0700 directory. The new file is
// created afresh (O_EXCL) and renamed over the name, which replaces a
// link planted there instead of writing through it.
func (c *Cache) Save(t *Cached) error {
	if err := c.checkDir(io.Discard, true); err != nil {
		return err
	}
	b, err := json.MarshalIndent(t, "", "  ")
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(c.Dir, ".token-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), c.Path(t.Key()))
}

// Forget removes a cached token; removed is false if there was none.
func (c *Cache) Forget(k Key) (removed bool, err error) {
	err = os.Remove(c.Path(k))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}
