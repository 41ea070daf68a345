package bundler

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"
)

// memQueue is an in-memory Queue with the store's semantics, for driving the worker in tests.
type memQueue struct {
	mu     sync.Mutex
	rows   []*memRow
	posted []string // refs in post order
	nexts  int      // calls of Next: reads of a batch
}

type memRow struct {
	key    uint64
	raw    []byte
	queued time.Time
	state  string
	ref    string
	at     time.Time
	height int64
}

func (q *memQueue) add(now time.Time, sizes ...int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, s := range sizes {
		q.rows = append(q.rows, &memRow{key: uint64(len(q.rows) + 1), raw: make([]byte, s), queued: now, state: "pending"})
	}
}

func (q *memQueue) Peek(_ context.Context, max int) (Peek, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	var p Peek
	for _, r := range q.rows {
		if r.state == "pending" && p.Items < max {
			if p.Items == 0 {
				p.Oldest = r.queued
			}
			p.Items++
			p.Bytes += len(r.raw)
		}
	}
	return p, nil
}

func (q *memQueue) Next(_ context.Context, max int) ([]Pending, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.nexts++
	var out []Pending
	for _, r := range q.rows {
		if r.state == "pending" && len(out) < max {
			out = append(out, Pending{Key: r.key, Raw: r.raw, Queued: r.queued})
		}
	}
	return out, nil
}

func (q *memQueue) row(k uint64) *memRow { return q.rows[k-1] }

func (q *memQueue) Done(_ context.Context, keys []uint64, ref string, err error) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if err != nil {
		return nil
	}
	q.posted = append(q.posted, ref)
	for _, k := range keys {
		r := q.row(k)
		r.state, r.ref, r.at = "posted", ref, time.Now()
	}
	return nil
}

func (q *memQueue) Posted(_ context.Context, max int) ([]Posted, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []Posted
	for _, r := range q.rows {
		if r.state != "posted" {
			continue
		}
		if len(out) == 0 || out[len(out)-1].Ref != r.ref {
			out = append(out, Posted{Ref: r.ref, At: r.at})
		}
		out[len(out)-1].Keys = append(out[len(out)-1].Keys, r.key)
	}
	return out, nil
}

func (q *memQueue) Confirmed(_ context.Context, keys []uint64, h int64) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, k := range keys {
		q.row(k).state, q.row(k).height = "confirmed", h
	}
	return nil
}

func (q *memQueue) Requeue(_ context.Context, keys []uint64, _ string) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, k := range keys {
		q.row(k).state = "pending"
	}
	return nil
}

func (q *memQueue) states() map[string]int {
	q.mu.Lock()
	defer q.mu.Unlock()
	m := map[string]int{}
	for _, r := range q.rows {
		m[r.state]++
	}
	return m
}

// fakePoster records batches (as item counts) and fails while down.
type fakePoster struct {
	mu      sync.Mutex
	down    bool
	batches []int
}

func (p *fakePoster) Post(_ context.Context, raws [][]byte) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.down {
		return "", errors.New("gateway down")
	}
	p.batches = append(p.batches, len(raws))
	return fmt.Sprintf("bundle-%d", len(p.batches)), nil
}

func TestWorkerBatching(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	cases := []struct {
		name     string
		sizes    []int
		age      time.Duration // how long the items have waited when the worker looks
		batches  []int         // posts made by one drain
		maxItems int
		maxBytes int
	}{
		{"partial batch waits for age", []int{10, 10}, 500 * time.Millisecond, nil, 5, 1000},
		{"partial batch posted once old", []int{10, 10}, 2 * time.Second, []int{2}, 5, 1000},
		{"full batch posted at once", []int{10, 10, 10, 10, 10, 10, 10}, 0, []int{5}, 5, 1000},
		{"byte limit splits", []int{400, 400, 400}, 0, []int{2}, 10, 1000},
		{"old items drain in several posts", []int{400, 400, 400, 400, 400}, 2 * time.Second, []int{2, 2, 1}, 10, 1000},
		{"oversized single item still goes", []int{5000}, 2 * time.Second, []int{1}, 10, 1000},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q, p := &memQueue{}, &fakePoster{}
			q.add(t0, c.sizes...)
			w := NewWorker(q, p, WorkerOptions{MaxItems: c.maxItems, MaxBytes: c.maxBytes, MaxAge: time.Second,
				Now: func() time.Time { return t0.Add(c.age) }})
			if err := w.drain(context.Background()); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(p.batches, c.batches) {
				t.Fatalf("batches %v, want %v", p.batches, c.batches)
			}
			// A batch is read only to be posted: the peek before it says when one is due.
			if q.nexts != len(c.batches) {
				t.Fatalf("the batch was read %d times for %d posts", q.nexts, len(c.batches))
			}
		})
	}
}

