package cu

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aonode/aonode/bundler"
	"github.com/aonode/aonode/internal/nodetest"
	"github.com/aonode/aonode/node/runtime"
)

// Readers that all miss a message's result and then queue on the process lock evaluate it once: the first
// evaluates the schedule up to it, the others find it stored (no replay from the spawn, no "differs" warning).
func TestConcurrentReadersEvaluateOnce(t *testing.T) {
	e := newEnv(t)
	var logs nodetest.LockedBuffer
	e.cu.log = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	pid := e.spawnKV()
	const pending = 10
	var last *bundler.Item
	for i := 0; i < pending; i++ {
		last = e.send(user, pid, " ", tag("Action", "Set"), tag("Key", "k"), tag("Value", "v"))
	}
	ctx := context.Background()
	before := e.cu.Stats().Evaluated
	// Hold the process, so that every reader finds the result missing before any of them evaluates.
	p, _ := e.cu.getProc(ctx, pid)
	p.mu.Lock()
	const readers = 6
	var wg sync.WaitGroup
	results := make([]string, readers)
	errs := make([]error, readers)
	for i := 0; i < readers; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			raw, err := e.cu.Result(ctx, pid, last.ID)
			results[i], errs[i] = string(raw), err
		}(i)
	}
	time.Sleep(500 * time.Millisecond)
	p.mu.Unlock()
	wg.Wait()
	for i := range errs {
		if errs[i] != nil || results[i] != results[0] {
			t.Fatalf("reader %d: %v (result equal to the first: %v)", i, errs[i], results[i] == results[0])
		}
	}
	if got := e.cu.Stats().Evaluated - before; got != pending {
		t.Fatalf("%d readers caused %d evaluations, want %d", readers, got, pending)
	}
	if strings.Contains(logs.String(), "differs") {
		t.Fatalf("a reader replayed: %s", logs.String())
	}
}

const spinHandler = `Handlers.add("spin", Handlers.utils.hasMatchingTag("Action", "Spin"), function (msg)
  local n = 0
  while true do n = n + 1 end
end)`

// spinEnv is a KV process with a handler that runs until the compute limit.
func spinEnv(t *testing.T, limit int64) (*env, string) {
	e := newEnv(t)
	e.useModule(runtime.Limits{Compute: limit})
	pid := e.spawnKV()
	ev := e.send(user, pid, spinHandler, tag("Action", "Eval"))
	if r := e.result(pid, ev.ID); r["Error"] != nil {
		t.Fatalf("eval: %v", r["Error"])
	}
	return e, pid
}

func (e *env) spin(pid string) (*runtime.Result, error) {
	return e.cu.DryRun(context.Background(), pid, DryRunRequest{Owner: "reader", Tags: toAOS(tag("Action", "Spin"))})
}

// A dry-run that runs until the compute limit does not hold the process: a real message sent meanwhile is
// evaluated and answered while the dry-run is still running.
func TestDryRunDoesNotDelayScheduledMessages(t *testing.T) {
	e, pid := spinEnv(t, 100_000_000)
	type outcome struct {
		res  *runtime.Result
		err  error
		took time.Duration
	}
	done := make(chan outcome, 1)
	start := time.Now()
	go func() {
		res, err := e.spin(pid)
		done <- outcome{res, err, time.Since(start)}
	}()
	time.Sleep(200 * time.Millisecond) // the dry-run has its copy of the VM and spins
	set := e.send(user, pid, " ", tag("Action", "Set"), tag("Key", "a"), tag("Value", "b"))
	t0 := time.Now()
	r := e.result(pid, set.ID)
	took := time.Since(t0)
	if r["Error"] != nil {
		t.Fatalf("Set: %v", r["Error"])
	}
	select {
	case o := <-done:
		t.Fatalf("the dry-run (%v) ended before the real message was answered (%v): it held the process", o.took, took)
	default:
	}
	o := <-done
	if o.err != nil || !strings.Contains(o.res.Error, "compute limit") {
		t.Fatalf("spinning dry-run: %v %+v", o.err, o.res)
	}
	if took > o.took/2 {
		t.Fatalf("the real message took %v while a dry-run spun for %v", took, o.took)
	}
	t.Logf("real message answered in %v during a dry-run of %v", took, o.took)
}

// Past cu.max_dry_runs a dry-run is refused at once with 429 and Retry-After, not queued; a slot freed is
// usable again.
func TestDryRunPoolFull(t *testing.T) {
	e, pid := spinEnv(t, 100_000_000)
	e.cu.setMaxDryRuns(1)
	done := make(chan error, 1)
	go func() {
		_, err := e.spin(pid)
		done <- err
	}()
	// Wait until the spinning dry-run holds the only slot.
	for deadline := time.Now().Add(10 * time.Second); len(e.cu.dryRuns) == 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the dry-run never started")
		}
	}
	t0 := time.Now()
	_, err := e.spin(pid)
	var ce *Error
	if !errors.As(err, &ce) || ce.Status != http.StatusTooManyRequests || ce.RetryAfter <= 0 {
		t.Fatalf("second dry-run: %v", err)
	}
	if d := time.Since(t0); d > time.Second {
		t.Fatalf("refusal took %v: it waited for a slot", d)
	}
	w := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "/dry-run?process-id="+pid, strings.NewReader(`{"Owner":"x","Tags":[{"name":"Action","value":"Get"},{"name":"Key","value":"k"}]}`))
	e.router().ServeHTTP(w, req)
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") == "" || !strings.Contains(w.Body.String(), "max_dry_runs") {
		t.Fatalf("HTTP dry-run with the pool full: %d %q %s", w.Code, w.Header().Get("Retry-After"), w.Body)
	}
	if n := e.cu.Stats().DryRunsRefused; n != 2 {
		t.Fatalf("DryRunsRefused = %d, want 2", n)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := e.get(pid, "none"); got != "" {
		t.Fatalf("after the slot freed: Get = %q", got)
	}
}
