package cu

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/aonode/aonode/node/store"
)

func TestCmpBound(t *testing.T) {
	msg := func(ts, n int64) feedPos { return feedPos{ts: ts, nonce: n, cron: -1} }
	tick := func(ts, n int64, idx int) feedPos { return feedPos{ts: ts, nonce: n, cron: idx} }
	bare := func(ts int64) bound { return bound{ts: ts, cron: -1} }
	at := func(ts, n int64) bound { return bound{ts: ts, nonce: n, hasOrd: true, cron: -1} }
	atCron := func(ts, n int64, idx int) bound {
		return bound{ts: ts, nonce: n, hasOrd: true, cron: idx, hasCron: true}
	}
	cases := []struct {
		name     string
		p        feedPos
		b        bound
		from, to bool // in range with b as the only lower / upper bound
	}{
		{"earlier time", msg(1, 5), at(2, 0), false, true},
		{"later time", msg(3, 0), at(2, 9), true, false},
		{"the cursor's own message", msg(2, 4), at(2, 4), false, true},
		{"next nonce at the same time", msg(2, 5), at(2, 4), true, false},
		{"a bare timestamp takes in its time as lower bound", msg(2, 4), bare(2), true, true},
		{"and as upper bound", tick(2, 4, 1), bare(2), true, true},
		{"a tick after the cursor's message", tick(2, 4, 0), at(2, 4), true, false},
		{"the message before the cursor's tick", msg(2, 4), atCron(2, 4, 0), false, true},
		{"the cursor's own tick", tick(2, 4, 1), atCron(2, 4, 1), false, true},
		{"a later spec at the same tick", tick(2, 4, 2), atCron(2, 4, 1), true, false},
		{"an earlier spec at the same tick", tick(2, 4, 0), atCron(2, 4, 1), false, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := inRange(tc.p, &tc.b, nil); got != tc.from {
				t.Errorf("after from: %v, want %v", got, tc.from)
			}
			if got := inRange(tc.p, nil, &tc.b); got != tc.to {
				t.Errorf("up to to: %v, want %v", got, tc.to)
			}
		})
	}
}

