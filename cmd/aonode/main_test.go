package main

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aonode/aonode/bundler"
	"github.com/aonode/aonode/gateway/embedded"
	"github.com/aonode/aonode/internal/nodetest"
	"github.com/aonode/aonode/node"
	"github.com/aonode/aonode/node/config"
	"github.com/aonode/aonode/node/store"
)

// TestRecoverCommand: a process scheduled by one node is rebuilt by `aonode recover` into an empty data
// directory from the gateway alone.
func TestRecoverCommand(t *testing.T) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	g, err := embedded.Open(filepath.Join(t.TempDir(), "gw.db"), embedded.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(g.Handler())
	defer func() { srv.Close(); g.Close() }()

	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Gateway.Embedded, cfg.Gateway.URL = false, srv.URL
	cfg.MU.Listen, cfg.SU.Listen, cfg.CU.Listen, cfg.Admin.Listen = nodetest.FreeAddr(t), nodetest.FreeAddr(t), nodetest.FreeAddr(t), nodetest.FreeAddr(t)
	cfg.Explorer.Listen = nodetest.FreeAddr(t)
	ctx := context.Background()
	n, err := node.Open(ctx, cfg, quiet)
	if err != nil {
		t.Fatal(err)
	}
	info, err := n.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	user, _ := bundler.NewWallet(must(bundler.GenerateJWK()))
	spawn, err := user.Sign(nil, "", "", []bundler.Tag{
		{Name: "Data-Protocol", Value: "ao"}, {Name: "Type", Value: "Process"},
		{Name: "Module", Value: info.Module}, {Name: "Scheduler", Value: info.Scheduler},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.SU.Write(ctx, spawn); err != nil {
		t.Fatal(err)
	}
	if err := n.Worker.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	n.Close()

	fresh := t.TempDir()
	cases := []struct {
		name string
		args []string
		err  string
	}{
		{"no process id", []string{"recover", "-gateway-url", srv.URL, "-data-dir", fresh}, "exactly one process id"},
		{"embedded gateway", []string{"recover", "-data-dir", fresh, spawn.ID}, "reads from a gateway"},
		{"bad id", []string{"recover", "-gateway-url", srv.URL, "-data-dir", fresh, "nope"}, "not a 43-character"},
		{"recovered", []string{"recover", "-gateway-url", srv.URL, "-data-dir", fresh, "-admin", "off", spawn.ID}, ""},
		{"twice", []string{"recover", "-gateway-url", srv.URL, "-data-dir", fresh, spawn.ID}, "already held locally"},
	}
	// Ids may start with "-": the command must not take one for a flag.
	// (not the spawn's id with its first character replaced: one id in 64 already starts with "-").
	dashID := "-" + strings.Repeat("A", 42)
	if err := run([]string{"recover", "-gateway-url", srv.URL, "-data-dir", t.TempDir(), "-admin", "off", dashID}); err == nil ||
		strings.Contains(err.Error(), "flag provided but not defined") {
		t.Fatalf("an id starting with '-': %v", err)
	}
	for _, c := range cases {
		err := run(c.args)
		if c.err == "" && err != nil || c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)) {
			t.Fatalf("%s: %v (want %q)", c.name, err, c.err)
		}
	}
	db, err := store.Open(filepath.Join(fresh, "aonode.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	p, err := db.GetProcess(ctx, spawn.ID)
	if err != nil || p.Scheduler != info.Scheduler || p.Owner != user.Address() {
		t.Fatalf("recovered process: %+v %v", p, err)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
