package explorer

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/everFinance/goar/types"
	"github.com/everFinance/goar/utils"

	"github.com/aonode/aonode/bundler"
	"github.com/aonode/aonode/node/store"
)

// scaleMessages is the schedule length the explorer must stay fast with.
const scaleMessages = 100_000

// fakeItem is an ANS-104 item with an ED25519-sized signature that is not a signature: the store's items
// are decoded, not verified, when read (they were verified when accepted), and this keeps a 100,000-message
// schedule small and quick to build. seed makes the id unique.
func fakeItem(t testing.TB, seed uint64, target string, tags []types.Tag, data string) (string, []byte) {
	t.Helper()
	sig := make([]byte, 64)
	binary.BigEndian.PutUint64(sig, seed)
	owner := make([]byte, 32)
	owner[0] = 7
	b := append(utils.ShortTo2ByteArray(types.ED25519SignType), sig...)
	b = append(b, owner...)
	if target != "" {
		tb, err := bundler.DecodeB64(target)
		if err != nil {
			t.Fatal(err)
		}
		b = append(append(b, 1), tb...)
	} else {
		b = append(b, 0)
	}
	b = append(b, 0) // no anchor
	tagBytes := avroTags(tags)
	b = append(b, utils.LongTo8ByteArray(len(tags))...)
	b = append(b, utils.LongTo8ByteArray(len(tagBytes))...)
	b = append(append(b, tagBytes...), data...)
	id := sha256.Sum256(sig)
	return bundler.B64(id[:]), b
}

// avroTags encodes tags as ANS-104 does (an Avro array of {name, value} byte records): written out here
// because the Avro library builds a codec per call, which would make the 100,000 items take a minute.
func avroTags(tags []types.Tag) []byte {
	if len(tags) == 0 {
		return nil
	}
	long := func(b []byte, n int64) []byte { return binary.AppendVarint(b, n) } // zigzag varint, as Avro's long
	b := long(nil, int64(len(tags)))
	for _, t := range tags {
		b = append(long(b, int64(len(t.Name))), t.Name...)
		b = append(long(b, int64(len(t.Value))), t.Value...)
	}
	return long(b, 0)
}

// counting wraps the store and the SU and counts what a page reads.
type counting struct {
	Store
	items, results atomic.Int64
}

func (c *counting) Item(ctx context.Context, id string) ([]byte, error) {
	c.items.Add(1)
	return c.Store.Item(ctx, id)
}

func (c *counting) Result(ctx context.Context, pid string, nonce int64) ([]byte, error) {
	c.results.Add(1)
	return c.Store.Result(ctx, pid, nonce)
}

type countingSU struct {
	Scheduler
	entries atomic.Int64
}

func (c *countingSU) Entries(ctx context.Context, pid string, from, to int64, limit int) ([]store.Entry, error) {
	es, err := c.Scheduler.Entries(ctx, pid, from, to, limit)
	c.entries.Add(int64(len(es)))
	return es, err
}

// bigProcess writes a process with scaleMessages scheduled and evaluated messages straight into the store
// (one transaction), with the explorer on counting wrappers.
func bigProcess(t testing.TB) (*env, *counting, *countingSU, string) {
	var cnt *counting
	e := newEnv(t, func(s Store) Store { cnt = &counting{Store: s}; return cnt })
	csu := &countingSU{Scheduler: e.su}
	e.x.o.SU = csu
	e.x.o.PageSize = 25
	ctx := context.Background()
	spawn, err := user.Sign([]byte(""), "", "", []bundler.Tag{tag("Data-Protocol", "ao"), tag("Type", "Process"),
		tag("Module", e.module), tag("Scheduler", e.su.Address()), tag("Name", "big")})
	if err != nil {
		t.Fatal(err)
	}
	pid := spawn.ID
	start := time.Now()
	ts := int64(1_700_000_000_000)
	entries := make([]store.NewEntry, scaleMessages)
	results := make([]store.ResultRow, scaleMessages)
	for i := range entries {
		e := store.Entry{Process: pid, Nonce: int64(i), Timestamp: ts + int64(i), BlockHeight: 7, HashChain: fmt.Sprintf("chain-%d", i), Local: true}
		ne := store.NewEntry{}
		if i == 0 {
			e.MessageID = pid
			ne.MessageRaw = spawn.Raw
			ne.Process = &store.Process{ID: pid, Owner: spawn.OwnerAddress(), Scheduler: nodeW.Address(), Timestamp: ts, BlockHeight: 7, Name: "big"}
		} else {
			e.MessageID, ne.MessageRaw = fakeItem(t, uint64(i), pid, []types.Tag{{Name: "Action", Value: "Set"}, {Name: "Key", Value: fmt.Sprint("k", i)}}, "")
		}
		e.AssignmentID, ne.AssignmentRaw = fakeItem(t, uint64(i)|1<<62, "", []types.Tag{{Name: "Type", Value: "Assignment"}}, "")
		ne.Entry = e
		entries[i] = ne
		results[i] = store.ResultRow{Nonce: int64(i), Raw: []byte(fmt.Sprintf(`{"Messages":[],"Spawns":[],"Assignments":[],"Output":{"data":"set k%d","prompt":"","print":true},"GasUsed":%d}`, i, i))}
	}
	if err := e.db.Restore(ctx, entries); err != nil {
		t.Fatal(err)
	}
	if err := e.db.PutResults(ctx, pid, results); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote a schedule of %d messages with results in %s", scaleMessages, time.Since(start).Round(time.Millisecond))
	return e, cnt, csu, pid
}

