package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadyConfigsLoad(t *testing.T) {
	files, err := filepath.Glob("../../configs/*.yaml")
	roles, err2 := filepath.Glob("../../configs/cluster/*.yaml")
	files = append(files, roles...)
	if err != nil || err2 != nil || len(files) < 6 {
		t.Fatalf("ready configs: %v %v %v", files, err, err2)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			c, err := Load(f)
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Finish(); err != nil {
				t.Fatal(err)
			}
			if c.Gateway.URL == "" || c.SU.PublicURL == "" || c.Wallet.Path == "" {
				t.Fatalf("derived values missing: %+v", c)
			}
			// A role config runs its unit and turns the others off.
			role := strings.TrimSuffix(filepath.Base(f), ".yaml")
			if filepath.Base(filepath.Dir(f)) == "cluster" {
				on := map[string]string{"su": c.SU.Listen, "cu": c.CU.Listen, "mu": c.MU.Listen}
				for unit, addr := range on {
					if (unit == role) != (addr != "") {
						t.Fatalf("%s node: unit %s listens on %q", role, unit, addr)
					}
				}
				if c.MU.Wallet != ".aonode-cluster/mu-wallet.json" {
					t.Fatalf("%s node: mu.wallet %s is not the deployment's shared file", role, c.MU.Wallet)
				}
			}
		})
	}
}

func TestDefaultIsEmbedded(t *testing.T) {
	c := Default()
	if err := c.Finish(); err != nil {
		t.Fatal(err)
	}
	if !c.Gateway.Embedded || c.Gateway.URL != "http://127.0.0.1:4000" || c.SU.PublicURL != "http://localhost:4003" {
		t.Fatalf("defaults: %+v", c)
	}
	if c.Wallet.Path != filepath.Join(".aonode", "wallet.json") || c.Wallet.Type != "rsa" || c.Wallet.L1 != "" {
		t.Fatalf("wallet %+v", c.Wallet)
	}
	// The MU has a key of its own by default, not the SU's.
	if c.MU.Wallet != filepath.Join(".aonode", "mu-wallet.json") {
		t.Fatalf("mu wallet path %s", c.MU.Wallet)
	}
}

func TestBadConfigs(t *testing.T) {
	cases := map[string]string{
		"not yaml":                  "mu: [",
		"external without url":      "gateway: {embedded: false}",
		"empty data dir":            "data_dir: ''",
		"zero max item size":        "max_item_size: 0",
		"unknown duration unit":     "gateway: {timeout: 5 parsecs}",
		"misspelt key":              "gatway: {url: http://x}",
		"unknown upload mode":       "upload: {mode: carrier-pigeon}",
		"bundler without url":       "upload: {mode: bundler}",
		"zero batch size":           "upload: {max_items: 0}",
		"negative max age":          "upload: {max_age: -1s}",
		"auto mine without arlocal": "gateway: {embedded: false, url: 'http://x', auto_mine: 5s}",
		"negative snapshot count":   "cu: {snapshot_messages: -1}",
		"negative checkpoint time":  "cu: {checkpoint_eval_time: -1s}",
		"negative loaded bound":     "cu: {max_loaded_processes: -1}",
		"negative dry-run bound":    "cu: {max_dry_runs: -2}",
		"negative body timeout":     "http: {body_timeout: -1s}",
		"negative per-IP bound":     "http: {max_conns_per_ip: -1}",
		"misspelt http key":         "http: {read_timeout: 5s}",
		"zero push lifetime":        "mu: {push_lifetime: 0s}",
		"negative push backoff":     "mu: {push_max_backoff: -1s}",
		"unknown wallet type":       "wallet: {type: dsa}",
		"misspelt wallet key":       "wallet: {typ: ed25519}",
		"wallet as a list":          "wallet: [a, b]",
		"l1 wallet with rsa":        "wallet: {type: rsa, path: a.json, l1: b.json}",
	}
	for name, body := range cases {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "c.yaml")
			if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
			c, err := Load(p)
			if err == nil {
				err = c.Finish()
			}
			if err == nil || !strings.Contains(err.Error(), "config") {
				t.Fatalf("want a config error, got %v", err)
			}
		})
	}
}

// wallet takes a path (the form configs had before key types) or a mapping; the key type picks the default
// file names, and a non-RSA node keeps an RSA wallet for its L1 bundle transactions.
func TestWalletConfig(t *testing.T) {
	cases := []struct {
		name, yaml string
		path, typ  string
		mu, l1     string
	}{
		{"defaults", "", ".d/wallet.json", "rsa", ".d/mu-wallet.json", ""},
		{"path only", "wallet: /k/w.json", "/k/w.json", "rsa", ".d/mu-wallet.json", ""},
		{"ed25519", "wallet: {type: ed25519}", ".d/wallet-ed25519.json", "ed25519", ".d/mu-wallet-ed25519.json", ".d/wallet.json"},
		{"ed25519 with paths", "wallet: {type: ed25519, path: /k/e.json, l1: /k/rsa.json}\nmu: {wallet: /k/mu.json}", "/k/e.json", "ed25519", "/k/mu.json", "/k/rsa.json"},
		{"rsa named", "wallet: {type: rsa, path: /k/w.json}", "/k/w.json", "rsa", ".d/mu-wallet.json", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "c.yaml")
			if err := os.WriteFile(p, []byte("data_dir: .d\n"+tc.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			c, err := Load(p)
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Finish(); err != nil {
				t.Fatal(err)
			}
			w := c.Wallet
			if w.Path != filepath.FromSlash(tc.path) || w.Type != tc.typ || c.MU.Wallet != filepath.FromSlash(tc.mu) || w.L1 != filepath.FromSlash(tc.l1) {
				t.Fatalf("wallet %+v mu %s, want %s %s %s %s", w, c.MU.Wallet, tc.path, tc.typ, tc.mu, tc.l1)
			}
		})
	}
}
