package cu

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
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

// entrySource reads a process's schedule and finds where a time falls in it (the Scheduler does).
type entrySource interface {
	Entries(ctx context.Context, pid string, fromNonce, toNonce int64, limit int) ([]store.Entry, error)
	FirstNonceAfter(ctx context.Context, pid string, ts int64) (int64, error)
}

// feedStore reads what the CU stored for a process's feed.
type feedStore interface {
	CronResultsBetween(ctx context.Context, pid string, lo, hi store.CronAt, desc bool, limit int) ([]store.CronRow, error)
	Result(ctx context.Context, pid string, nonce int64) ([]byte, error)
}

// feedQuery is one page of the feed: the schedule up to last (what is evaluated), within the bounds, in one
// order, at most limit results.
type feedQuery struct {
	pid       string
	last      int64
	from, to  *bound
	desc      bool
	limit     int
	specNames []string // each cron spec's interval, by index
}

// readFeedPage returns a page of the feed with its results and whether more follow. It walks the schedule
// and the cron results from the page's first bound, a chunk at a time, so a page reads about its own size
// (plus a binary search for where a bound's time falls in the schedule) however long the history is.
func readFeedPage(ctx context.Context, sched entrySource, db feedStore, q feedQuery) ([]feedItem, bool, error) {
	w := &feedWalker{ctx: ctx, sched: sched, db: db, q: q, chunk: min(max(q.limit+1, 16), 1000)}
	if err := w.start(); err != nil {
		return nil, false, err
	}
	var page []feedItem
	for {
		it, ok, err := w.next()
		if err != nil || !ok {
			return page, false, err
		}
		// Both sources are in feed order, so the first position past the far bound ends the page.
		if !q.desc && q.to != nil && cmpBound(it.feedPos, *q.to, -1) > 0 ||
			q.desc && q.from != nil && cmpBound(it.feedPos, *q.from, 1) <= 0 {
			return page, false, nil
		}
		if !inRange(it.feedPos, q.from, q.to) {
			continue
		}
		if it.cron < 0 {
			if it.raw, err = db.Result(ctx, q.pid, it.nonce); err != nil {
				return nil, false, err
			}
		}
		if resultFailed(it.raw) {
			continue // the reference CU lists only evaluations that did not fail
		}
		if len(page) == q.limit {
			return page, true, nil
		}
		page = append(page, it)
	}
}

// feedWalker merges the schedule (by nonce, which is timestamp order) with the cron results (by tick and
// index) in one direction, reading each a chunk at a time.
type feedWalker struct {
	ctx   context.Context
	sched entrySource
	db    feedStore
	q     feedQuery
	chunk int

	ents     []store.Entry // read, not yet walked, in walk order
	nextNon  int64         // the next nonce to read: ascending up to q.last, descending down to 0
	entsDone bool
	prev     *store.Entry // ascending: the last entry walked, for the ordinate of the ticks after it

	ticks     []store.CronRow
	tickFrom  store.CronAt // exclusive: ascending the lower end, descending the upper end still to read
	tickEnd   store.CronAt // exclusive: the other end
	ticksDone bool
}

const maxCronIndex = 1<<16 - 1 // cron keys hold the spec index in 16 bits

func (w *feedWalker) start() error {
	q := w.q
	lo, hi := store.CronAt{Tick: -1}, store.CronAt{Tick: math.MaxInt64}
	if q.from != nil {
		lo = store.CronAt{Tick: q.from.ts - 1, Index: maxCronIndex} // ticks at from's time are in
	}
	if q.to != nil {
		hi = store.CronAt{Tick: q.to.ts + 1}
	}
	w.tickFrom, w.tickEnd = lo, hi
	if q.desc {
		w.tickFrom, w.tickEnd = hi, lo
	}
	if q.last < 0 {
		w.entsDone = true
		return nil
	}
	if !q.desc {
		// (At MinInt64, from.ts-1 would wrap: every entry is at or after it, so the walk starts at 0.)
		if q.from != nil && q.from.ts > math.MinInt64 {
			// Start one entry before from's time: it is out of range, but it is the ordinate of the ticks
			// before the first entry in range.
			n, err := w.firstAfter(q.from.ts - 1)
			if err != nil {
				return err
			}
			w.nextNon = max(n-1, 0)
		}
		return nil
	}
	w.nextNon = q.last
	if q.to != nil {
		n, err := w.firstAfter(q.to.ts)
		if err != nil {
			return err
		}
		w.nextNon = min(q.last, n-1)
	}
	w.entsDone = w.nextNon < 0
	return nil
}

