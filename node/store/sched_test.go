package store

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"testing"
)

// timedSchedule appends a process whose entry n is at times[n].
func timedSchedule(t *testing.T, d *DB, pid string, times ...int64) {
	t.Helper()
	for n, ts := range times {
		ne := entry(pid, int64(n), fmt.Sprintf("%s-m%d", pid, n))
		ne.Entry.Timestamp = ts
		if n == 0 {
			ne.Entry.MessageID = pid
			ne.Process = &Process{ID: pid, Scheduler: "su", Timestamp: ts}
		}
		if err := d.Append(context.Background(), ne); err != nil {
			t.Fatal(err)
		}
	}
}

// The one search by time, for the SU's pages and the CU's results feed: the first nonce later than a time.
func TestFirstNonceAfter(t *testing.T) {
	d, _ := openTemp(t)
	timedSchedule(t, d, "p", 100, 110, 120, 130)
	timedSchedule(t, d, "one", 50)
	for _, tc := range []struct {
		name string
		pid  string
		ts   int64
		want int64
	}{
		{"no schedule", "none", 100, 0},
		{"no schedule, any time", "none", math.MinInt64, 0},
		{"before the first", "p", 99, 0},
		{"long before the first", "p", math.MinInt64, 0},
		{"at the first", "p", 100, 1},
		{"between two", "p", 105, 1},
		{"at one in the middle", "p", 110, 2},
		{"just before one in the middle", "p", 119, 2},
		{"just before the last", "p", 129, 3},
		{"at the last", "p", 130, 4},
		{"after the last", "p", 131, 4},
		{"long after the last", "p", math.MaxInt64, 4},
		{"one entry, before it", "one", 49, 0},
		{"one entry, at it", "one", 50, 1},
		{"one entry, after it", "one", 51, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := d.FirstNonceAfter(context.Background(), tc.pid, tc.ts)
			if err != nil || got != tc.want {
				t.Fatalf("FirstNonceAfter(%s, %d) = %d, %v; want %d", tc.pid, tc.ts, got, err, tc.want)
			}
		})
	}
}

// EntriesByTime pages by time on that search: from (exclusive) to to (inclusive), limit+1 entries at most so
// the caller sees whether more follow.
func TestEntriesByTime(t *testing.T) {
	d, _ := openTemp(t)
	timedSchedule(t, d, "p", 100, 110, 120, 130)
	for _, tc := range []struct {
		name     string
		pid      string
		from, to int64
		limit    int
		want     []int64 // nonces
	}{
		{"no schedule", "none", 0, 0, 10, nil},
		{"everything", "p", 0, 0, 10, []int64{0, 1, 2, 3}},
		{"from excludes its own time", "p", 100, 0, 10, []int64{1, 2, 3}},
		{"from between two", "p", 105, 0, 10, []int64{1, 2, 3}},
		{"from at the last", "p", 130, 0, 10, nil},
		{"from after the last", "p", 200, 0, 10, nil},
		{"to includes its own time", "p", 0, 120, 10, []int64{0, 1, 2}},
		{"to between two", "p", 0, 125, 10, []int64{0, 1, 2}},
		{"to before the first", "p", 0, 99, 10, nil},
		{"from and to", "p", 100, 120, 10, []int64{1, 2}},
		{"limit+1 to tell more follow", "p", 0, 0, 2, []int64{0, 1, 2}},
		{"limit+1 after from", "p", 105, 0, 1, []int64{1, 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			es, err := d.EntriesByTime(context.Background(), tc.pid, tc.from, tc.to, tc.limit)
			if err != nil {
				t.Fatal(err)
			}
			var got []int64
			for _, e := range es {
				got = append(got, e.Nonce)
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("EntriesByTime(%d, %d, %d) = %v, want %v", tc.from, tc.to, tc.limit, got, tc.want)
			}
		})
	}
}

// A message is found by id in every schedule that holds it, and each id's item and upload row are kept once:
// the message's one record holds all three. The same message twice in one schedule is refused and leaves
// nothing behind.
func TestEntriesByID(t *testing.T) {
	ctx := context.Background()
	d, _ := openTemp(t)
	timedSchedule(t, d, "p1", 1)
	timedSchedule(t, d, "p2", 1, 2)
	shared := entry("p1", 1, "m")
	shared.Uploads = []string{"m", "asg-m"}
	if err := d.Append(ctx, shared); err != nil {
		t.Fatal(err)
	}
	// p2 assigns the same message: it is held already, so p2's write carries no bytes for it.
	also := entry("p2", 2, "m")
	also.Entry.AssignmentID, also.AssignmentRaw, also.MessageRaw = "asg-m-p2", []byte("assignment m in p2"), nil
	also.Uploads = []string{"m", "asg-m-p2"}
	if err := d.Append(ctx, also); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		pid, id string
		nonce   int64
	}{{"p1", "m", 1}, {"p1", "asg-m", 1}, {"p2", "m", 2}, {"p2", "asg-m-p2", 2}, {"p1", "p1", 0}, {"p2", "p2-m1", 1}} {
		e, err := d.EntryByID(ctx, tc.pid, tc.id)
		if err != nil || e.Nonce != tc.nonce || e.Process != tc.pid {
			t.Errorf("EntryByID(%s, %s) = %+v, %v; want nonce %d", tc.pid, tc.id, e, err, tc.nonce)
		}
	}
	for _, tc := range []struct{ pid, id string }{{"p1", "asg-m-p2"}, {"p2", "asg-m"}, {"p1", "nothing"}, {"p3", "m"}} {
		if e, err := d.EntryByID(ctx, tc.pid, tc.id); !errors.Is(err, ErrNotFound) {
			t.Errorf("EntryByID(%s, %s) = %+v, %v; want not found", tc.pid, tc.id, e, err)
		}
	}
	if raw, err := d.Item(ctx, "m"); err != nil || string(raw) != "message m" {
		t.Fatalf("item m: %q %v", raw, err)
	}
	ups, _, err := d.PendingUploads(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	var queued []string
	for _, u := range ups {
		queued = append(queued, fmt.Sprintf("%s:%d", u.ItemID, u.Size))
	}
	if want := []string{"m:9", "asg-m:12", "asg-m-p2:18"}; !slices.Equal(queued, want) {
		t.Fatalf("queued %v, want %v (each id once, with its size)", queued, want)
	}
	if u, err := d.UploadStatus(ctx, "asg-m-p2"); err != nil || u.Seq != ups[2].Seq {
		t.Fatalf("upload status: %+v %v", u, err)
	}

	dup := entry("p1", 2, "m")
	dup.Entry.AssignmentID, dup.Uploads = "asg-dup", []string{"asg-dup"}
	if err := d.Append(ctx, dup); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("the same message twice in p1: %v", err)
	}
	if h, err := d.Head(ctx, "p1"); err != nil || h.Nonce != 1 {
		t.Fatalf("head after the refused write: %+v %v", h, err)
	}
	if _, err := d.Item(ctx, "asg-dup"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("the refused write's assignment is held: %v", err)
	}
	if _, err := d.UploadStatus(ctx, "asg-dup"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("the refused write's assignment is queued: %v", err)
	}
}
