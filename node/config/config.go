// Package config is aonode's configuration: defaults that run everything embedded, a YAML file, and flags.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"gopkg.in/yaml.v3"
)

// Config is the whole node configuration.
type Config struct {
	DataDir string `yaml:"data_dir"`
	// Wallet is the node's key (the SU's assignments, checkpoints, module and Scheduler-Location records). The
	// YAML takes a path (`wallet: FILE`, an RSA key) or {path, type, l1}.
	Wallet   WalletConfig `yaml:"wallet"`
	LogLevel string       `yaml:"log_level"`

	MU MUConfig `yaml:"mu"`
	SU SUConfig `yaml:"su"`
	CU CUConfig `yaml:"cu"`
	// Admin serves operator endpoints (metrics, upload queue, recovery); loopback only by default.
	Admin UnitConfig `yaml:"admin"`
	// Explorer serves the process explorer's pages; loopback only by default.
	Explorer UnitConfig `yaml:"explorer"`

	Gateway GatewayConfig `yaml:"gateway"`
	Upload  UploadConfig  `yaml:"upload"`
	// HTTP bounds what one client can hold of every listener (MU, SU, CU, embedded gateway, admin).
	HTTP HTTPConfig `yaml:"http"`

	// MaxItemSize bounds request bodies (data items, dry-run messages).
	MaxItemSize int64 `yaml:"max_item_size"`
}

// WalletConfig is the node's key and, for a key that cannot sign Arweave transactions, the RSA wallet that
// pays for bundles.
type WalletConfig struct {
	// Path of the key (JWK); created when missing. Default <data_dir>/wallet.json for rsa,
	// <data_dir>/wallet-ed25519.json for ed25519.
	Path string `yaml:"path"`
	// Type is the key type the node and its MU sign with: rsa (Arweave RSA-4096, the default) or ed25519
	// (ANS-104 signature type 2, about a hundred times cheaper per signature). A key file of another type is
	// refused.
	Type string `yaml:"type"`
	// L1 is the Arweave RSA wallet that signs and pays for bundle transactions (upload.mode bundle) when Type is
	// not rsa: L1 transactions are RSA only. Default <data_dir>/wallet.json; created when missing.
	L1 string `yaml:"l1"`
}

// UnmarshalYAML takes a scalar as the key's path (`wallet: FILE`, as before there were key types) or a
// mapping with path, type and l1; unknown keys are an error there too.
func (w *WalletConfig) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		w.Path = n.Value
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: wallet: want a path or a mapping with path, type, l1", n.Line)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		var dst *string
		switch k.Value {
		case "path":
			dst = &w.Path
		case "type":
			dst = &w.Type
		case "l1":
			dst = &w.L1
		default:
			return fmt.Errorf("line %d: wallet: unknown key %q (want path, type, l1)", k.Line, k.Value)
		}
		if err := v.Decode(dst); err != nil {
			return fmt.Errorf("wallet.%s: %w", k.Value, err)
		}
	}
	return nil
}

// UnitConfig is where a unit listens.
type UnitConfig struct {
	Listen string `yaml:"listen"` // host:port; "" disables the unit
}

// MUConfig adds the MU's identity, how pushes are retried, and how often monitored processes' cron results
// are pushed.
type MUConfig struct {
	Listen          string        `yaml:"listen"`
	MonitorInterval time.Duration `yaml:"monitor_interval"`
	// Wallet is the JWK the MU signs everything it pushes with, of wallet.type (created when missing; default
	// <data_dir>/mu-wallet.json, or mu-wallet-ed25519.json for ed25519: a key of its own, not the SU's). Every node of a deployment should use the same
	// file, as AO's MUs share one: processes trust one MU address, whichever node pushes to them.
	Wallet string `yaml:"wallet"`
	// A push that fails (a target not known yet, another SU unreachable) is tried again with a backoff up to
	// PushMaxBackoff and given up, then listed as failed, after PushLifetime.
	PushLifetime   time.Duration `yaml:"push_lifetime"`
	PushMaxBackoff time.Duration `yaml:"push_max_backoff"`
}

// SUConfig adds the URL the scheduler publishes in its Scheduler-Location record.
type SUConfig struct {
	Listen    string `yaml:"listen"`
	PublicURL string `yaml:"public_url"` // default http://localhost:<port>
	// LocationTTL is the Time-To-Live (ms) of the Scheduler-Location record.
	LocationTTL int64 `yaml:"location_ttl_ms"`
}

