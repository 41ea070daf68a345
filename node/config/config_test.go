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
			if c.Gateway.URL == "" || c.SU.PublicURL == "" || c.Wallet == "" {
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
	if c.Wallet != filepath.Join(".aonode", "wallet.json") {
		t.Fatalf("wallet path %s", c.Wallet)
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
