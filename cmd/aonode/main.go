// Command aonode runs an AO node: Messenger, Scheduler and Compute units, with an embedded Arweave gateway by
// default, in one process.
package main

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/term"

	"github.com/aonode/aonode/internal/gcpolicy"
	"github.com/aonode/aonode/node"
	"github.com/aonode/aonode/node/config"
	"github.com/aonode/aonode/node/progress"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "aonode:", err)
		os.Exit(1)
	}
}

func usage(fs *flag.FlagSet) func() {
	return func() {
		fmt.Fprintf(fs.Output(), `usage:
  aonode [run] [flags]                 run the node
  aonode recover [flags] <process-id>  rebuild a process from the gateway into the data directory
                                       (the node must not be running on it), then evaluate it

Runs an AO node (MU :4002, SU :4003, CU :4004) with an embedded Arweave gateway on :4000 unless
-gateway-url or a config file points at another gateway. Ready configs are in configs/.

flags:
`)
		fs.PrintDefaults()
	}
}

func run(args []string) error {
	cmd := "run"
	if len(args) > 0 && (args[0] == "run" || args[0] == "recover") {
		cmd, args = args[0], args[1:]
	}
	fs := flag.NewFlagSet("aonode "+cmd, flag.ContinueOnError)
	fs.Usage = usage(fs)
	cfgPath := fs.String("config", "", "YAML config file (see configs/)")
	dataDir := fs.String("data-dir", "", "data directory (default .aonode)")
	wallet := fs.String("wallet", "", "wallet JWK path, created when missing (default <data-dir>/wallet.json)")
	walletType := fs.String("wallet-type", "", "key type the node and its MU sign with: rsa (default) or ed25519")
	muWallet := fs.String("mu-wallet", "", "MU wallet JWK path, shared by every node of a deployment; created when missing (default <data-dir>/mu-wallet.json)")
	muAddr := fs.String("mu", "", "MU listen address (default :4002; off disables)")
	suAddr := fs.String("su", "", "SU listen address (default :4003; off disables: no Scheduler-Location, nothing scheduled here)")
	cuAddr := fs.String("cu", "", "CU listen address (default :4004; off disables)")
	adminAddr := fs.String("admin", "", "admin listen address: metrics, upload queue, recovery (default 127.0.0.1:4009; off disables)")
	explorerAddr := fs.String("explorer", "", "process explorer listen address (default 127.0.0.1:4005; off disables)")
	suURL := fs.String("su-url", "", "public SU URL published in the Scheduler-Location record (default http://localhost:<su port>)")
	gwListen := fs.String("gateway-listen", "", "embedded gateway listen address (default :4000)")
	gwURL := fs.String("gateway-url", "", "use this Arweave gateway instead of the embedded one")
	arlocal := fs.Bool("arlocal", false, "the gateway is arlocal (sequential chunks, mint, mine)")
	logLevel := fs.String("log-level", "", "debug, info, warn or error")
	// A process id may start with "-" (base64url), which the flag package would take for a flag: pull ids out
	// of the arguments first. (A 43-character base64url value is never a flag's value here.)
	var ids []string
	if cmd == "recover" {
		rest := args[:0:0]
		for _, a := range args {
			if isProcessID(a) {
				ids = append(ids, a)
			} else {
				rest = append(rest, a)
			}
		}
		args = rest
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	ids = append(ids, fs.Args()...)
	cfg := config.Default()
	if *cfgPath != "" {
		var err error
		if cfg, err = config.Load(*cfgPath); err != nil {
			return err
		}
	}
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&cfg.DataDir, *dataDir)
	set(&cfg.Wallet.Path, *wallet)
	set(&cfg.Wallet.Type, *walletType)
	set(&cfg.MU.Wallet, *muWallet)
	set(&cfg.MU.Listen, *muAddr)
	set(&cfg.SU.Listen, *suAddr)
	set(&cfg.CU.Listen, *cuAddr)
	set(&cfg.Admin.Listen, *adminAddr)
	set(&cfg.Explorer.Listen, *explorerAddr)
	// "off" turns a unit off (no listener): a CU-only, SU-only or MU-only node.
	for _, addr := range []*string{&cfg.MU.Listen, &cfg.SU.Listen, &cfg.CU.Listen, &cfg.Admin.Listen, &cfg.Explorer.Listen} {
		if *addr == "off" {
			*addr = ""
		}
	}
	set(&cfg.SU.PublicURL, *suURL)
	set(&cfg.Gateway.Listen, *gwListen)
	set(&cfg.LogLevel, *logLevel)
	if *gwURL != "" {
		cfg.Gateway.Embedded, cfg.Gateway.URL = false, *gwURL
	}
	if *arlocal {
		cfg.Gateway.Arlocal = true
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(strings.ToUpper(cfg.LogLevel))); err != nil {
		return fmt.Errorf("log level %q: %w", cfg.LogLevel, err)
	}
	// On a terminal, long work shows as bars below the log lines (which go through the bars' writer);
	// elsewhere as periodic log lines.
	var bars *progress.Terminal
	logOut := io.Writer(os.Stderr)
	if fd := int(os.Stderr.Fd()); term.IsTerminal(fd) {
		width, _, _ := term.GetSize(fd)
		bars = progress.NewTerminal(os.Stderr, width)
		logOut = bars
	}
	log := slog.New(slog.NewTextHandler(logOut, &slog.HandlerOptions{Level: level}))
	slog.SetDefault(log)
	gcpolicy.Apply(log)
	showProgress := func(ctx context.Context, tr *progress.Tracker) (stop func()) {
		ctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			if bars != nil {
				bars.Run(ctx, tr, progress.Options{})
			} else {
				progress.Log(ctx, tr, log, progress.Options{})
			}
		}()
		return func() { cancel(); <-done }
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if cmd == "recover" {
		if len(ids) != 1 {
			return errors.New("recover needs exactly one process id (aonode recover [flags] <process-id>)")
		}
		return recoverProcess(ctx, cfg, log, ids[0], showProgress)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (see aonode -h)", fs.Arg(0))
	}
	n, err := node.Open(ctx, cfg, log)
	if err != nil {
		return err
	}
	stopProgress := showProgress(ctx, n.Progress)
	defer stopProgress()
	info, err := n.Start(ctx)
	if err != nil {
		n.Close()
		return err
	}
	b, _ := json.Marshal(info)
	if err := os.WriteFile(filepath.Join(cfg.DataDir, "node-info.json"), b, 0o644); err != nil {
		log.Warn("write node-info.json", "err", err)
	}
	log.Info("aonode ready", "module", info.Module, "scheduler", info.Scheduler, "mu_address", info.MUAddress, "mu", info.MU, "cu", info.CU, "su", info.SU, "gateway", info.Gateway)
	fmt.Printf("aonode ready\n  module:    %s\n  scheduler: %s\n  mu:        %s\n  MU_URL=%s CU_URL=%s GATEWAY_URL=%s\n", info.Module, info.Scheduler, info.MUAddress, info.MU, info.CU, info.Gateway)
	if info.Explorer != "" {
		fmt.Printf("  explorer:  %s\n", info.Explorer)
	}
	<-ctx.Done()
	stop() // a second signal is no longer caught: it ends the process at once
	log.Info("shutting down (a second Ctrl-C forces exit)")
	return n.Close()
}

