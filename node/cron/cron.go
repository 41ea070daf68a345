// Package cron reads a process's Cron-Interval and Cron-Tag-* tags and generates its cron ticks: a message
// every interval, counted in whole seconds from the spawn's timestamp.
package cron

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/aonode/aonode/bundler"
)

// Tag is a cron message tag.
type Tag = bundler.Tag

// Spec is one Cron-Interval of a process: a message every Seconds, with the Cron-Tag-* tags.
type Spec struct {
	Interval string
	Seconds  int64
	Tags     []Tag
}

var cronUnits = map[string]int64{
	"second": 1, "seconds": 1,
	"minute": 60, "minutes": 60,
	"hour": 3600, "hours": 3600,
	"day": 86400, "days": 86400,
	"week": 7 * 86400, "weeks": 7 * 86400,
	"month": 30 * 86400, "months": 30 * 86400,
	"year": 365 * 86400, "years": 365 * 86400,
}

// Parse reads Cron-Interval ("5-minutes") and Cron-Tag-<Name> tags. Block-based intervals are refused:
// they need the gateway's block timestamps, which this CU does not track yet.
func Parse(tags []bundler.Tag) ([]Spec, error) {
	var cronTags []Tag
	var specs []Spec
	for _, t := range tags {
		if name, ok := strings.CutPrefix(t.Name, "Cron-Tag-"); ok && name != "" {
			cronTags = append(cronTags, Tag{Name: name, Value: t.Value})
		}
	}
	for _, t := range tags {
		if t.Name != "Cron-Interval" {
			continue
		}
		n, unit, ok := strings.Cut(strings.TrimSpace(t.Value), "-")
		v, err := strconv.ParseInt(n, 10, 64)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("Cron-Interval %q: want <positive number>-<unit>", t.Value)
		}
		secs, known := cronUnits[strings.ToLower(unit)]
		if !known {
			return nil, fmt.Errorf("Cron-Interval %q: unsupported unit %q", t.Value, unit)
		}
		// A century bounds the interval: beyond that ticks never come, and v*secs could overflow.
		if v > 100*365*86400/secs {
			return nil, fmt.Errorf("Cron-Interval %q: longer than a century", t.Value)
		}
		specs = append(specs, Spec{Interval: t.Value, Seconds: v * secs, Tags: cronTags})
	}
	// Most granular first, so ticks at the same second always run in the same order.
	sort.SliceStable(specs, func(i, j int) bool { return specs[i].Seconds < specs[j].Seconds })
	return specs, nil
}

// State tracks the next tick of each spec of a process.
type State struct {
	Specs  []Spec
	origin int64   // seconds: the spawn's timestamp
	next   []int64 // per spec, the next tick in seconds
}

func NewState(specs []Spec, originMs int64) *State {
	c := &State{Specs: specs, origin: originMs / 1000, next: make([]int64, len(specs))}
	for i, s := range specs {
		c.next[i] = c.origin + s.Seconds
	}
	return c
}

// pop returns the earliest tick at or before untilMs and advances it.
func (c *State) Pop(untilMs int64) (tickMs int64, idx int, ok bool) {
	best := -1
	for i, n := range c.next {
		if n*1000 <= untilMs && (best < 0 || n < c.next[best]) {
			best = i
		}
	}
	if best < 0 {
		return 0, 0, false
	}
	t := c.next[best]
	c.next[best] += c.Specs[best].Seconds
	return t * 1000, best, true
}

// Skip advances every spec past untilMs without yielding its ticks: the state a process has after its ticks
// up to untilMs were evaluated (a CU restoring a snapshot taken at that time).
func (c *State) Skip(untilMs int64) {
	if untilMs < 0 {
		return
	}
	last := untilMs / 1000 // Pop yields n while n*1000 <= untilMs
	for i, n := range c.next {
		if s := c.Specs[i].Seconds; n <= last && s > 0 {
			c.next[i] = n + ((last-n)/s+1)*s
		}
	}
}

// Reset puts the state back at the spawn.
func (c *State) Reset() {
	for i, s := range c.Specs {
		c.next[i] = c.origin + s.Seconds
	}
}