// CUConfig adds whether the CU rebuilds processes it does not hold from the gateway.
type CUConfig struct {
	Listen  string `yaml:"listen"`
	Recover bool   `yaml:"recover"`
	// ComputeLimit is the most Lua instructions per message a module may set (its Compute-Limit tag), and
	// what this node's own module sets (0: the runtime default, 250 million). MemoryLimit is the most state,
	// in bytes as the runtime accounts them, a module may set (Memory-Limit; 0: the runtime default, 512 MiB). A process runs under its
	// module's limits, so every CU stops it at the same point; a module asking more is refused.
	ComputeLimit int64 `yaml:"compute_limit"`
	MemoryLimit  int64 `yaml:"memory_limit"`
	// Cache is where results are shared: "memory" (this process only, the default) or "redis" (RedisURL,
	// shared by every CU using the same server and prefix).
	Cache       string `yaml:"cache"`
	CacheSize   int    `yaml:"cache_size"` // memory: results kept
	RedisURL    string `yaml:"redis_url"`
	RedisPrefix string `yaml:"redis_prefix"`
	// A process's state is snapshotted (into the store and the cache, for fast cold starts) every
	// SnapshotMessages evaluated messages or SnapshotEvalTime of evaluation, whichever comes first, and
	// published to Arweave as a checkpoint every CheckpointMessages or CheckpointEvalTime. 0 turns a trigger
	// off; both of a kind 0 turn the kind off.
	SnapshotMessages   int64         `yaml:"snapshot_messages"`
	SnapshotEvalTime   time.Duration `yaml:"snapshot_eval_time"`
	CheckpointMessages int64         `yaml:"checkpoint_messages"`
	CheckpointEvalTime time.Duration `yaml:"checkpoint_eval_time"`
	// CheckpointOwners are other CUs' wallet addresses whose checkpoints this CU starts processes from (its
	// own are always trusted).
	CheckpointOwners []string `yaml:"checkpoint_owners"`
	// SnapshotCostRatio delays a due snapshot or checkpoint until the process evaluated this many times as
	// long as its last snapshot took (default 10: snapshots take at most a tenth of the work). 0 turns it off.
	SnapshotCostRatio float64 `yaml:"snapshot_cost_ratio"`
	// MaxLoaded is how many process VMs stay in memory; past it the least recently used idle ones are
	// snapshotted and unloaded, to start again from their snapshot on next use. 0: no bound.
	MaxLoaded int `yaml:"max_loaded_processes"`
	// MaxDryRuns is how many dry-runs are evaluated at once; past it a dry-run is answered 429 with
	// Retry-After at once (never queued, never in the way of scheduled evaluation). 0: two per CPU core.
	MaxDryRuns int `yaml:"max_dry_runs"`
	// FollowInterval: a process another SU schedules is read from that SU before the CU answers for it, at
	// most this often unless a client asks for a message not held yet (then at once). Needs Recover.
	FollowInterval time.Duration `yaml:"follow_interval"`
}

// HTTPConfig are the listeners' timeouts and connection bounds. A zero duration or count turns that bound off
// (MaxHeaderBytes 0: Go's default, 1 MiB).
type HTTPConfig struct {
	// ReadHeaderTimeout: how long a client may take to send its request line and headers.
	ReadHeaderTimeout time.Duration `yaml:"read_header_timeout"`
	// BodyTimeout: how long a client may take to send a request body (from when the handler starts).
	BodyTimeout time.Duration `yaml:"body_timeout"`
	// WriteTimeout: how long sending a response may stall. It starts with the first byte of the answer, so a
	// result or dry-run that takes long to evaluate is not cut off.
	WriteTimeout time.Duration `yaml:"write_timeout"`
	// IdleTimeout: how long a kept-alive connection may wait for its next request.
	IdleTimeout    time.Duration `yaml:"idle_timeout"`
	MaxHeaderBytes int           `yaml:"max_header_bytes"`
	// MaxConnsPerIP: connections one remote address may hold on one listener; past it, 429. Behind a reverse
	// proxy every client has the proxy's address: raise it or set 0 there, and bound clients at the proxy.
	MaxConnsPerIP int `yaml:"max_conns_per_ip"`
}

// GatewayConfig selects the Arweave gateway.
type GatewayConfig struct {
	// Embedded runs aonode's own gateway on Listen and uses it (the default). When false, URL is used.
	Embedded bool   `yaml:"embedded"`
	Listen   string `yaml:"listen"`
	URL      string `yaml:"url"`
	// Arlocal turns on arlocal's needs (sequential chunk upload, minting, mining).
	Arlocal bool          `yaml:"arlocal"`
	Timeout time.Duration `yaml:"timeout"`
	// AutoMine (arlocal only) mines a block this often, so transactions other clients post to arlocal get
	// mined too (aonode mines after each of its own bundles anyway). 0 turns it off.
	AutoMine time.Duration `yaml:"auto_mine"`
}

