package cu

import (
	"cmp"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/aonode/aonode/node/store"
)

// A process's results feed (GET /results) lists the evaluations of its scheduled messages and of its cron
// ticks in one order, the reference CU's: by timestamp, then ordinate (a message's nonce; for a cron tick,
// the nonce of the message evaluated before it), then cron (none for a message, so a message comes before
// the ticks that follow it at the same time; ticks by spec index).
type feedPos struct {
	ts    int64
	nonce int64
	cron  int    // spec index, or -1 for a scheduled message
	name  string // "<index>-<interval>", how the reference CU names a tick's cron in a cursor
}

// feedItem is one entry of the feed, before its result is read.
type feedItem struct {
	feedPos
	raw []byte // a cron tick's result (read with the tick); nil for a message, read by nonce when listed
}

// cursor encodes the position as the reference CU's cursors do.
func (p feedPos) cursor(sort string) Cursor {
	return Cursor{Timestamp: p.ts, Ordinate: strconv.FormatInt(p.nonce, 10), Cron: p.name, Sort: sort}
}

// bound is a parsed cursor: a position where parts may be missing (a bare timestamp has no ordinate).
type bound struct {
	ts      int64
	nonce   int64
	hasOrd  bool
	cron    int // -1: none
	hasCron bool
}

// parseBound checks a cursor's parts: the ordinate is a nonce and the cron is "<index>-<interval>".
func parseBound(c *Cursor) (bound, error) {
	b := bound{ts: c.Timestamp, cron: -1}
	if c.Ordinate != "" {
		n, err := strconv.ParseInt(c.Ordinate, 10, 64)
		if err != nil || n < 0 {
			return b, fmt.Errorf("cursor ordinate must be a nonce, got %q", c.Ordinate)
		}
		b.nonce, b.hasOrd = n, true
	}
	if c.Cron != "" {
		idx, _, _ := strings.Cut(c.Cron, "-")
		n, err := strconv.Atoi(idx)
		if err != nil || n < 0 {
			return b, fmt.Errorf("cursor cron must be <index>-<interval>, got %q", c.Cron)
		}
		b.cron, b.hasCron = n, true
	}
	return b, nil
}

// cmpBound orders a position against a bound part by part. A part the bound lacks compares as the
// reference CU's id prefixes do: a missing cron sorts before every cron, and a missing ordinate gives
// noOrdinate (a bare timestamp takes in every entry at that time, whether it is the lower or upper bound).
func cmpBound(p feedPos, b bound, noOrdinate int) int {
	if c := cmp.Compare(p.ts, b.ts); c != 0 {
		return c
	}
	if !b.hasOrd {
		return noOrdinate
	}
	if c := cmp.Compare(p.nonce, b.nonce); c != 0 {
		return c
	}
	switch {
	case p.cron < 0 && !b.hasCron:
		return 0
	case !b.hasCron:
		return 1
	case p.cron < 0:
		return -1
	}
	return cmp.Compare(p.cron, b.cron)
}

// inRange reports whether p is after from (exclusive) and at or before to (inclusive): the reference
// CU's bounds whichever the order of the page.
func inRange(p feedPos, from, to *bound) bool {
	if from != nil && cmpBound(p, *from, 1) <= 0 {
		return false
	}
	return to == nil || cmpBound(p, *to, -1) <= 0
}

// buildFeed merges a process's schedule (in nonce order) with its stored cron results (in tick order).
// specNames names each cron spec by index (nil when the process has none loaded).
func buildFeed(entries []store.Entry, crons []store.CronRow, specNames []string) []feedItem {
	feed := make([]feedItem, 0, len(entries)+len(crons))
	for _, e := range entries {
		feed = append(feed, feedItem{feedPos: feedPos{ts: e.Timestamp, nonce: e.Nonce, cron: -1}})
	}
	for _, r := range crons {
		// Ticks due by a message's time run before it, so a tick follows the last message before its time.
		i := sort.Search(len(entries), func(i int) bool { return entries[i].Timestamp >= r.Tick })
		var ord int64
		if i > 0 {
			ord = entries[i-1].Nonce
		}
		name := strconv.Itoa(r.Index)
		if r.Index < len(specNames) {
			name += "-" + specNames[r.Index]
		}
		feed = append(feed, feedItem{feedPos: feedPos{ts: r.Tick, nonce: ord, cron: r.Index, name: name}, raw: r.Raw})
	}
	sort.SliceStable(feed, func(i, j int) bool { return lessPos(feed[i].feedPos, feed[j].feedPos) })
	return feed
}

func lessPos(a, b feedPos) bool {
	if a.ts != b.ts {
		return a.ts < b.ts
	}
	if a.nonce != b.nonce {
		return a.nonce < b.nonce
	}
	return a.cron < b.cron
}
