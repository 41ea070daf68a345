package arlocaltest

import (
	"context"
	"flag"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestStartMineMintRestart(t *testing.T) {
	a := Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	const addr = "arlocaltest-self-test-address-000000000000"
	if err := a.Mint(ctx, addr, "12345"); err != nil {
		t.Fatal(err)
	}
	// Several blocks in one second: the case a naive restart resumes from the wrong block.
	for i := 0; i < 3; i++ {
		if err := a.Mine(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if h := height(t, a); h != 3 {
		t.Fatalf("height after 3 mines = %d", h)
	}

	a.Stop()
	if _, err := http.Get(a.URL() + "/info"); err == nil {
		t.Fatal("arlocal still answers after Stop")
	}
	if err := a.Mine(ctx); err == nil {
		t.Fatal("Mine on a stopped arlocal succeeded")
	}
	a.Stop() // no-op

	url := a.URL()
	a.Restart(t)
	if a.URL() != url {
		t.Errorf("URL changed across Restart: %s -> %s", url, a.URL())
	}
	h := height(t, a)
	if h < 3 {
		t.Fatalf("height after restart = %d, want at least 3", h)
	}
	if got := body(t, a.URL()+"/wallet/"+addr+"/balance"); got != "12345" {
		t.Errorf("balance after restart = %q, want 12345", got)
	}
	if err := a.Mine(ctx); err != nil {
		t.Fatal(err)
	}
	if h2 := height(t, a); h2 != h+1 {
		t.Errorf("height after restart and mine = %d, want %d", h2, h+1)
	}
}

// TestStopKillsHungArlocal stands in for an arlocal stuck in its unbundle loop with a process that ignores
// SIGTERM: run directly, and behind a shell wrapper that exits on SIGTERM and leaves its child behind.
func TestStopKillsHungArlocal(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, prefix string
		waitsGrace   bool
	}{
		{"direct", "exec ", true},
		{"behind wrapper", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			script := filepath.Join(t.TempDir(), "hung-arlocal")
			wrapper := "#!/bin/sh\n" + tc.prefix + "\"" + exe + "\" -test.run='^TestHelperHungArlocal$' -- \"$@\"\n"
			if err := os.WriteFile(script, []byte(wrapper), 0o755); err != nil {
				t.Fatal(err)
			}
			t.Setenv(EnvBin, script)
			t.Setenv("ARLOCALTEST_HUNG", "1")
			a := Start(t)
			start := time.Now()
			a.Stop()
			if d := time.Since(start); tc.waitsGrace && d < stopGrace {
				t.Errorf("Stop returned after %s, before the grace period, though the process ignores SIGTERM", d)
			}
			if _, err := http.Get(a.URL() + "/info"); err == nil {
				t.Error("the hung process still answers after Stop")
			}
		})
	}
}

// TestHelperHungArlocal is the child process of TestStopKillsHungArlocal.
func TestHelperHungArlocal(t *testing.T) {
	if os.Getenv("ARLOCALTEST_HUNG") != "1" {
		t.Skip("child process of TestStopKillsHungArlocal")
	}
	signal.Ignore(syscall.SIGTERM)
	ok := func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, `{"height":0}`) }
	http.HandleFunc("/info", ok)
	http.HandleFunc("/mine", ok)
	t.Log(http.ListenAndServe("127.0.0.1:"+flag.Arg(0), nil))
}

func TestCommandFromEnv(t *testing.T) {
	t.Setenv(EnvBin, filepath.Join(t.TempDir(), "missing", "index.js"))
	if _, err := command(); err == nil || !strings.Contains(err.Error(), EnvBin) {
		t.Errorf("command() with a missing %s: err = %v", EnvBin, err)
	}
	t.Setenv(EnvBin, "/bin/true")
	argv, err := command()
	if err != nil || len(argv) != 1 || argv[0] != "/bin/true" {
		t.Errorf("command() for an executable = %v, %v", argv, err)
	}
}

func TestTailBuffer(t *testing.T) {
	w := &tailBuffer{max: 4}
	for _, s := range []string{"ab", "cdefgh", "ij"} {
		w.Write([]byte(s))
	}
	if got := w.String(); got != "…ghij" {
		t.Errorf("tail = %q", got)
	}
}

func height(t *testing.T, a *Arlocal) int64 {
	t.Helper()
	h, err := a.infoHeight(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func body(t *testing.T, url string) string {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}
