// Package arlocaltest runs a private arlocal (npm arlocal 1.1.66, installed by `cd e2e && npm ci`) for tests:
// its own free port, its own database directory, and cleanup when the test ends.
//
// The arlocal program is found through AONODE_ARLOCAL_BIN (the package's bin/index.js, run with node, or any
// executable taking arlocal's arguments), else at <repo root>/e2e/node_modules/arlocal/bin/index.js. When it is
// missing the test is skipped, unless AONODE_REQUIRE_ARLOCAL=1, which makes it fail instead.
package arlocaltest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Environment variables read by Start.
const (
	EnvBin     = "AONODE_ARLOCAL_BIN"
	EnvRequire = "AONODE_REQUIRE_ARLOCAL"
)

const (
	startTimeout = 30 * time.Second
	stopGrace    = 3 * time.Second
	outputTail   = 64 << 10
)

// Arlocal is one running (or stopped) arlocal instance. Its methods are safe for concurrent use, but Stop and
// Restart must not overlap an upload.
type Arlocal struct {
	argv []string // program and leading arguments (e.g. node and the script)
	dir  string   // working directory: arlocal writes ./logs here and keeps the chain in ./db
	port int
	url  string
	hc   *http.Client

	mu     sync.Mutex
	proc   *process
	height int64 // chain height seen when last stopped; a restart must not resume below it
}

type process struct {
	cmd  *exec.Cmd
	out  *tailBuffer
	done chan struct{} // closed once the process has exited
	err  error         // exit status, valid after done
}

// Start launches arlocal on a free 127.0.0.1 port with a fresh database and stops it when the test ends.
func Start(t testing.TB) *Arlocal {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: skipping a test that needs arlocal")
	}
	argv, err := command()
	if err != nil {
		if os.Getenv(EnvRequire) == "1" {
			t.Fatalf("arlocal is required (%s=1): %v", EnvRequire, err)
		}
		t.Skipf("arlocal not available (%v); run `cd e2e && npm ci` or set %s", err, EnvBin)
	}
	a := &Arlocal{argv: argv, dir: t.TempDir(), hc: &http.Client{Timeout: 30 * time.Second}}
	t.Cleanup(a.halt) // registered after TempDir, so it runs before the directory is removed
	// Another process may grab the port between probing and arlocal's listen; try a few ports.
	for attempt := 0; ; attempt++ {
		if a.port, err = freePort(); err != nil {
			t.Fatalf("arlocal: %v", err)
		}
		a.url = "http://127.0.0.1:" + strconv.Itoa(a.port)
		err = a.start()
		if err == nil {
			return a
		}
		if attempt == 2 || !strings.Contains(err.Error(), "EADDRINUSE") {
			t.Fatalf("start arlocal: %v", err)
		}
	}
}

// URL is the base URL, e.g. http://127.0.0.1:41234 (unchanged across Restart).
func (a *Arlocal) URL() string { return a.url }

// Stop shuts arlocal down: SIGTERM to its process group, SIGKILL after a grace period (arlocal never exits
// while its background unbundle loop spins). The chain stays on disk for Restart; to make it resume at the
// right height, Stop first mines one block in a fresh second (see seal), which takes up to about a second.
// Stopping a stopped instance does nothing.
func (a *Arlocal) Stop() {
	a.mu.Lock()
	p := a.proc
	a.mu.Unlock()
	if p == nil {
		return
	}
	a.seal(p)
	a.halt()
}

// Restart starts arlocal again on the same port and database, so the chain survives; with Stop in between
// it simulates a gateway outage.
func (a *Arlocal) Restart(t testing.TB) {
	t.Helper()
	a.Stop()
	if err := a.start(); err != nil {
		t.Fatalf("restart arlocal: %v", err)
	}
	a.mu.Lock()
	want := a.height
	a.mu.Unlock()
	h, err := a.infoHeight(context.Background())
	if err != nil {
		t.Fatalf("restart arlocal: %v", err)
	}
	if h < want {
		t.Fatalf("restart arlocal: resumed at height %d, was %d before the stop", h, want)
	}
}

// Mine asks arlocal for one block. A /mine that races arlocal's background unbundling fails with 404, so it
// is retried until it succeeds, ctx ends or the attempts run out.
func (a *Arlocal) Mine(ctx context.Context) error {
	var last error
	for i := 0; i < 20; i++ {
		if i > 0 {
			select {
			case <-ctx.Done():
				return fmt.Errorf("arlocal mine: %w (last: %v)", ctx.Err(), last)
			case <-time.After(min(time.Duration(i)*250*time.Millisecond, 2*time.Second)):
			}
		}
		last = a.get(ctx, "/mine", nil)
		var se *statusError
		if last == nil {
			return nil
		} else if !errors.As(last, &se) {
			return fmt.Errorf("arlocal mine: %w", last) // not answering at all: retrying will not help
		}
	}
	return fmt.Errorf("arlocal mine: %w", last)
}

// Mint adds winston to addr's balance, creating the wallet row (which also makes arlocal index that
// signer's bundled items at upload time, before mining).
func (a *Arlocal) Mint(ctx context.Context, addr, winston string) error {
	if err := a.get(ctx, "/mint/"+url.PathEscape(addr)+"/"+url.PathEscape(winston), nil); err != nil {
		return fmt.Errorf("arlocal mint: %w", err)
	}
	return nil
}

