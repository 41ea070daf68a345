// Package load drives one aonode over loopback HTTP with many concurrent clients sending signed messages, and
// reports acknowledgement and result latencies. CI runs a small load; the README's bench command runs the
// full one (50 clients, 20,000 messages):
//
//	AONODE_LOAD_CLIENTS=50 AONODE_LOAD_MESSAGES=20000 go test ./test/load -run TestLoad -v -timeout 60m
package load

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aonode/aonode/bundler"
	"github.com/aonode/aonode/internal/nodetest"
	"github.com/aonode/aonode/node"
	"github.com/aonode/aonode/node/config"
)

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

const kv = `Store = Store or {}
Handlers.add("Set", Handlers.utils.hasMatchingTag("Action", "Set"), function (msg)
  assert(type(msg.Key) == 'string', 'Key is required!')
  Store[msg.Key] = msg.Value
  Handlers.utils.reply("Value stored!")(msg)
end)`

type client struct {
	user *bundler.Wallet
	pid  string
	msgs []*bundler.Item
}

func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	return d[min(len(d)-1, int(float64(len(d))*p))]
}

func TestLoad(t *testing.T) {
	clients := envInt("AONODE_LOAD_CLIENTS", 10)
	total := envInt("AONODE_LOAD_MESSAGES", 200)
	if testing.Short() {
		clients, total = 5, 50
	}
	per := total / clients
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.MU.Listen, cfg.SU.Listen, cfg.CU.Listen, cfg.Gateway.Listen = nodetest.FreeAddr(t), nodetest.FreeAddr(t), nodetest.FreeAddr(t), nodetest.FreeAddr(t)
	cfg.SU.PublicURL = "http://" + cfg.SU.Listen
	cfg.Admin.Listen, cfg.Explorer.Listen = nodetest.FreeAddr(t), nodetest.FreeAddr(t)
	ctx := context.Background()
	n, err := node.Open(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	info, err := n.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	mu, cu := "http://"+cfg.MU.Listen, "http://"+cfg.CU.Listen
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients * 2}, Timeout: 2 * time.Minute}
	post := func(raw []byte) (int, error) {
		res, err := hc.Post(mu, "application/octet-stream", bytes.NewReader(raw))
		if err != nil {
			return 0, err
		}
		defer res.Body.Close()
		io.Copy(io.Discard, res.Body)
		return res.StatusCode, nil
	}

	// Each client owns a process (spawned and loaded with the kv store) and pre-signs its messages, so the
	// measured phase is the node's work, not RSA signing on the client side.
	start := time.Now()
	jwk, err := bundler.GenerateJWK()
	if err != nil {
		t.Fatal(err)
	}
	user, _ := bundler.NewWallet(jwk) // one key for all clients: RSA-4096 key generation is not what is measured
	cs := make([]*client, clients)
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for i := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &client{user: user}
			spawn, _ := c.user.Sign(nil, "", "", []bundler.Tag{{Name: "Data-Protocol", Value: "ao"}, {Name: "Type", Value: "Process"},
				{Name: "Module", Value: info.Module}, {Name: "Scheduler", Value: info.Scheduler}})
			c.pid = spawn.ID
			eval, _ := c.user.Sign([]byte(kv), c.pid, "", []bundler.Tag{{Name: "Data-Protocol", Value: "ao"}, {Name: "Type", Value: "Message"}, {Name: "Action", Value: "Eval"}})
			for _, it := range []*bundler.Item{spawn, eval} {
				if st, err := post(it.Raw); err != nil || st != http.StatusAccepted {
					errs <- fmt.Errorf("setup post: %d %v", st, err)
					return
				}
			}
			for k := range per {
				it, err := c.user.Sign(nil, c.pid, "", []bundler.Tag{{Name: "Data-Protocol", Value: "ao"}, {Name: "Type", Value: "Message"},
					{Name: "Action", Value: "Set"}, {Name: "Key", Value: fmt.Sprintf("k%d", k)}, {Name: "Value", Value: strconv.Itoa(k)}})
				if err != nil {
					errs <- err
					return
				}
				c.msgs = append(c.msgs, it)
			}
			cs[i] = c
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	t.Logf("setup: %d clients, %d processes, %d messages signed in %s", clients, clients, clients*per, time.Since(start).Round(time.Millisecond))

	// Measured phase: every client sends its messages one after another (a client waits for each answer),
	// all clients at once.
	var mu2 sync.Mutex
	var acks []time.Duration
	failures := 0
	start = time.Now()
	for _, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, it := range c.msgs {
				t0 := time.Now()
				st, err := post(it.Raw)
				d := time.Since(t0)
				mu2.Lock()
				if err != nil || st != http.StatusAccepted {
					failures++
				} else {
					acks = append(acks, d)
				}
				mu2.Unlock()
			}
		}()
	}
	wg.Wait()
	sendDur := time.Since(start)
	if failures > 0 {
		t.Fatalf("%d of %d messages failed", failures, clients*per)
	}
	// Results for all: every message's result exists and has no Error.
	var results []time.Duration
	rstart := time.Now()
	for _, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, it := range c.msgs {
				t0 := time.Now()
				res, err := hc.Get(fmt.Sprintf("%s/result/%s?process-id=%s", cu, it.ID, c.pid))
				if err != nil {
					mu2.Lock()
					failures++
					mu2.Unlock()
					continue
				}
				var r struct {
					Error    any
					Messages []struct{ Data string }
				}
				err = json.NewDecoder(res.Body).Decode(&r)
				res.Body.Close()
				mu2.Lock()
				if err != nil || res.StatusCode != 200 || r.Error != nil || len(r.Messages) != 1 || r.Messages[0].Data != "Value stored!" {
					failures++
				} else {
					results = append(results, time.Since(t0))
				}
				mu2.Unlock()
			}
		}()
	}
	wg.Wait()
	if failures > 0 {
		t.Fatalf("%d results missing or wrong", failures)
	}
	t.Logf("sent %d signed messages from %d clients in %s: %.0f msg/s; ack latency p50 %s p99 %s max %s",
		len(acks), clients, sendDur.Round(time.Millisecond), float64(len(acks))/sendDur.Seconds(),
		percentile(acks, 0.50).Round(time.Microsecond), percentile(acks, 0.99).Round(time.Microsecond), percentile(acks, 1).Round(time.Microsecond))
	t.Logf("read %d results in %s; result latency p50 %s p99 %s", len(results), time.Since(rstart).Round(time.Millisecond),
		percentile(results, 0.50).Round(time.Microsecond), percentile(results, 0.99).Round(time.Microsecond))
}
