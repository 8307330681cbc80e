package oauth

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"
)

// Cached is one cached token, with what is needed to refresh it.
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

// Cache is a directory of cached tokens, one file per provider and
// account. The directory is 0700 and each file 0600: they hold refresh
// tokens, which are as good as a password until revoked.
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

// Path is the file for a provider and account ("" for the default one).
func (c *Cache) Path(provider, account string) string {
	name := strings.ToLower(provider)
	if account != "" {
		name += "-" + strings.ToLower(account)
	}
	return filepath.Join(c.Dir, unsafeName().ReplaceAllString(name, "_")+".json")
}

// Load returns the cached token, or nil if there is none.
func (c *Cache) Load(provider, account string) (*Cached, error) {
	b, err := os.ReadFile(c.Path(provider, account))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var t Cached
	if err := json.Unmarshal(b, &t); err != nil {
		return nil, fmt.Errorf("token cache %s is damaged (%v): remove it with smtprun token --forget %s", c.Path(provider, account), err, provider)
	}
	return &t, nil
}

// Save writes a token, replacing the file atomically so a reader never
// sees half of one, with mode 0600 in a 0700 directory.
func (c *Cache) Save(t *Cached) error {
	if err := os.MkdirAll(c.Dir, 0o700); err != nil {
		return err
	}
	// MkdirAll leaves an existing directory as it was; this one must not
	// be readable by others.
	if err := os.Chmod(c.Dir, 0o700); err != nil {
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
	return os.Rename(f.Name(), c.Path(t.Provider, t.Account))
}

// Forget removes a cached token; removed is false if there was none.
func (c *Cache) Forget(provider, account string) (removed bool, err error) {
	err = os.Remove(c.Path(provider, account))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}