// start launches the process on a.port and waits until GET /info answers.
func (a *Arlocal) start() error {
	// --dbpath is joined to the working directory by arlocal, so it must stay relative. --persist keeps
	// arlocal from deleting the database on start, which Restart relies on.
	args := append(append([]string{}, a.argv[1:]...), strconv.Itoa(a.port), "--dbpath", "db", "--persist", "--hidelogs")
	cmd := exec.Command(a.argv[0], args...)
	cmd.Dir = a.dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // so Stop reaches wrappers' children too
	out := &tailBuffer{max: outputTail}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.WaitDelay = time.Second // do not wait on output pipes a stray child may hold open
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("run %s: %w", a.argv[0], err)
	}
	p := &process{cmd: cmd, out: out, done: make(chan struct{})}
	go func() { p.err = cmd.Wait(); close(p.done) }()
	a.mu.Lock()
	a.proc = p
	a.mu.Unlock()

	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	for {
		if _, err := a.infoHeight(ctx); err == nil {
			return nil
		}
		select {
		case <-p.done:
			a.halt()
			return fmt.Errorf("arlocal exited while starting (%v); output:\n%s", p.err, out)
		case <-ctx.Done():
			a.halt()
			return fmt.Errorf("arlocal on %s did not answer GET /info within %s; output:\n%s", a.url, startTimeout, out)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// seal prepares a stop that a restart must survive. On start arlocal resumes from the block with the newest
// created_at, a one-second column, and among ties it may pick an older block, then reuse its heights. One
// block mined in a fresh second makes the newest block unambiguous. Best effort: a hung arlocal is skipped.
func (a *Arlocal) seal(p *process) {
	select {
	case <-p.done:
		return
	default:
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if _, err := a.infoHeight(ctx); err != nil {
		return
	}
	now := time.Now()
	time.Sleep(time.Until(now.Truncate(time.Second).Add(time.Second + 20*time.Millisecond)))
	if a.Mine(ctx) != nil {
		return
	}
	if h, err := a.infoHeight(ctx); err == nil {
		a.mu.Lock()
		a.height = h
		a.mu.Unlock()
	}
}

// halt stops the current process, if any: SIGTERM, then SIGKILL after stopGrace.
func (a *Arlocal) halt() {
	a.mu.Lock()
	p := a.proc
	a.proc = nil
	a.mu.Unlock()
	if p == nil {
		return
	}
	a.hc.CloseIdleConnections()
	pgid := -p.cmd.Process.Pid
	_ = syscall.Kill(pgid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(stopGrace):
	}
	// Kill whatever is left of the group: arlocal spinning, or the arlocal a wrapper (npx, a shell) started.
	// While a member lives the group id cannot be reused, so this reaches only our processes.
	if syscall.Kill(pgid, 0) == nil {
		_ = syscall.Kill(pgid, syscall.SIGKILL)
	}
	<-p.done
}

func (a *Arlocal) infoHeight(ctx context.Context) (int64, error) {
	var info struct {
		Height int64 `json:"height"`
	}
	if err := a.get(ctx, "/info", &info); err != nil {
		return 0, err
	}
	return info.Height, nil
}

// get fetches path and decodes a JSON body into out when out is not nil.
func (a *Arlocal) get(ctx context.Context, path string, out any) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.url+path, nil)
	if err != nil {
		return err
	}
	res, err := a.hc.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("GET %s: %w", path, err)
	}
	if res.StatusCode != http.StatusOK {
		return &statusError{path: path, code: res.StatusCode, body: body}
	}
	if out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			return fmt.Errorf("GET %s: decode %q: %w", path, body, err)
		}
	}
	return nil
}

// statusError is an answer other than 200.
type statusError struct {
	path string
	code int
	body []byte
}

func (e *statusError) Error() string {
	return fmt.Sprintf("GET %s: HTTP %d %q", e.path, e.code, e.body)
}

// command returns the program and leading arguments that run arlocal.
func command() ([]string, error) {
	if bin := os.Getenv(EnvBin); bin != "" {
		abs, err := filepath.Abs(bin)
		if err != nil {
			return nil, fmt.Errorf("%s=%s: %w", EnvBin, bin, err)
		}
		if _, err := os.Stat(abs); err != nil {
			return nil, fmt.Errorf("%s: %w", EnvBin, err)
		}
		if strings.HasSuffix(abs, ".js") {
			return withNode(abs)
		}
		return []string{abs}, nil
	}
	root, err := repoRoot()
	if err != nil {
		return nil, err
	}
	script := filepath.Join(root, "e2e", "node_modules", "arlocal", "bin", "index.js")
	if _, err := os.Stat(script); err != nil {
		return nil, fmt.Errorf("arlocal is not installed: %w", err)
	}
	return withNode(script)
}

func withNode(script string) ([]string, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, fmt.Errorf("node is needed to run %s: %w", script, err)
	}
	return []string{node, script}, nil
}

// repoRoot walks up from the working directory (a test's package directory) to the directory holding go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// tailBuffer keeps the last max bytes written to it, for failure messages.
type tailBuffer struct {
	mu  sync.Mutex
	b   []byte
	max int
	cut bool // bytes were dropped from the front
}

func (w *tailBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.b = append(w.b, p...)
	if len(w.b) > 2*w.max {
		w.b = append([]byte(nil), w.b[len(w.b)-w.max:]...)
		w.cut = true
	}
	return len(p), nil
}

func (w *tailBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.b) > w.max || w.cut {
		return "…" + string(w.b[max(0, len(w.b)-w.max):])
	}
	return string(w.b)
}
