package cu

import (
	"context"
	"reflect"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aonode/aonode/bundler"

	"github.com/aonode/aonode/node/aos"
	"github.com/aonode/aonode/node/su"
)

// The MU reads what Evaluated gives; handed over or read from the store, it must be the same result and the
// same scheduled message.
func TestEvaluatedHandsOverWhatTheStoreHolds(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		handoff bool
		data    string // what the message's handler sends back
		handed  int64  // results the MU takes as evaluated, of the two read
	}{
		{"handed over", true, "Value stored!", 2},
		{"not valid UTF-8: read stored", true, "\xff\xfe", 0},
		{"no MU in this process", false, "Value stored!", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			if tc.handoff {
				e.cu.HandOff()
			}
			pid := e.spawnKV()
			e.send(user, pid, `Handlers.add("echo", Handlers.utils.hasMatchingTag("Action", "Echo"), function(m) ao.send({ Target = m.From, Data = m.Data, Tags = { Seen = "yes" } }) end)`, tag("Action", "Eval"))
			var ids []string
			for range 3 {
				ids = append(ids, e.send(user, pid, tc.data, tag("Action", "Echo")).ID)
			}
			before := e.cu.Stats().HandedOff
			// The first read evaluates all three (read-ahead); the MU's read of the first and of the third.
			for _, id := range []string{ids[0], ids[2]} {
				res, sc, err := e.cu.Evaluated(ctx, pid, id)
				if err != nil {
					t.Fatal(err)
				}
				raw, err := e.cu.Result(ctx, pid, id)
				if err != nil {
					t.Fatal(err)
				}
				stored, err := DecodeResult(raw)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(res.Messages, stored.Messages) || !reflect.DeepEqual(res.Spawns, stored.Spawns) ||
					len(res.Assignments) != len(stored.Assignments) || res.Error != stored.Error || res.Output != stored.Output {
					t.Fatalf("Evaluated gives\n%+v\nthe store holds\n%+v", res, stored)
				}
				if len(res.Messages) != 1 || res.Messages[0].Target != user.Address() {
					t.Fatalf("the echo: %+v", res.Messages)
				}
				if sc != nil {
					want, err := e.su.Lookup(ctx, pid, id)
					if err != nil {
						t.Fatal(err)
					}
					if !sameScheduled(sc, want) {
						t.Fatalf("scheduled message handed over: %+v\nthe SU has %+v", sc.Entry, want.Entry)
					}
				}
			}
			if got := e.cu.Stats().HandedOff - before; got != tc.handed {
				t.Fatalf("%d results handed over, want %d", got, tc.handed)
			}
			// Taken once: a second read is the stored copy, the same again.
			res, sc, err := e.cu.Evaluated(ctx, pid, ids[0])
			if err != nil || sc != nil || len(res.Messages) != 1 {
				t.Fatalf("second read: %+v %v %v", res, sc, err)
			}
		})
	}
}

func sameScheduled(a, b *su.Scheduled) bool {
	return a.Entry == b.Entry && a.Message.ID == b.Message.ID && string(a.Message.Raw) == string(b.Message.Raw) &&
		a.Assignment.ID == b.Assignment.ID && string(a.Assignment.Raw) == string(b.Assignment.Raw)
}

// The handoff holds a bounded number of small results: past the bound the oldest go, and a large result or
// message is never held (the MU reads those stored).
func TestHandoffBounded(t *testing.T) {
	h := newHandoff()
	res := &aos.Result{}
	msg := &bundler.Item{Raw: []byte("message")}
	id := func(i int) string { return strconv.Itoa(i) }
	for i := range handoffEntries + 10 {
		sc := &su.Scheduled{Message: msg}
		sc.MessageID = id(i)
		h.offer("p", sc, res, []byte("{}"))
	}
	if h.c.Len() != handoffEntries {
		t.Fatalf("holds %d results, bound %d", h.c.Len(), handoffEntries)
	}
	if _, _, ok := h.take("p", id(9)); ok {
		t.Fatal("the oldest results were kept past the bound")
	}
	if _, sc, ok := h.take("p", id(handoffEntries+9)); !ok || sc.MessageID != id(handoffEntries+9) {
		t.Fatal("the newest result was not kept")
	}
	if _, _, ok := h.take("q", id(handoffEntries+8)); ok {
		t.Fatal("a result of another process was taken")
	}
	for _, c := range []struct {
		name     string
		raw, msg int
	}{{"large result", handoffMaxSize + 1, 10}, {"large message", 10, handoffMaxSize + 1}} {
		sc := &su.Scheduled{Message: &bundler.Item{Raw: make([]byte, c.msg)}}
		sc.MessageID = c.name
		h.offer("p", sc, res, make([]byte, c.raw))
		if _, _, ok := h.take("p", c.name); ok {
			t.Errorf("%s: held", c.name)
		}
	}
}

// Each result is taken once, also by readers at once (the MU's crank and a retry of it, say).
func TestHandoffTakenOnce(t *testing.T) {
	h := newHandoff()
	msg := &bundler.Item{Raw: []byte("message")}
	const n = 200
	for i := range n {
		sc := &su.Scheduled{Message: msg}
		sc.MessageID = strconv.Itoa(i)
		h.offer("p", sc, &aos.Result{}, []byte("{}"))
	}
	var taken [n]atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for i := range n {
				if _, _, ok := h.take("p", strconv.Itoa(i)); ok {
					taken[i].Add(1)
				}
			}
		})
	}
	wg.Wait()
	for i := range taken {
		if got := taken[i].Load(); got != 1 {
			t.Fatalf("result %d was taken %d times", i, got)
		}
	}
}