// UploadConfig tunes how items reach Arweave.
type UploadConfig struct {
	// Mode is "bundle" (wrap items into ANS-104 bundles posted as L1 transactions with the node wallet) or
	// "bundler" (post each item to a bundler service at BundlerURL, as the reference units do).
	Mode       string `yaml:"mode"`
	BundlerURL string `yaml:"bundler_url"`
	// A bundle is posted when it holds MaxItems items or MaxBytes bytes, or its oldest item waited MaxAge.
	MaxItems int           `yaml:"max_items"`
	MaxBytes int           `yaml:"max_bytes"`
	MaxAge   time.Duration `yaml:"max_age"`
	// Interval is how often the queue is looked at; failures back off up to MaxBackoff.
	Interval    time.Duration `yaml:"interval"`
	MaxBackoff  time.Duration `yaml:"max_backoff"`
	Concurrency int           `yaml:"concurrency"`
	// ConfirmInterval is how often posted uploads are checked on the gateway; an upload the gateway still does
	// not know RepostAfter its post is queued again (dropped transactions must not lose items).
	ConfirmInterval time.Duration `yaml:"confirm_interval"`
	RepostAfter     time.Duration `yaml:"repost_after"`
}

// Default runs everything in one process with embedded storage and gateway on the ao-localnet ports.
func Default() Config {
	return Config{
		DataDir:  ".aonode",
		LogLevel: "info",
		MU:       MUConfig{Listen: ":4002", MonitorInterval: 2 * time.Second, PushLifetime: 10 * time.Minute, PushMaxBackoff: 30 * time.Second},
		SU:       SUConfig{Listen: ":4003", LocationTTL: 3_600_000},
		CU: CUConfig{
			Listen: ":4004", Recover: true, Cache: "memory", CacheSize: 10000,
			SnapshotMessages: 1000, SnapshotEvalTime: 2 * time.Second, CheckpointMessages: 10000, CheckpointEvalTime: time.Minute,
			MaxLoaded: 1000, SnapshotCostRatio: 20, FollowInterval: 250 * time.Millisecond,
		},
		Admin:    UnitConfig{Listen: "127.0.0.1:4009"},
		Explorer: UnitConfig{Listen: "127.0.0.1:4005"},
		Gateway:  GatewayConfig{Embedded: true, Listen: ":4000", Timeout: 30 * time.Second},
		// A bundle costs an RSA-4096 signature, a gateway transaction and two queue writes whatever it holds:
		// under load (about 3 items a message) the node spent about 14% less CPU per message with 2,000-item
		// bundles than with 500-item ones.
		Upload: UploadConfig{
			Mode: "bundle", MaxItems: 2000, MaxBytes: 8 << 20, MaxAge: time.Second, Interval: 250 * time.Millisecond,
			MaxBackoff: time.Minute, Concurrency: 8, ConfirmInterval: 10 * time.Second, RepostAfter: time.Hour,
		},
		HTTP: HTTPConfig{
			ReadHeaderTimeout: 10 * time.Second, BodyTimeout: time.Minute, WriteTimeout: time.Minute,
			IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10, MaxConnsPerIP: 256,
		},
		MaxItemSize: 10 << 20,
	}
}

