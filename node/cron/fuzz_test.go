package cron

import (
	"testing"

	"github.com/aonode/aonode/bundler"
)

// FuzzParse: any tags either parse into specs whose ticks move forward, or are refused with an error.
func FuzzParse(f *testing.F) {
	for _, v := range []string{"1-second", "5-minutes", "10-blocks", "-1-hours", "9223372036854775807-years", "", "1-", "x-days"} {
		f.Add("Cron-Interval", v, "Cron-Tag-Action", "Tick")
	}
	f.Fuzz(func(t *testing.T, n1, v1, n2, v2 string) {
		specs, err := Parse([]bundler.Tag{{Name: n1, Value: v1}, {Name: n2, Value: v2}})
		if err != nil {
			return
		}
		for _, s := range specs {
			if s.Seconds <= 0 {
				t.Fatalf("spec %+v has a non-positive interval", s)
			}
		}
		if len(specs) == 0 {
			return
		}
		st := NewState(specs, 1_000_000)
		last := int64(0)
		for range 5 {
			tick, _, ok := st.Pop(1 << 62)
			if !ok {
				t.Fatal("no tick before the end of time")
			}
			if tick < last {
				t.Fatalf("ticks went back: %d after %d", tick, last)
			}
			last = tick
		}
	})
}
