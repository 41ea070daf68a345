package store

import (
	"context"
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
