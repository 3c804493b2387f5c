package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestMissingFileGivesDefaults(t *testing.T) {
	c, err := Load(Home(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c, Default()) {
		t.Fatalf("Load without a file = %+v, want the defaults", c)
	}
	if c.API.Listen != "127.0.0.1:8080" || len(c.API.CORSOrigins) != 0 {
		t.Fatalf("defaults must bind loopback with CORS off: %+v", c.API)
	}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	h := Home(t.TempDir())
	c := Default()
	c.Node.BlockInterval = Duration{250 * time.Millisecond}
	c.Node.InvariantCheckEvery = 100
	c.API.CORSOrigins = []string{"https://dash.example"}
	c.Client.Key = "ops"
	if err := Save(h, c); err != nil {
		t.Fatal(err)
	}
	got, err := Load(h)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, c) {
		t.Fatalf("loaded %+v, saved %+v", got, c)
	}
	data, _ := os.ReadFile(h.ConfigPath())
	if !strings.Contains(string(data), `block_interval = '250ms'`) {
		t.Fatalf("durations are not written as text:\n%s", data)
	}
}

// TestPartialFileKeepsDefaults: a file naming one field changes only it.
func TestPartialFileKeepsDefaults(t *testing.T) {
	h := Home(t.TempDir())
	write(t, h, "[api]\nlisten = '127.0.0.1:9999'\n")
	c, err := Load(h)
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.API.Listen = "127.0.0.1:9999"
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("loaded %+v, want %+v", c, want)
	}
}

func TestBadFilesAreRefusedWithThePath(t *testing.T) {
	for name, text := range map[string]string{
		"unknown field":   "[node]\nblock_intervall = '1s'\n",
		"bad duration":    "[node]\nblock_interval = 'soon'\n",
		"wrong type":      "[node]\nmax_block_txs = 'many'\n",
		"not toml":        "[node\n",
		"unknown table":   "[consensus]\nx = 1\n",
		"negative count":  "[node]\ninvariant_check_every = -1\n",
		"zero interval":   "[node]\nblock_interval = '0s'\n",
		"no txs":          "[node]\nmax_block_txs = 0\n",
		"small mempool":   "[node]\nmax_block_txs = 10\nmempool_size = 5\n",
		"no listen":       "[api]\nlisten = ''\n",
		"tiny body":       "[api]\nmax_body_bytes = 10\n",
		"zero timeout":    "[api]\nrequest_timeout = '0s'\n",
		"haircut above 1": "[risk]\nhaircuts = {stETH = '1.5'}\n",
		"bad psi":         "[risk]\npsi = ['5%']\n",
		"bad slash":       "[risk]\nmonte_carlo_slash = '-0.1'\n",
		"many trials":     "[risk]\nmonte_carlo_trials = 5000000\n",
	} {
		h := Home(t.TempDir())
		write(t, h, text)
		_, err := Load(h)
		if err == nil {
			t.Errorf("%s: loaded", name)
			continue
		}
		if !strings.Contains(err.Error(), h.ConfigPath()) {
			t.Errorf("%s: error %q does not name the file", name, err)
		}
	}
}

func TestHomeLayout(t *testing.T) {
	h := Home("/x")
	for got, want := range map[string]string{
		h.ConfigPath(): "/x/config.toml", h.GenesisPath(): "/x/genesis.json",
		h.KeysDir(): "/x/keys", h.DataDir(): "/x/data",
	} {
		if got != filepath.FromSlash(want) {
			t.Errorf("%s, want %s", got, want)
		}
	}
	t.Setenv("RESTAKE_HOME", "/somewhere")
	if DefaultHome() != "/somewhere" {
		t.Errorf("DefaultHome ignores $RESTAKE_HOME: %s", DefaultHome())
	}
}

func write(t *testing.T, h Home, text string) {
	t.Helper()
	if err := os.WriteFile(h.ConfigPath(), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}