func TestParseBoundRefusesForeignParts(t *testing.T) {
	for _, c := range []Cursor{
		{Timestamp: 1, Ordinate: "x"},
		{Timestamp: 1, Ordinate: "-1"},
		{Timestamp: 1, Ordinate: "3", Cron: "daily"},
		{Timestamp: 1, Ordinate: "3", Cron: "-1-second"},
	} {
		if _, err := parseBound(&c); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
	b, err := parseBound(&Cursor{Timestamp: 7, Ordinate: "3", Cron: "12-5-minutes"})
	if err != nil || b.cron != 12 || !b.hasCron || b.nonce != 3 || !b.hasOrd {
		t.Fatalf("%+v %v", b, err)
	}
}

// refFeed is the whole feed built at once: every entry, then every tick after the last message before its
// time, sorted. readFeedPage must give the same order a page at a time.
func refFeed(entries []store.Entry, crons []store.CronRow, specNames []string) []feedItem {
	feed := make([]feedItem, 0, len(entries)+len(crons))
	for _, e := range entries {
		feed = append(feed, feedItem{feedPos: feedPos{ts: e.Timestamp, nonce: e.Nonce, cron: -1}})
	}
	for _, r := range crons {
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

// memFeed is a schedule, its results and cron results in memory, counting what a page reads.
type memFeed struct {
	entries                             []store.Entry
	results                             map[int64][]byte
	crons                               []store.CronRow // by tick, then index
	entriesRead, resultsRead, cronsRead int
}

func (m *memFeed) Entries(_ context.Context, _ string, from, to int64, limit int) ([]store.Entry, error) {
	var out []store.Entry
	for _, e := range m.entries[min(max(from, 0), int64(len(m.entries))):] {
		if to >= 0 && e.Nonce > to || limit > 0 && len(out) == limit {
			break
		}
		out = append(out, e)
	}
	m.entriesRead += len(out)
	return out, nil
}

// FirstNonceAfter searches as the store does, counting each entry it looks at as one read.
func (m *memFeed) FirstNonceAfter(_ context.Context, _ string, ts int64) (int64, error) {
	return int64(sort.Search(len(m.entries), func(i int) bool {
		m.entriesRead++
		return m.entries[i].Timestamp > ts
	})), nil
}

func (m *memFeed) Result(_ context.Context, _ string, nonce int64) ([]byte, error) {
	m.resultsRead++
	return m.results[nonce], nil
}

func cronLess(a, b store.CronAt) bool {
	return a.Tick < b.Tick || a.Tick == b.Tick && a.Index < b.Index
}

func (m *memFeed) CronResultsBetween(_ context.Context, _ string, lo, hi store.CronAt, desc bool, limit int) ([]store.CronRow, error) {
	var out []store.CronRow
	for i := range m.crons {
		r := m.crons[i]
		if desc {
			r = m.crons[len(m.crons)-1-i]
		}
		at := store.CronAt{Tick: r.Tick, Index: r.Index}
		if (lo.Tick < 0 || cronLess(lo, at)) && cronLess(at, hi) && len(out) < limit {
			out = append(out, r)
		}
	}
	m.cronsRead += len(out)
	return out, nil
}

func (m *memFeed) page(t *testing.T, q feedQuery) ([]feedItem, bool) {
	t.Helper()
	q.pid, q.last = "P", int64(len(m.entries)-1)
	page, more, err := readFeedPage(context.Background(), m, m, q)
	if err != nil {
		t.Fatal(err)
	}
	return page, more
}

// A tick goes after the last message before its time: one due exactly at a message's time ran before it.
func TestFeedPlacesTicks(t *testing.T) {
	m := &memFeed{
		entries: []store.Entry{{Nonce: 0, Timestamp: 1000}, {Nonce: 1, Timestamp: 2000}, {Nonce: 2, Timestamp: 3000}},
		crons: []store.CronRow{
			{Tick: 1000, Index: 0}, {Tick: 1500, Index: 0}, {Tick: 2000, Index: 0}, {Tick: 2000, Index: 1}, {Tick: 4000, Index: 0},
		},
		results: map[int64][]byte{0: []byte("{}"), 1: []byte("{}"), 2: []byte("{}")},
	}
	for i := range m.crons {
		m.crons[i].Raw = []byte("{}")
	}
	want := []string{
		"1000/0/", "1000/0/0-500-ms", "1500/0/0-500-ms", "2000/0/0-500-ms", "2000/0/1-1-second", "2000/1/", "3000/2/", "4000/2/0-500-ms",
	}
	for _, desc := range []bool{false, true} {
		page, more := m.page(t, feedQuery{desc: desc, limit: 100, specNames: []string{"500-ms", "1-second"}})
		var got []string
		for _, it := range page {
			c := it.cursor("ASC")
			got = append(got, strings.Join([]string{jsonText(c.Timestamp), c.Ordinate, c.Cron}, "/"))
		}
		if desc {
			slices.Reverse(got)
		}
		if more || !slices.Equal(got, want) {
			t.Fatalf("desc %v: feed\n got %q\nwant %q", desc, got, want)
		}
		var ref []string
		for _, it := range refFeed(m.entries, m.crons, []string{"500-ms", "1-second"}) {
			c := it.cursor("ASC")
			ref = append(ref, strings.Join([]string{jsonText(c.Timestamp), c.Ordinate, c.Cron}, "/"))
		}
		if !slices.Equal(ref, want) {
			t.Fatalf("reference feed %q", ref)
		}
	}
}

// randomFeed is a schedule of n messages at strictly increasing times with ticks at random times (some at a
// message's very time, some before the first or after the last), a few failed evaluations among both.
func randomFeed(rng *rand.Rand, n, ticks int) *memFeed {
	m := &memFeed{results: map[int64][]byte{}}
	ts := int64(1000)
	for i := range n {
		ts += 1 + rng.Int64N(3)
		m.entries = append(m.entries, store.Entry{Nonce: int64(i), Timestamp: ts})
		m.results[int64(i)] = []byte(fmt.Sprintf(`{"Output":"m%d"}`, i))
		if rng.IntN(10) == 0 {
			m.results[int64(i)] = []byte(`{"Error":"boom"}`)
		}
	}
	seen := map[store.CronAt]bool{}
	for range ticks {
		at := store.CronAt{Tick: 995 + rng.Int64N(ts-990), Index: rng.IntN(3)}
		if seen[at] {
			continue
		}
		seen[at] = true
		raw := []byte(fmt.Sprintf(`{"Output":"t%d-%d"}`, at.Tick, at.Index))
		if rng.IntN(10) == 0 {
			raw = []byte(`{"Error":"tick"}`)
		}
		m.crons = append(m.crons, store.CronRow{Tick: at.Tick, Index: at.Index, Raw: raw})
	}
	sort.Slice(m.crons, func(i, j int) bool {
		return cronLess(store.CronAt{Tick: m.crons[i].Tick, Index: m.crons[i].Index}, store.CronAt{Tick: m.crons[j].Tick, Index: m.crons[j].Index})
	})
	return m
}

var feedSpecs = []string{"1-second", "2-seconds", "5-seconds"}

// randomQuery is a page of m's feed in either order between any bounds (none, whole cursors, cursors of ticks,
// bare timestamps anywhere, also before and after everything).
func randomQuery(rng *rand.Rand, whole []feedItem, m *memFeed) feedQuery {
	randomBound := func() *bound {
		switch rng.IntN(4) {
		case 0:
			return nil
		case 1:
			return &bound{ts: 990 + rng.Int64N(m.entries[len(m.entries)-1].Timestamp+20-990), cron: -1}
		}
		p := whole[rng.IntN(len(whole))].feedPos
		b := &bound{ts: p.ts, nonce: p.nonce, hasOrd: true, cron: -1}
		if p.cron >= 0 {
			b.cron, b.hasCron = p.cron, true
		}
		return b
	}
	return feedQuery{from: randomBound(), to: randomBound(), desc: rng.IntN(2) == 0, limit: 1 + rng.IntN(12), specNames: feedSpecs}
}

// wantPage is the page q of the whole feed, filtered from it: what readFeedPage must give.
func (m *memFeed) wantPage(whole []feedItem, q feedQuery) ([]feedItem, bool) {
	var want []feedItem
	order := slices.Clone(whole)
	if q.desc {
		slices.Reverse(order)
	}
	for _, it := range order {
		raw := it.raw
		if it.cron < 0 {
			raw = m.results[it.nonce]
		}
		if !inRange(it.feedPos, q.from, q.to) || resultFailed(raw) {
			continue
		}
		if len(want) == q.limit {
			return want, true
		}
		it.raw = raw
		want = append(want, it)
	}
	return want, false
}

func checkPage(t *testing.T, round int, q feedQuery, got []feedItem, more bool, want []feedItem, wantMore bool) {
	t.Helper()
	if more != wantMore || !slices.EqualFunc(got, want, func(a, b feedItem) bool {
		return a.feedPos == b.feedPos && string(a.raw) == string(b.raw)
	}) {
		t.Fatalf("round %d, query %+v from %+v to %+v:\n got %+v (more %v)\nwant %+v (more %v)", round, q, q.from, q.to, got, more, want, wantMore)
	}
}

// Every page, in either order and between any bounds, is the whole feed filtered: the same entries in the
// same order with the same more flag.
func TestFeedPagesMatchTheWholeFeed(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 300 {
		m := randomFeed(rng, 1+rng.IntN(60), rng.IntN(40))
		whole := refFeed(m.entries, m.crons, feedSpecs)
		for range 10 {
			q := randomQuery(rng, whole, m)
			want, wantMore := m.wantPage(whole, q)
			got, more := m.page(t, q)
			checkPage(t, round, q, got, more, want, wantMore)
		}
	}
}

// The same over the store's schedule and its search by time (FirstNonceAfter), with the whole schedule or
// only a prefix of it evaluated.
func TestFeedPagesOverTheStoreSchedule(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rng := rand.New(rand.NewPCG(3, 4))
	for round := range 40 {
		pid := fmt.Sprintf("p%d", round)
		m := randomFeed(rng, 1+rng.IntN(60), rng.IntN(40))
		nes := make([]store.NewEntry, len(m.entries))
		for i, e := range m.entries {
			e.Process, e.AssignmentID, e.MessageID = pid, fmt.Sprintf("%s-a%d", pid, i), fmt.Sprintf("%s-m%d", pid, i)
			nes[i] = store.NewEntry{Entry: e, AssignmentRaw: []byte("a")}
		}
		nes[0].Entry.MessageID = pid
		nes[0].Process = &store.Process{ID: pid, Scheduler: "su", Timestamp: m.entries[0].Timestamp}
		if err := db.Restore(ctx, nes); err != nil {
			t.Fatal(err)
		}
		// The CU may have evaluated less than the SU holds: the feed stops at its last nonce (and at the time
		// of the next message, since later ticks have not run).
		last := int64(len(m.entries) - 1)
		if rng.IntN(3) == 0 {
			last = rng.Int64N(last + 1)
			evaluated := &memFeed{entries: m.entries[:last+1], results: m.results}
			if last < int64(len(m.entries)-1) {
				next := m.entries[last+1].Timestamp
				for _, r := range m.crons {
					if r.Tick < next {
						evaluated.crons = append(evaluated.crons, r)
					}
				}
			} else {
				evaluated.crons = m.crons
			}
			m = evaluated
		}
		whole := refFeed(m.entries, m.crons, feedSpecs)
		for range 10 {
			q := randomQuery(rng, whole, m)
			want, wantMore := m.wantPage(whole, q)
			q.pid, q.last = pid, last
			got, more, err := readFeedPage(ctx, db, m, q)
			if err != nil {
				t.Fatal(err)
			}
			checkPage(t, round, q, got, more, want, wantMore)
		}
	}
}

// A page of a 100,000-message schedule reads about its own size: the schedule and the cron results a chunk
// at a time from the page's bound, the results it shows, and a binary search for where a cursor's time falls.
func TestFeedPageReadsItsSize(t *testing.T) {
	const n = 100_000
	m := &memFeed{results: map[int64][]byte{}}
	for i := range n {
		m.entries = append(m.entries, store.Entry{Nonce: int64(i), Timestamp: 1_000_000 + 10*int64(i)})
		m.results[int64(i)] = []byte(`{"Output":"x"}`)
	}
	for i := range n / 10 { // a tick every 100 ms
		m.crons = append(m.crons, store.CronRow{Tick: 1_000_005 + 100*int64(i), Raw: []byte(`{"Output":"tick"}`)})
	}
	mid := &bound{ts: 1_000_000 + 10*n/2, nonce: n / 2, hasOrd: true, cron: -1}
	const limit = 25
	for _, tc := range []struct {
		name     string
		q        feedQuery
		from, to *bound
	}{
		{"newest first", feedQuery{desc: true}, nil, nil},
		{"oldest first", feedQuery{}, nil, nil},
		{"after a cursor in the middle", feedQuery{}, mid, nil},
		{"newest after a cursor in the middle", feedQuery{desc: true}, mid, nil},
		{"up to a cursor in the middle, newest first", feedQuery{desc: true}, nil, mid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m.entriesRead, m.resultsRead, m.cronsRead = 0, 0, 0
			q := tc.q
			q.limit, q.from, q.to = limit, tc.from, tc.to
			page, more := m.page(t, q)
			if len(page) != limit || !more {
				t.Fatalf("page of %d (more %v)", len(page), more)
			}
			// A chunk is limit+1 or 16 at least; the search by time reads one entry per step (17 for 100,000).
			chunk := max(limit+1, 16)
			if m.entriesRead > 2*chunk+20 || m.cronsRead > 2*chunk || m.resultsRead > limit+1 {
				t.Fatalf("read %d entries, %d cron results, %d results for a page of %d", m.entriesRead, m.cronsRead, m.resultsRead, limit)
			}
			t.Logf("read %d entries, %d cron results, %d results", m.entriesRead, m.cronsRead, m.resultsRead)
		})
	}
}

func jsonText(v any) string { b, _ := json.Marshal(v); return string(b) }

type page struct {
	PageInfo struct{ HasNextPage bool } `json:"pageInfo"`
	Edges    []struct {
		Cursor string         `json:"cursor"`
		Node   map[string]any `json:"node"`
	} `json:"edges"`
}

func getResults(t *testing.T, r *gin.Engine, pid string, q url.Values) page {
	t.Helper()
	w := httptest.NewRecorder()
	r.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/results/"+pid+"?"+q.Encode(), nil))
	if w.Code != http.StatusOK {
		t.Fatalf("GET /results?%s: %d %.300s", q.Encode(), w.Code, w.Body)
	}
	var p page
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
		t.Fatal(err)
	}
	return p
}

func decodeCursor(t *testing.T, s string) Cursor {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	var c Cursor
	if err != nil || json.Unmarshal(b, &c) != nil {
		t.Fatalf("cursor %q is not base64 JSON", s)
	}
	return c
}

// The aos CLI's live feed: a first newest-first page of 5, then every poll asks for what follows the last
// cursor of the previous page, with no sort of its own. New results must show, and nothing older than the
// first page may come back.
func TestResultsFeedAsTheAOSCLIPollsIt(t *testing.T) {
	e := newEnv(t)
	pid := e.spawnKV()
	for _, v := range []string{"1", "2", "3", "4", "5", "6"} {
		e.send(user, pid, " ", tag("Action", "Set"), tag("Key", v), tag("Value", v))
	}
	r := e.router()
	first := getResults(t, r, pid, url.Values{"limit": {"5"}, "sort": {"DESC"}})
	if len(first.Edges) != 5 || !first.PageInfo.HasNextPage {
		t.Fatalf("first page: %d edges, more %v", len(first.Edges), first.PageInfo.HasNextPage)
	}
	seen := map[string]bool{}
	for _, ed := range first.Edges {
		seen[ed.Cursor] = true
	}
	oldest := decodeCursor(t, first.Edges[4].Cursor)
	if oldest.Sort != "DESC" || oldest.Ordinate != "3" {
		t.Fatalf("first page ends at %+v, want nonce 3 newest-first", oldest)
	}
	var added []int64
	for _, v := range []string{"7", "8"} {
		it := e.send(user, pid, " ", tag("Action", "Set"), tag("Key", v), tag("Value", v))
		ent, err := e.db.EntryByID(context.Background(), pid, it.ID)
		if err != nil {
			t.Fatal(err)
		}
		added = append(added, ent.Nonce)
	}
	cursor := first.Edges[4].Cursor
	var fresh []int64
	for range 10 { // the CLI keeps the last edge's cursor: with newest-first pages it moves one step a poll
		p := getResults(t, r, pid, url.Values{"from": {cursor}, "limit": {"1000"}})
		if len(p.Edges) == 0 {
			break
		}
		prev := int64(1 << 62)
		for _, ed := range p.Edges {
			c := decodeCursor(t, ed.Cursor)
			n := ordinate(t, c)
			if c.Sort != "DESC" || n >= prev {
				t.Fatalf("a page after a newest-first cursor is newest-first too: %+v after %d", c, prev)
			}
			if n <= ordinate(t, oldest) {
				t.Fatalf("poll returned nonce %d, not after the first page's %s", n, oldest.Ordinate)
			}
			prev = n
			if !seen[ed.Cursor] {
				seen[ed.Cursor] = true
				fresh = append(fresh, n)
			}
		}
		cursor = p.Edges[len(p.Edges)-1].Cursor
	}
	slices.Sort(fresh)
	if !slices.Equal(fresh, added) {
		t.Fatalf("new results seen by polling: %v, want %v", fresh, added)
	}
	if last := decodeCursor(t, cursor); ordinate(t, last) != added[len(added)-1] {
		t.Fatalf("polling settled on %s, want the newest %d", last.Ordinate, added[len(added)-1])
	}
	// The order a cursor was issued in wins over the one asked for, as in the reference CU.
	p := getResults(t, r, pid, url.Values{"from": {first.Edges[0].Cursor}, "sort": {"ASC"}, "limit": {"1000"}})
	if len(p.Edges) != 2 || ordinate(t, decodeCursor(t, p.Edges[0].Cursor)) != added[1] {
		t.Fatalf("after the newest of the first page, with sort=ASC: %d edges, want the 2 new ones newest-first", len(p.Edges))
	}
}

func ordinate(t *testing.T, c Cursor) int64 {
	t.Helper()
	n, err := strconv.ParseInt(c.Ordinate, 10, 64)
	if err != nil {
		t.Fatalf("cursor ordinate %q", c.Ordinate)
	}
	return n
}

// Cron ticks' results are in the same feed, each with a cursor naming its cron, between the messages they
// ran between; a cursor at a tick pages on from there.
func TestResultsFeedHasCronTicks(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p := e.send(user, "", "", tag("Cron-Interval", "1-second"), tag("Cron-Tag-Action", "Cron"))
	ev := e.send(user, p.ID, `Handlers.add("tick", Handlers.utils.hasMatchingTag("Action", "Cron"), function (msg) print("tick " .. msg.Timestamp) end)`, tag("Action", "Eval"))
	if r := e.result(p.ID, ev.ID); r["Error"] != nil {
		t.Fatalf("eval: %v", r["Error"])
	}
	proc, _ := e.db.GetProcess(ctx, p.ID)
	firstTick := (proc.Timestamp/1000 + 1) * 1000
	if d := time.Until(time.UnixMilli(firstTick + 20)); d > 0 {
		time.Sleep(d) // the next message is scheduled after the first tick, so the tick runs before it
	}
	m := e.send(user, p.ID, "", tag("Action", "Ping"))
	r := e.router()
	all := getResults(t, r, p.ID, url.Values{"limit": {"100"}})
	// A tick between the spawn and the Eval (a slow machine crossing a second) ran before the handler
	// existed and printed nothing: only the ones after the Eval must print, and are checked in order.
	evalEntry, _ := e.db.EntryByID(ctx, p.ID, ev.ID)
	mEntry, _ := e.db.EntryByID(ctx, p.ID, m.ID)
	var kinds []string
	var tickCursor string
	for _, ed := range all.Edges {
		c := decodeCursor(t, ed.Cursor)
		kind := "msg " + c.Ordinate
		if c.Cron != "" {
			kind = "tick after " + c.Ordinate + " " + c.Cron
			if after, err := strconv.ParseInt(c.Ordinate, 10, 64); err != nil || after < evalEntry.Nonce {
				kinds = append(kinds, kind)
				continue
			}
			out, _ := ed.Node["Output"].(map[string]any)
			if data, _ := out["data"].(string); !strings.HasPrefix(data, "tick ") || out["print"] != true {
				t.Fatalf("tick result %v, want a printed tick", ed.Node)
			}
			if tickCursor == "" {
				tickCursor = ed.Cursor
			}
		}
		kinds = append(kinds, kind)
	}
	if kinds[0] != "msg 0" || kinds[len(kinds)-1] != "msg "+jsonText(mEntry.Nonce) ||
		!slices.Contains(kinds, "tick after "+jsonText(evalEntry.Nonce)+" 0-1-second") {
		t.Fatalf("feed %q: want the spawn, the Eval, its ticks and then the Ping", kinds)
	}
	// Paging one at a time from the first tick's cursor gives the rest of the feed.
	idx := slices.IndexFunc(all.Edges, func(x struct {
		Cursor string         `json:"cursor"`
		Node   map[string]any `json:"node"`
	}) bool {
		return x.Cursor == tickCursor
	})
	cursor, n := tickCursor, 0
	for {
		pg := getResults(t, r, p.ID, url.Values{"from": {cursor}, "limit": {"1"}})
		if len(pg.Edges) == 0 {
			break
		}
		n++
		if pg.Edges[0].Cursor != all.Edges[idx+n].Cursor {
			t.Fatalf("paging from a tick: step %d gave %s", n, pg.Edges[0].Cursor)
		}
		cursor = pg.Edges[0].Cursor
	}
	if idx+n != len(all.Edges)-1 {
		t.Fatalf("paging from a tick reached %d of %d", idx+n, len(all.Edges)-1)
	}
}