// The worker's peek must find a batch due exactly when the batch itself is (Worker.cut): never later, or a
// full bundle would wait for its age, and never sooner, or the batch is read for nothing.
func TestPeekDecidesAsTheBatch(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 20_000 {
		q := &memQueue{}
		for range rng.IntN(12) {
			q.add(t0.Add(time.Duration(rng.IntN(3000))*time.Millisecond), rng.IntN(600))
		}
		now := t0.Add(time.Duration(rng.IntN(4000)) * time.Millisecond)
		w := NewWorker(q, &fakePoster{}, WorkerOptions{MaxItems: 1 + rng.IntN(8), MaxBytes: 1 + rng.IntN(2000), MaxAge: time.Second,
			Now: func() time.Time { return now }})
		p, _ := q.Peek(context.Background(), w.o.MaxItems)
		batch, _ := q.Next(context.Background(), w.o.MaxItems)
		want := false
		if len(batch) > 0 {
			_, _, want = w.cut(batch)
		}
		if got := w.due(p); got != want {
			t.Fatalf("case %d: peek %+v says due %v, the batch of %d says %v (max %d items, %d bytes)", i, p, got, len(batch), want, w.o.MaxItems, w.o.MaxBytes)
		}
	}
}

func TestWorkerOutageKeepsOrderAndLosesNothing(t *testing.T) {
	q, p := &memQueue{}, &fakePoster{down: true}
	q.add(time.Now().Add(-time.Hour), 1, 2, 3, 4, 5)
	w := NewWorker(q, p, WorkerOptions{MaxItems: 2})
	ctx := context.Background()
	for range 3 {
		if err := w.Flush(ctx); err == nil {
			t.Fatal("flush with the gateway down succeeded")
		}
	}
	if got := q.states(); got["pending"] != 5 {
		t.Fatalf("after failures: %v, want 5 pending", got)
	}
	p.down = false
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(p.batches, []int{2, 2, 1}) {
		t.Fatalf("batches %v", p.batches)
	}
	// Queue order survives: rows 1-2 in the first bundle, 3-4 in the second, 5 in the third.
	for k, want := range map[uint64]string{1: "bundle-1", 2: "bundle-1", 3: "bundle-2", 4: "bundle-2", 5: "bundle-3"} {
		if got := q.row(k).ref; got != want {
			t.Fatalf("row %d in %s, want %s", k, got, want)
		}
	}
}

type fakeConfirmer map[string]Status

func (f fakeConfirmer) Confirm(_ context.Context, ref string) (Status, error) {
	if st, ok := f[ref]; ok {
		return st, nil
	}
	return Status{}, errors.New("unexpected ref " + ref)
}

func TestWorkerConfirm(t *testing.T) {
	now := time.Now()
	q, p := &memQueue{}, &fakePoster{}
	q.add(now, 1, 1, 1, 1, 1, 1)
	conf := fakeConfirmer{}
	clock := now
	w := NewWorker(q, p, WorkerOptions{MaxItems: 2, RepostAfter: time.Hour, Confirmer: conf, Now: func() time.Time { return clock }})
	ctx := context.Background()
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	conf["bundle-1"] = Status{State: StateConfirmed, Height: 42}
	conf["bundle-2"] = Status{State: StatePending}
	conf["bundle-3"] = Status{State: StateUnknown}
	if err := w.Confirm(ctx); err != nil {
		t.Fatal(err)
	}
	if got := q.states(); got["confirmed"] != 2 || got["posted"] != 4 {
		t.Fatalf("after first check: %v", got)
	}
	if q.row(1).height != 42 {
		t.Fatalf("height %d", q.row(1).height)
	}
	// An hour later the gateway still does not know bundle-3: its items go back to the queue and are posted again.
	clock = now.Add(2 * time.Hour)
	if err := w.Confirm(ctx); err != nil {
		t.Fatal(err)
	}
	if got := q.states(); got["pending"] != 2 || got["posted"] != 2 || got["confirmed"] != 2 {
		t.Fatalf("after repost window: %v", got)
	}
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if q.row(5).ref != "bundle-4" || q.row(6).ref != "bundle-4" {
		t.Fatalf("requeued items posted in %s/%s", q.row(5).ref, q.row(6).ref)
	}
}