// firstAfter is the first nonce (up to last+1) whose entry's timestamp is later than ts: the schedule's own
// search, bounded by what this page walks.
func (w *feedWalker) firstAfter(ts int64) (int64, error) {
	n, err := w.sched.FirstNonceAfter(w.ctx, w.q.pid, ts)
	return min(n, w.q.last+1), err
}

// entry returns the next entry to walk (nil at the end), reading a chunk when none is left.
func (w *feedWalker) entry() (*store.Entry, error) {
	for len(w.ents) == 0 && !w.entsDone {
		if !w.q.desc {
			es, err := w.sched.Entries(w.ctx, w.q.pid, w.nextNon, w.q.last, w.chunk)
			if err != nil {
				return nil, err
			}
			w.ents = es
			if len(es) > 0 {
				w.nextNon = es[len(es)-1].Nonce + 1
			}
			w.entsDone = len(es) < w.chunk || w.nextNon > w.q.last
			continue
		}
		lo := max(w.nextNon-int64(w.chunk)+1, 0)
		es, err := w.sched.Entries(w.ctx, w.q.pid, lo, w.nextNon, 0)
		if err != nil {
			return nil, err
		}
		slices.Reverse(es)
		w.ents, w.nextNon, w.entsDone = es, lo-1, lo == 0
	}
	if len(w.ents) == 0 {
		return nil, nil
	}
	return &w.ents[0], nil
}

// tick returns the next cron result to walk (nil at the end), reading a chunk when none is left.
func (w *feedWalker) tick() (*store.CronRow, error) {
	if len(w.ticks) == 0 && !w.ticksDone {
		lo, hi := w.tickFrom, w.tickEnd
		if w.q.desc {
			lo, hi = hi, lo
		}
		rows, err := w.db.CronResultsBetween(w.ctx, w.q.pid, lo, hi, w.q.desc, w.chunk)
		if err != nil {
			return nil, err
		}
		w.ticks, w.ticksDone = rows, len(rows) < w.chunk
		if len(rows) > 0 {
			last := rows[len(rows)-1]
			w.tickFrom = store.CronAt{Tick: last.Tick, Index: last.Index}
		}
	}
	if len(w.ticks) == 0 {
		return nil, nil
	}
	return &w.ticks[0], nil
}

// next walks one step: the entry or the tick that comes first in the walk's order.
func (w *feedWalker) next() (feedItem, bool, error) {
	e, err := w.entry()
	if err != nil {
		return feedItem{}, false, err
	}
	r, err := w.tick()
	if err != nil {
		return feedItem{}, false, err
	}
	if e == nil && r == nil {
		return feedItem{}, false, nil
	}
	var ep, tp feedPos
	if e != nil {
		ep = feedPos{ts: e.Timestamp, nonce: e.Nonce, cron: -1}
	}
	if r != nil {
		// A tick's ordinate is the last message before its time. Ascending, every entry before the tick's
		// time was walked already; descending, the next entry is the first before it, unless it is at the
		// tick's very time (then the one before that; the order is decided by the time otherwise).
		var ord int64
		switch {
		case !w.q.desc && w.prev != nil && w.prev.Timestamp < r.Tick:
			ord = w.prev.Nonce
		case w.q.desc && e != nil && e.Timestamp < r.Tick:
			ord = e.Nonce
		case w.q.desc && e != nil && e.Timestamp == r.Tick:
			ord = max(e.Nonce-1, 0)
		}
		name := strconv.Itoa(r.Index)
		if r.Index < len(w.q.specNames) {
			name += "-" + w.q.specNames[r.Index]
		}
		tp = feedPos{ts: r.Tick, nonce: ord, cron: r.Index, name: name}
	}
	takeEntry := r == nil || e != nil && lessPos(ep, tp) != w.q.desc
	if takeEntry {
		w.prev = e
		w.ents = w.ents[1:]
		return feedItem{feedPos: ep}, true, nil
	}
	w.ticks = w.ticks[1:]
	return feedItem{feedPos: tp, raw: r.Raw}, true, nil
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
