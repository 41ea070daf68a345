package cron

import (
	"reflect"
	"testing"
)

func TestParse(t *testing.T) {
	cases := []struct {
		name    string
		tags    []Tag
		secs    []int64
		tagsOut []Tag
		wantErr bool
	}{
		{"none", []Tag{tg("Name", "x")}, nil, nil, false},
		{"minutes with tags", []Tag{tg("Cron-Interval", "5-minutes"), tg("Cron-Tag-Action", "Cron")}, []int64{300}, []Tag{tg("Action", "Cron")}, false},
		{"sorted by granularity", []Tag{tg("Cron-Interval", "1-hour"), tg("Cron-Interval", "10-seconds")}, []int64{10, 3600}, nil, false},
		{"bad number", []Tag{tg("Cron-Interval", "x-seconds")}, nil, nil, true},
		{"zero", []Tag{tg("Cron-Interval", "0-seconds")}, nil, nil, true},
		{"no unit", []Tag{tg("Cron-Interval", "10")}, nil, nil, true},
		{"blocks unsupported", []Tag{tg("Cron-Interval", "10-blocks")}, nil, nil, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			specs, err := Parse(tc.tags)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			var secs []int64
			for _, s := range specs {
				secs = append(secs, s.Seconds)
				if tc.tagsOut != nil && !reflect.DeepEqual(s.Tags, tc.tagsOut) {
					t.Fatalf("tags %v, want %v", s.Tags, tc.tagsOut)
				}
			}
			if !reflect.DeepEqual(secs, tc.secs) {
				t.Fatalf("seconds %v, want %v", secs, tc.secs)
			}
		})
	}
}

func TestTicks(t *testing.T) {
	specs, err := Parse([]Tag{tg("Cron-Interval", "2-seconds"), tg("Cron-Interval", "3-seconds")})
	if err != nil {
		t.Fatal(err)
	}
	st := NewState(specs, 10_500) // origin second 10
	var got []int64
	var idx []int
	for {
		tick, i, ok := st.Pop(16_000)
		if !ok {
			break
		}
		got = append(got, tick)
		idx = append(idx, i)
	}
	// 2 s: 12,14,16 ; 3 s: 13,16 — at 16 the more granular cron runs first.
	want := []int64{12_000, 13_000, 14_000, 16_000, 16_000}
	if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(idx, []int{0, 1, 0, 0, 1}) {
		t.Fatalf("ticks %v idx %v, want %v", got, idx, want)
	}
	if _, _, ok := st.Pop(16_999); ok {
		t.Fatal("no tick is due before 17 s")
	}
}

func tg(name, value string) Tag { return Tag{Name: name, Value: value} }

// Skip leaves the state exactly where popping every tick up to the same time leaves it.
func TestSkipMatchesPop(t *testing.T) {
	specs, err := Parse([]Tag{tg("Cron-Interval", "2-seconds"), tg("Cron-Interval", "7-seconds"), tg("Cron-Interval", "1-hour")})
	if err != nil {
		t.Fatal(err)
	}
	for _, until := range []int64{-1, 0, 10_000, 11_999, 12_000, 12_001, 16_999, 100_000, 3_600_000 * 5} {
		popped, skipped := NewState(specs, 10_500), NewState(specs, 10_500)
		for {
			if _, _, ok := popped.Pop(until); !ok {
				break
			}
		}
		skipped.Skip(until)
		if !reflect.DeepEqual(popped.next, skipped.next) {
			t.Fatalf("until %d: pop leaves %v, skip %v", until, popped.next, skipped.next)
		}
	}
}