// Load reads a YAML file over the defaults.
func Load(path string) (Config, error) {
	c := Default()
	b, err := os.ReadFile(path)
	if err != nil {
		return c, fmt.Errorf("read config: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true) // a misspelt key is an error, not a silently ignored setting
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return c, fmt.Errorf("parse config %s: %w", path, err)
	}
	return c, nil
}

// Finish fills derived defaults and checks the result.
func (c *Config) Finish() error {
	if c.DataDir == "" {
		return errors.New("config: data_dir is required")
	}
	switch c.Wallet.Type {
	case "":
		c.Wallet.Type = "rsa"
	case "rsa", "ed25519":
	default:
		return fmt.Errorf("config: wallet.type %q: want rsa or ed25519", c.Wallet.Type)
	}
	suffix := map[string]string{"rsa": "", "ed25519": "-ed25519"}[c.Wallet.Type]
	if c.Wallet.Path == "" {
		c.Wallet.Path = filepath.Join(c.DataDir, "wallet"+suffix+".json")
	}
	if c.MU.Wallet == "" {
		c.MU.Wallet = filepath.Join(c.DataDir, "mu-wallet"+suffix+".json")
	}
	if c.Wallet.L1 == "" && c.Wallet.Type != "rsa" {
		c.Wallet.L1 = filepath.Join(c.DataDir, "wallet.json")
	}
	if c.Wallet.Type == "rsa" && c.Wallet.L1 != "" && c.Wallet.L1 != c.Wallet.Path {
		return errors.New("config: wallet.l1 is only for a wallet.type that cannot sign Arweave transactions (an rsa wallet pays for its own bundles)")
	}
	if c.SU.PublicURL == "" {
		c.SU.PublicURL = "http://localhost" + portOf(c.SU.Listen)
	}
	if c.Gateway.Embedded {
		if c.Gateway.Listen == "" {
			return errors.New("config: gateway.listen is required for the embedded gateway")
		}
		if c.Gateway.URL == "" {
			c.Gateway.URL = "http://127.0.0.1" + portOf(c.Gateway.Listen)
		}
	} else if c.Gateway.URL == "" {
		return errors.New("config: gateway.url is required when the gateway is not embedded")
	}
	if c.MU.MonitorInterval <= 0 {
		return errors.New("config: mu.monitor_interval must be positive")
	}
	if c.MU.PushLifetime <= 0 || c.MU.PushMaxBackoff <= 0 {
		return errors.New("config: mu.push_lifetime and mu.push_max_backoff must be positive")
	}
	if c.CU.ComputeLimit < 0 || c.CU.MemoryLimit < 0 {
		return errors.New("config: cu.compute_limit and cu.memory_limit must be positive (0 for the defaults)")
	}
	if c.CU.SnapshotMessages < 0 || c.CU.SnapshotEvalTime < 0 || c.CU.CheckpointMessages < 0 || c.CU.CheckpointEvalTime < 0 {
		return errors.New("config: cu.snapshot_* and cu.checkpoint_* must not be negative (0 turns a trigger off)")
	}
	if c.CU.SnapshotCostRatio < 0 {
		return errors.New("config: cu.snapshot_cost_ratio must not be negative (0 turns it off)")
	}
	if c.CU.MaxDryRuns < 0 {
		return errors.New("config: cu.max_dry_runs must not be negative (0: two per CPU core)")
	}
	if c.CU.MaxLoaded < 0 {
		return errors.New("config: cu.max_loaded_processes must not be negative (0: no bound)")
	}
	switch c.CU.Cache {
	case "memory":
	case "redis":
		if c.CU.RedisURL == "" {
			return errors.New("config: cu.redis_url is required with cu.cache redis")
		}
	default:
		return fmt.Errorf("config: cu.cache %q: want memory or redis", c.CU.Cache)
	}
	if c.Gateway.AutoMine < 0 || c.Gateway.AutoMine > 0 && !c.Gateway.Arlocal {
		return errors.New("config: gateway.auto_mine needs gateway.arlocal and a positive interval")
	}
	switch c.Upload.Mode {
	case "bundle":
	case "bundler":
		if c.Upload.BundlerURL == "" {
			return errors.New("config: upload.bundler_url is required with upload.mode bundler")
		}
	default:
		return fmt.Errorf("config: upload.mode %q: want bundle or bundler", c.Upload.Mode)
	}
	if c.Upload.MaxItems <= 0 || c.Upload.MaxBytes <= 0 || c.Upload.MaxAge < 0 || c.Upload.Interval <= 0 ||
		c.Upload.MaxBackoff <= 0 || c.Upload.ConfirmInterval <= 0 || c.Upload.RepostAfter <= 0 {
		return errors.New("config: upload.max_items, max_bytes, interval, max_backoff, confirm_interval and repost_after must be positive (max_age >= 0)")
	}
	if h := c.HTTP; h.ReadHeaderTimeout < 0 || h.BodyTimeout < 0 || h.WriteTimeout < 0 || h.IdleTimeout < 0 || h.MaxHeaderBytes < 0 || h.MaxConnsPerIP < 0 {
		return errors.New("config: http.* must not be negative (0 turns a bound off)")
	}
	if c.MaxItemSize <= 0 {
		return errors.New("config: max_item_size must be positive")
	}
	return nil
}

func portOf(listen string) string {
	for i := len(listen) - 1; i >= 0; i-- {
		if listen[i] == ':' {
			return listen[i:]
		}
	}
	return ":" + listen
}
