package node

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/aonode/aonode/internal/nodetest"
	"github.com/aonode/aonode/node/config"
)

type recorder struct {
	name   string
	events *[]string
	failOn string // "start" or "stop"
	hang   bool   // Stop waits for its context
}

func (r *recorder) Start(context.Context) error {
	*r.events = append(*r.events, "start "+r.name)
	if r.failOn == "start" {
		return errors.New("boom")
	}
	return nil
}

func (r *recorder) Stop(ctx context.Context) error {
	*r.events = append(*r.events, "stop "+r.name)
	if r.hang {
		<-ctx.Done()
		return ctx.Err()
	}
	if r.failOn == "stop" {
		return errors.New("stuck")
	}
	return nil
}

func TestServicesStartInOrderAndStopInReverse(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cases := []struct {
		name    string
		failAt  int    // service that fails to start (-1: none)
		stopBad int    // service whose stop fails (-1: none)
		want    string // events, joined
		err     string
	}{
		{"all start, stop reversed", -1, -1, "start a,start b,start c,stop c,stop b,stop a", ""},
		{"a failed start stops the started ones", 2, -1, "start a,start b,start c,stop b,stop a", "start c: boom"},
		{"a failed stop does not keep the others running", -1, 1, "start a,start b,start c,stop c,stop b,stop a", "stop b: stuck"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var events []string
			var svcs []service
			for i, name := range []string{"a", "b", "c"} {
				r := &recorder{name: name, events: &events}
				if i == c.failAt {
					r.failOn = "start"
				}
				if i == c.stopBad {
					r.failOn = "stop"
				}
				svcs = append(svcs, service{name, r})
			}
			started, err := startAll(context.Background(), log, svcs)
			if err == nil {
				err = stopAll(context.Background(), log, started)
			}
			if got := strings.Join(events, ","); got != c.want {
				t.Fatalf("events %s, want %s", got, c.want)
			}
			if c.err == "" && err != nil || c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)) {
				t.Fatalf("error %v, want %q", err, c.err)
			}
		})
	}
}

// A service that does not stop holds the others up only for its own timeout.
func TestStopGoesOnPastAHungService(t *testing.T) {
	var events []string
	svcs := []service{{"a", &recorder{name: "a", events: &events}}, {"b", &recorder{name: "b", events: &events, hang: true}}}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	err := stopAll(ctx, slog.New(slog.NewTextHandler(io.Discard, nil)), svcs)
	if !errors.Is(err, context.DeadlineExceeded) || strings.Join(events, ",") != "stop b,stop a" {
		t.Fatalf("events %v, err %v", events, err)
	}
}

// Closing a node stops every goroutine it started: listeners, the bundler, the crank, monitors, the CU's
// background work.
func TestCloseLeavesNoGoroutines(t *testing.T) {
	settle := func() int {
		http.DefaultClient.CloseIdleConnections()
		time.Sleep(50 * time.Millisecond)
		return runtime.NumGoroutine()
	}
	before := settle()
	n := startNodeWith(t, t.TempDir(), func(c *config.Config) { c.CU.MaxLoaded = 1 })
	p, _, _ := n.post("", "")
	n.eval(p.ID, `X = 1`)
	q, _, _ := n.post("", "")
	n.eval(q.ID, `Y = 2`) // a second VM past max_loaded_processes: the CU unloads one in the background
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		after := settle()
		if after <= before {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines before the node, %d after Close:\n%s", before, after, buf[:runtime.Stack(buf, true)])
		}
	}
}

// A unit that cannot listen fails the start, and what had started is stopped again (its ports are free).
func TestFailedStartStopsWhatStarted(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	gwAddr := nodetest.FreeAddr(t)
	cfg.Gateway.Listen, cfg.MU.Listen, cfg.SU.Listen = gwAddr, nodetest.FreeAddr(t), nodetest.FreeAddr(t)
	cfg.CU.Listen = busy.Addr().String()
	cfg.Admin.Listen, cfg.Explorer.Listen = "", ""
	n, err := Open(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if _, err := n.Start(context.Background()); err == nil || !strings.Contains(err.Error(), "cu listener") {
		t.Fatalf("start with the CU's port taken: %v", err)
	}
	ln, err := net.Listen("tcp", gwAddr)
	if err != nil {
		t.Fatalf("the embedded gateway still listens after the failed start: %v", err)
	}
	ln.Close()
}