// TestScheduleStaysFastWith100kMessages: every page of a 100,000-message process reads only what it shows
// (its page of entries, their items and results), never the schedule. The budget counts reads, so it cannot
// flake on a busy machine; the time is logged (BenchmarkSchedulePage measures it).
func TestScheduleStaysFastWith100kMessages(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a 100,000-message schedule")
	}
	e, cnt, csu, pid := bigProcess(t)
	for _, c := range []struct {
		name, path string
		want       []string
		entries    int64 // read from the schedule, at most
	}{
		{"newest page", "/process/" + pid, []string{"set k99999", "set k99975", "Older →"}, 25},
		{"a page in the middle", "/process/" + pid + "?before=50000", []string{"set k49999", "set k49975", "← Newer", "Older →"}, 25},
		{"the oldest page", "/process/" + pid + "?before=10", []string{"set k9", "<i>spawn</i>"}, 10},
		{"a message", "/message/" + entryAt(t, e, pid, 77777).MessageID + "?process=" + pid, []string{"set k77777"}, 1},
		{"live update", "/api/process/" + pid + "/since?after=99990", []string{"set k99999"}, 9},
		{"the process list", "/processes", []string{"big", "100,000"}, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			items0, results0, entries0 := cnt.items.Load(), cnt.results.Load(), csu.entries.Load()
			start := time.Now()
			status, body := e.get(c.path)
			took := time.Since(start)
			if status != http.StatusOK {
				t.Fatalf("%d %s", status, body)
			}
			for _, w := range c.want {
				if !strings.Contains(body, w) {
					t.Errorf("lacks %q", w)
				}
			}
			items, results, entries := cnt.items.Load()-items0, cnt.results.Load()-results0, csu.entries.Load()-entries0
			t.Logf("%s: %s, %d entries, %d items, %d results read", c.path, took.Round(time.Microsecond), entries, items, results)
			if entries > c.entries || items > c.entries+2 || results > c.entries {
				t.Fatalf("read %d entries, %d items, %d results: more than the %d the page shows", entries, items, results, c.entries)
			}
		})
	}
}

func entryAt(t testing.TB, e *env, pid string, nonce int64) store.Entry {
	t.Helper()
	es, err := e.db.Entries(context.Background(), pid, nonce, nonce, 1)
	if err != nil || len(es) != 1 {
		t.Fatalf("entry %d: %v", nonce, err)
	}
	return es[0]
}

func BenchmarkSchedulePage(b *testing.B) {
	e, _, _, pid := bigProcess(b)
	for _, c := range []struct{ name, path string }{
		{"newest", "/process/" + pid},
		{"middle", "/process/" + pid + "?before=50000"},
		{"live", "/api/process/" + pid + "/since?after=99990"},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				res, err := http.Get(e.srv.URL + c.path)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != 200 {
					b.Fatal(res.Status)
				}
			}
		})
	}
}

func TestFakeItemsDecode(t *testing.T) {
	tags := []types.Tag{{Name: "Action", Value: "Set"}, {Name: "Key", Value: "k1"}}
	want, err := utils.SerializeTags(tags)
	if err != nil {
		t.Fatal(err)
	}
	if got := avroTags(tags); string(got) != string(want) {
		t.Fatalf("avroTags %x, the Avro library %x", got, want)
	}
	target := bundler.B64(make([]byte, 32))
	id, raw := fakeItem(t, 42, target, tags, "data")
	it, err := bundler.ParseStored(raw)
	if err != nil {
		t.Fatal(err)
	}
	if it.ID != id || it.Target != target || string(it.Data) != "data" || len(it.Tags) != 2 || it.Tags[1].Value != "k1" {
		t.Fatalf("decoded %+v", it)
	}
}
