package store

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"
)

// CronResultsBetween is the cron results strictly between its bounds, in either order, at most limit.
func TestCronResultsBetween(t *testing.T) {
	ctx := context.Background()
	d, _ := openTemp(t)
	var all []CronAt
	for tick := int64(10); tick <= 50; tick += 10 {
		for idx := range 3 {
			if err := d.PutCronResult(ctx, "P", tick, idx, []byte{byte(tick), byte(idx)}); err != nil {
				t.Fatal(err)
			}
			all = append(all, CronAt{tick, idx})
		}
	}
	if err := d.PutCronResult(ctx, "Q", 30, 0, []byte("other")); err != nil {
		t.Fatal(err)
	}
	less := func(a, b CronAt) bool { return a.Tick < b.Tick || a.Tick == b.Tick && a.Index < b.Index }
	rng := rand.New(rand.NewPCG(3, 4))
	at := func() CronAt { return CronAt{Tick: rng.Int64N(70) - 5, Index: rng.IntN(4)} }
	for range 500 {
		lo, hi, desc, limit := at(), at(), rng.IntN(2) == 0, 1+rng.IntN(20)
		var want []CronAt
		for i := range all {
			a := all[i]
			if desc {
				a = all[len(all)-1-i]
			}
			if (lo.Tick < 0 || less(lo, a)) && less(a, hi) && len(want) < limit {
				want = append(want, a)
			}
		}
		rows, err := d.CronResultsBetween(ctx, "P", lo, hi, desc, limit)
		if err != nil {
			t.Fatal(err)
		}
		var got []CronAt
		for _, r := range rows {
			if r.Raw[0] != byte(r.Tick) || r.Raw[1] != byte(r.Index) {
				t.Fatalf("row %+v has another's result", r)
			}
			got = append(got, CronAt{r.Tick, r.Index})
		}
		if !slices.Equal(got, want) {
			t.Fatalf("lo %+v hi %+v desc %v limit %d:\n got %v\nwant %v", lo, hi, desc, limit, got, want)
		}
	}
	if rows, err := d.CronResultsBetween(ctx, "none", CronAt{Tick: -1}, CronAt{Tick: 100}, false, 10); err != nil || len(rows) != 0 {
		t.Fatalf("unknown process: %v %v", rows, err)
	}
}
