package main

import (
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/restake/restake/internal/config"
	"github.com/restake/restake/internal/keys"
)

// keyring is the keys/ directory of a home: one keystore v3 file per key,
// named <name>.json.
type keyring struct{ dir string }

func openKeyring(h config.Home) keyring { return keyring{dir: h.KeysDir()} }

var keyName = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

func (k keyring) path(name string) (string, error) {
	if !keyName.MatchString(name) {
		return "", fmt.Errorf("key name %q: use 1-64 letters, digits, '.', '-' or '_'", name)
	}
	return filepath.Join(k.dir, name+".json"), nil
}

// password returns the keystore password: --password-file, then
// $RESTAKE_PASSWORD, then empty (with a warning from the caller).
func password(file string) (string, bool, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", false, fmt.Errorf("password file: %w", err)
		}
		return strings.TrimRight(string(b), "\r\n"), true, nil
	}
	if p, ok := os.LookupEnv("RESTAKE_PASSWORD"); ok {
		return p, true, nil
	}
	return "", false, nil
}

// save writes a key encrypted with pass; it never overwrites.
func (k keyring) save(name string, key *keys.PrivateKey, pass string, light bool) (string, error) {
	p, err := k.path(name)
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(p); err == nil {
		return "", fmt.Errorf("key %q exists (%s); choose another name or delete the file", name, p)
	}
	n, pp := keys.StandardScryptN, keys.StandardScryptP
	if light {
		n, pp = keys.LightScryptN, keys.LightScryptP
	}
	data, err := keys.EncryptKeystore(key, pass, rand.Reader, n, pp)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(k.dir, 0o700); err != nil {
		return "", err
	}
	return p, os.WriteFile(p, data, 0o600)
}

func (k keyring) load(name, pass string) (*keys.PrivateKey, error) {
	p, err := k.path(name)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("no key %q in %s; create one with: restake keys create %s", name, k.dir, name)
	}
	if err != nil {
		return nil, err
	}
	key, err := keys.DecryptKeystore(data, pass)
	if errors.Is(err, keys.ErrWrongPassword) {
		return nil, fmt.Errorf("key %q: wrong password (set RESTAKE_PASSWORD or --password-file)", name)
	}
	return key, err
}

func (k keyring) raw(name string) ([]byte, error) {
	p, err := k.path(name)
	if err != nil {
		return nil, err
	}
	return os.ReadFile(p)
}

// address reads a key's address without decrypting it.
func (k keyring) address(name string) (keys.Address, error) {
	data, err := k.raw(name)
	if err != nil {
		return keys.Address{}, fmt.Errorf("no key %q: %w", name, err)
	}
	return keystoreAddress(data)
}

func (k keyring) list() ([]string, error) {
	entries, err := os.ReadDir(k.dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if n, ok := strings.CutSuffix(e.Name(), ".json"); ok && !e.IsDir() {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names, nil
}
