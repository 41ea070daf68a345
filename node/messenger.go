package node

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/aonode/aonode/gateway"
	"github.com/aonode/aonode/node/httpx"
	"github.com/aonode/aonode/node/metrics"
	"github.com/aonode/aonode/node/mu"
	"github.com/aonode/aonode/node/store"
)

// remote finds other schedulers through the gateway, the way scheduler-utils does, and posts to them.
type remote struct {
	gw      *gateway.Client
	self    string // this SU's address
	selfURL string
	httpc   *http.Client

	// A process's scheduler never changes; where a scheduler is may, so that is asked again after a while.
	mu        sync.Mutex
	scheds    map[string]string // process -> scheduler address
	locations map[string]location
}

type location struct {
	url string
	at  time.Time
}

const (
	locationTTL = time.Minute
	remoteCache = 10_000 // entries kept per map; past it the map starts over
)

func newRemote(gw *gateway.Client, self, selfURL string) *remote {
	return &remote{
		gw: gw, self: self, selfURL: selfURL, httpc: &http.Client{Timeout: 30 * time.Second},
		scheds: map[string]string{}, locations: map[string]location{},
	}
}

func (r *remote) Locate(ctx context.Context, pid string) (string, error) {
	r.mu.Lock()
	sched, ok := r.scheds[pid]
	r.mu.Unlock()
	if !ok {
		tx, err := r.gw.Tx(ctx, pid)
		if errors.Is(err, gateway.ErrNotFound) {
			return "", mu.ErrUnknownTarget
		}
		if err != nil {
			return "", err
		}
		var typ string
		for _, t := range tx.Tags {
			if strings.EqualFold(t.Name, "Type") && typ == "" {
				typ = t.Value
			}
			if strings.EqualFold(t.Name, "Scheduler") && sched == "" {
				sched = t.Value
			}
		}
		if typ != "Process" || sched == "" {
			return "", mu.ErrNotProcess
		}
		r.mu.Lock()
		if len(r.scheds) >= remoteCache {
			clear(r.scheds)
		}
		r.scheds[pid] = sched
		r.mu.Unlock()
	}
	return r.LocateScheduler(ctx, sched)
}

func (r *remote) LocateScheduler(ctx context.Context, address string) (string, error) {
	if address == r.self {
		return r.selfURL, nil
	}
	r.mu.Lock()
	loc, ok := r.locations[address]
	r.mu.Unlock()
	if ok && time.Since(loc.at) < locationTTL {
		return loc.url, nil
	}
	txs, _, err := r.gw.Transactions(ctx, gateway.TxQuery{
		Owners: []string{address},
		Tags:   []gateway.TagFilter{{Name: "Data-Protocol", Values: []string{"ao"}}, {Name: "Type", Values: []string{"Scheduler-Location"}}},
		Sort:   "HEIGHT_DESC", First: 1,
	})
	if err != nil {
		return "", err
	}
	for _, tx := range txs {
		for _, t := range tx.Tags {
			if t.Name == "Url" && t.Value != "" {
				u := strings.TrimRight(t.Value, "/")
				r.mu.Lock()
				if len(r.locations) >= remoteCache {
					clear(r.locations)
				}
				r.locations[address] = location{url: u, at: time.Now()}
				r.mu.Unlock()
				return u, nil
			}
		}
	}
	return "", fmt.Errorf("no Scheduler-Location record for %s", address)
}

// IsWallet asks the gateway for any transaction signed by address: an address that signed something is a
// wallet (a process id is an item's id, which signs nothing).
func (r *remote) IsWallet(ctx context.Context, address string) (bool, error) {
	txs, _, err := r.gw.Transactions(ctx, gateway.TxQuery{Owners: []string{address}, First: 1})
	if err != nil {
		return false, err
	}
	return len(txs) > 0, nil
}

func (r *remote) Post(ctx context.Context, url string, raw []byte) (string, error) {
	body, err := r.post(ctx, url, raw)
	if err != nil {
		return "", err
	}
	var out struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(body, &out); err != nil || out.ID == "" {
		return "", fmt.Errorf("post to scheduler %s: unexpected answer %q", url, body)
	}
	return out.ID, nil
}

// Assign asks the SU at base to assign msg to pid (its POST /?process-id=&assign= route, as the reference SU's).
func (r *remote) Assign(ctx context.Context, base, pid, msg string) error {
	_, err := r.post(ctx, base+"/?process-id="+url.QueryEscape(pid)+"&assign="+url.QueryEscape(msg), nil)
	return err
}

func (r *remote) post(ctx context.Context, url string, raw []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set("Accept", "application/json")
	httpx.SetRequestID(ctx, req)
	res, err := r.httpc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("post to scheduler %s: %w", url, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if res.StatusCode/100 != 2 {
		return nil, fmt.Errorf("post to scheduler %s: %d %s", url, res.StatusCode, body)
	}
	return body, nil
}

// muMetrics exposes the MU's crank on /metrics: the durable queue by task kind (and the failed ones), and what
// the crank did.
func muMetrics(m *metrics.Metrics, u *mu.Service, db *store.DB) {
	m.Gauges("aonode_mu_tasks", "Tasks in the MU's durable crank queue by kind (crank, message, spawn, assign), and given-up ones (failed).", "kind", db.TaskCounts)
	for _, k := range []struct {
		name, help string
		get        func(mu.Stats) int64
	}{
		{"aonode_mu_cranks_total", "Results read and their outboxes queued.", func(s mu.Stats) int64 { return s.Cranked }},
		{"aonode_mu_pushes_delivered_total", "Messages, spawns and assignments delivered to a scheduler (this node's or another).", func(s mu.Stats) int64 { return s.Delivered }},
		{"aonode_mu_wallet_messages_total", "Pushed messages to wallets (stored and uploaded only).", func(s mu.Stats) int64 { return s.ToWallets }},
		{"aonode_mu_task_retries_total", "Failed task attempts that will be tried again (targets not known yet, SUs unreachable).", func(s mu.Stats) int64 { return s.Retries }},
		{"aonode_mu_tasks_failed_total", "Tasks given up after mu.push_lifetime (listed by GET /pushes?status=failed).", func(s mu.Stats) int64 { return s.Failed }},
	} {
		m.Counter(k.name, k.help, func() float64 { return float64(k.get(u.Stats())) })
	}
}