// recoverProcess restores pid from the gateway into the node's store and evaluates it to its last message, so a
// node started afterwards serves it at once. It prints the recovery report and the evaluated state's hash.
func recoverProcess(ctx context.Context, cfg config.Config, log *slog.Logger, pid string, show func(context.Context, *progress.Tracker) func()) error {
	if cfg.Gateway.Embedded {
		return errors.New("recover reads from a gateway: give -gateway-url (or a config with gateway.url); the embedded gateway lives in the data directory being recovered")
	}
	n, err := node.Open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer n.Close()
	// What is fetched and evaluated shows while it runs (the report below comes after).
	stop := show(ctx, n.Progress)
	rep, err := n.Recover(ctx, pid)
	if err != nil {
		stop()
		return err
	}
	out := map[string]any{"recovery": rep}
	state, nonce, _, _, err := n.CU.State(ctx, pid)
	stop()
	if err != nil {
		return fmt.Errorf("evaluate recovered process %s: %w", pid, err)
	}
	sum := sha256.Sum256(state)
	out["evaluated_nonce"] = nonce
	out["state_sha256"] = hex.EncodeToString(sum[:])
	b, _ := json.MarshalIndent(out, "", "  ")
	fmt.Println(string(b))
	return nil
}

func isProcessID(s string) bool {
	if len(s) != 43 {
		return false
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil && len(b) == 32
}
