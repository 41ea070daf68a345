// Package follow keeps a local, verified copy of the schedules of processes that another SU schedules, read
// over HTTP in the reference SU's format, so this node's CU computes any process, not only its own SU's.
//
// A followed schedule is held in the store like a recovered one (the process's Scheduler is not this node's
// SU, so the SU refuses to schedule for it and the MU never cranks it): the CU reads it the same way, and a
// schedule first restored from the gateway is followed from where it ends.
package follow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aonode/aonode/bundler"
	"github.com/aonode/aonode/node/httpx"
	"github.com/aonode/aonode/node/recovery"
	"github.com/aonode/aonode/node/store"
	"github.com/aonode/aonode/node/su"
)

// Locator finds the URL of a process's SU (through its Scheduler-Location record).
type Locator interface {
	// Locate finds the SU of a process the local store does not hold (from its Scheduler tag on the gateway).
	Locate(ctx context.Context, pid string) (string, error)
	// LocateScheduler finds the URL a scheduler address publishes.
	LocateScheduler(ctx context.Context, address string) (string, error)
}

// Items fetches a verified data item by id from elsewhere (the gateway), for messages whose JSON view cannot
// reproduce their signature (binary data, which the SU shows as lossy UTF-8).
type Items interface {
	Item(ctx context.Context, id string) (*bundler.Item, error)
}

// Store is what the follower reads and writes.
type Store interface {
	GetProcess(ctx context.Context, pid string) (*store.Process, error)
	Head(ctx context.Context, pid string) (*store.Head, error)
	Restore(ctx context.Context, entries []store.NewEntry) error
	Extend(ctx context.Context, entries []store.NewEntry) error
}

// ErrNotFollowed means the process is scheduled by this node's SU: there is nothing to follow.
var ErrNotFollowed = errors.New("scheduled by this node")

// Options tune a follower.
type Options struct {
	// MinInterval is how soon a process's SU is asked again when nothing forces it (a read of a message not
	// held yet always asks).
	MinInterval time.Duration
	PageSize    int // edges asked per page (the reference SU gives at most 1000)
	Client      *http.Client
	Log         *slog.Logger
}

// Follower mirrors other SUs' schedules into the store.
type Follower struct {
	db    Store
	loc   Locator
	items Items
	self  string // this node's SU address: its processes are not followed
	opts  Options

	mu    sync.Mutex
	procs map[string]*followed
}

type followed struct {
	own      atomic.Bool // scheduled by this node's SU (a process's scheduler never changes)
	mu       sync.Mutex
	lastSync time.Time // when the last completed sync started
}

// New builds a follower; self is this node's SU address.
func New(db Store, loc Locator, items Items, self string, o Options) *Follower {
	if o.MinInterval <= 0 {
		o.MinInterval = 250 * time.Millisecond
	}
	if o.PageSize <= 0 || o.PageSize > su.MaxPage {
		o.PageSize = su.MaxPage
	}
	if o.Client == nil {
		o.Client = &http.Client{Timeout: 30 * time.Second}
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	return &Follower{db: db, loc: loc, items: items, self: self, opts: o, procs: map[string]*followed{}}
}

// maxTracked bounds the per-process bookkeeping; past it the map starts over (only rate limiting is lost).
const maxTracked = 100_000

func (f *Follower) state(pid string) *followed {
	f.mu.Lock()
	defer f.mu.Unlock()
	st, ok := f.procs[pid]
	if !ok {
		if len(f.procs) >= maxTracked {
			clear(f.procs)
		}
		st = &followed{}
		f.procs[pid] = st
	}
	return st
}

// Follow brings the local copy of pid's schedule up to date with its SU: the whole schedule when the
// process is not held here, what was added since otherwise. It returns how many entries it added, and
// ErrNotFollowed (with nothing done) for a process this node's SU schedules. Unless force is set, a process
// synced less than MinInterval ago is not asked again; concurrent calls for one process share one sync.
func (f *Follower) Follow(ctx context.Context, pid string, force bool) (int, error) {
	// The CU asks before every dry-run and read, for its own processes too: those are known after one look
	// at the store.
	st := f.state(pid)
	if st.own.Load() {
		return 0, ErrNotFollowed
	}
	p, err := f.db.GetProcess(ctx, pid)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return 0, err
	}
	if p != nil && p.Scheduler == f.self {
		st.own.Store(true)
		return 0, ErrNotFollowed
	}
	asked := time.Now()
	st.mu.Lock()
	defer st.mu.Unlock()
	// Another caller synced while this one waited: its answer is as fresh as this one's would be.
	if st.lastSync.After(asked) || !force && time.Since(st.lastSync) < f.opts.MinInterval {
		return 0, nil
	}
	started := time.Now()
	n, err := f.sync(ctx, pid)
	if err != nil {
		return n, err
	}
	st.lastSync = started
	return n, nil
}

// sync reads the SU's pages after the local head and appends them, verified, one page per transaction.
func (f *Follower) sync(ctx context.Context, pid string) (int, error) {
	var (
		sched, base string
		head        *store.Head
	)
	p, err := f.db.GetProcess(ctx, pid)
	switch {
	case errors.Is(err, store.ErrNotFound):
		if base, err = f.loc.Locate(ctx, pid); err != nil {
			return 0, fmt.Errorf("follow %s: locate its scheduler: %w", pid, err)
		}
	case err != nil:
		return 0, err
	default:
		sched = p.Scheduler
		if base, err = f.loc.LocateScheduler(ctx, sched); err != nil {
			return 0, fmt.Errorf("follow %s: locate scheduler %s: %w", pid, sched, err)
		}
		if head, err = f.db.Head(ctx, pid); err != nil {
			return 0, err
		}
	}
	added := 0
	from := int64(-1) // timestamp bound, exclusive: -1 for the first page (it starts with the process)
	if head != nil {
		// One millisecond earlier than the head: an SU that gave two messages one timestamp must not make
		// the follower skip the second; entries already held are passed over by nonce.
		from = head.Timestamp - 1
	}
	for {
		page, err := f.page(ctx, base, pid, from)
		if err != nil {
			return added, fmt.Errorf("follow %s: %w", pid, err)
		}
		var entries []store.NewEntry
		if sched == "" {
			if len(page.Edges) == 0 {
				return 0, fmt.Errorf("follow %s: its SU at %s lists no messages", pid, base)
			}
			if sched, err = f.spawn(page.Edges[0]); err != nil {
				return 0, fmt.Errorf("follow %s: %w", pid, err)
			}
		}
		for _, e := range page.Edges {
			ne, err := f.verify(ctx, pid, sched, head, e)
			if err != nil {
				return added, fmt.Errorf("follow %s: %w", pid, err)
			}
			if ne == nil {
				continue // held already
			}
			entries = append(entries, *ne)
			head = &store.Head{Nonce: ne.Entry.Nonce, HashChain: ne.Entry.HashChain, AssignmentID: ne.Entry.AssignmentID, Timestamp: ne.Entry.Timestamp}
		}
		if len(entries) > 0 {
			if entries[0].Process != nil {
				err = f.db.Restore(ctx, entries)
			} else {
				err = f.db.Extend(ctx, entries)
			}
			if err != nil {
				return added, fmt.Errorf("follow %s: %w", pid, err)
			}
			added += len(entries)
		}
		if !page.PageInfo.HasNextPage || len(page.Edges) == 0 {
			break
		}
		next, err := strconv.ParseInt(page.Edges[len(page.Edges)-1].Cursor, 10, 64)
		if err != nil || next <= from {
			return added, fmt.Errorf("follow %s: the SU's page cursor %q does not move forward", pid, page.Edges[len(page.Edges)-1].Cursor)
		}
		from = next
	}
	if added > 0 {
		f.opts.Log.Debug("followed schedule", "process", pid, "added", added, "nonce", head.Nonce, "su", base)
	}
	return added, nil
}

// The reference SU's message list (see node/su/http.go, which serves the same shape).
type pageJSON struct {
	PageInfo struct {
		HasNextPage bool `json:"has_next_page"`
	} `json:"page_info"`
	Edges []edgeJSON `json:"edges"`
}

type edgeJSON struct {
	Cursor string `json:"cursor"`
	Node   struct {
		Message    *itemJSON `json:"message"`
		Assignment *itemJSON `json:"assignment"`
	} `json:"node"`
}

type itemJSON struct {
	ID    string `json:"id"`
	Owner struct {
		Address string `json:"address"`
		Key     string `json:"key"`
	} `json:"owner"`
	Data      *string       `json:"data"`
	Tags      []bundler.Tag `json:"tags"`
	Signature string        `json:"signature"`
	Anchor    *string       `json:"anchor"`
	Target    *string       `json:"target"`
}

// maxPageBytes bounds one page's body: 1000 items of the SU's 10 MiB limit would be far more, but a page of
// big messages is split by the SU's limit on edges, not bytes; 256 MiB is past anything sane.
const maxPageBytes = 256 << 20

func (f *Follower) page(ctx context.Context, base, pid string, from int64) (*pageJSON, error) {
	q := url.Values{}
	q.Set("process-id", pid)
	q.Set("limit", strconv.Itoa(f.opts.PageSize))
	q.Set("show-anchor", "true")
	if from >= 0 {
		q.Set("from", strconv.FormatInt(from, 10))
	}
	u := base + "/" + url.PathEscape(pid) + "?" + q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	httpx.SetRequestID(ctx, req)
	res, err := f.opts.Client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("read schedule from %s: %w", base, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, maxPageBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read schedule from %s: %w", base, err)
	}
	if len(body) > maxPageBytes {
		return nil, fmt.Errorf("read schedule from %s: page larger than %d bytes", base, maxPageBytes)
	}
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("read schedule from %s: %s: %.300s", base, res.Status, body)
	}
	var pg pageJSON
	if err := json.Unmarshal(body, &pg); err != nil {
		return nil, fmt.Errorf("read schedule from %s: not a message list: %w", base, err)
	}
	return &pg, nil
}

// rebuild turns an SU's JSON view of an item back into the signed item, verified.
func rebuild(v *itemJSON) (*bundler.Item, error) {
	f := bundler.Fields{Signature: v.Signature, Owner: v.Owner.Key, Tags: v.Tags}
	if v.Target != nil {
		f.Target = *v.Target
	}
	if v.Anchor != nil {
		f.Anchor = *v.Anchor
	}
	if v.Data != nil {
		f.Data = []byte(*v.Data)
	}
	it, err := bundler.Rebuild(f)
	if err != nil {
		return nil, err
	}
	if v.ID != "" && it.ID != v.ID {
		return nil, fmt.Errorf("item %s: its fields rebuild item %s", v.ID, it.ID)
	}
	return it, nil
}

// spawn reads the scheduler address from the first edge of a schedule, which must be the process itself.
func (f *Follower) spawn(e edgeJSON) (string, error) {
	if e.Node.Message == nil {
		return "", errors.New("the first message of the schedule is not the process")
	}
	var sched, typ string
	for _, t := range e.Node.Message.Tags {
		if t.Name == "Scheduler" && sched == "" {
			sched = t.Value
		}
		if t.Name == "Type" && typ == "" {
			typ = t.Value
		}
	}
	if typ != "Process" || sched == "" {
		return "", fmt.Errorf("the first message of the schedule is not a process with a Scheduler tag (Type=%q)", typ)
	}
	return sched, nil
}

// verify checks one edge against what is held (head: the last entry, nil before the spawn) and returns the
// entry to append, or nil when it is held already. The assignment must be signed by the process's
// scheduler, name the process, take the next nonce and link the hash chain; the message must be the one
// it assigns.
func (f *Follower) verify(ctx context.Context, pid, sched string, head *store.Head, e edgeJSON) (*store.NewEntry, error) {
	if e.Node.Assignment == nil {
		return nil, errors.New("an edge without its assignment")
	}
	asg, err := rebuild(e.Node.Assignment)
	if err != nil {
		return nil, fmt.Errorf("assignment %s: %w", e.Node.Assignment.ID, err)
	}
	if asg.OwnerAddress() != sched {
		return nil, fmt.Errorf("assignment %s is signed by %s, not the process's scheduler %s", asg.ID, asg.OwnerAddress(), sched)
	}
	ent, err := recovery.AssignmentEntry(asg)
	if err != nil {
		return nil, fmt.Errorf("assignment %s: %w", asg.ID, err)
	}
	if ent.Process != pid {
		return nil, fmt.Errorf("assignment %s is for process %s", asg.ID, ent.Process)
	}
	if ent.Nonce == 0 && ent.MessageID != pid {
		return nil, fmt.Errorf("nonce 0 assigns %s, not the process", ent.MessageID)
	}
	next := int64(0)
	if head != nil {
		next = head.Nonce + 1
	}
	if ent.Nonce < next {
		return nil, nil
	}
	if ent.Nonce > next {
		return nil, fmt.Errorf("the SU skips from nonce %d to %d", next-1, ent.Nonce)
	}
	want, err := su.HashChain(pid, head)
	if err != nil {
		return nil, err
	}
	if ent.HashChain != want {
		return nil, fmt.Errorf("assignment %s (nonce %d): Hash-Chain %s does not link to the previous assignment (want %s)", asg.ID, ent.Nonce, ent.HashChain, want)
	}
	if head != nil && ent.Timestamp < head.Timestamp {
		return nil, fmt.Errorf("assignment %s (nonce %d): timestamp goes backwards", asg.ID, ent.Nonce)
	}
	ne := &store.NewEntry{Entry: ent, AssignmentRaw: asg.Raw}
	if e.Node.Message != nil {
		msg, err := rebuild(e.Node.Message)
		if err != nil && f.items != nil {
			// Binary data does not survive the SU's JSON view: take the signed item from the gateway.
			msg, err = f.items.Item(ctx, ent.MessageID)
		}
		if err != nil {
			return nil, fmt.Errorf("message %s (nonce %d): %w", ent.MessageID, ent.Nonce, err)
		}
		if msg.ID != ent.MessageID {
			return nil, fmt.Errorf("assignment %s assigns %s but the SU shows message %s", asg.ID, ent.MessageID, msg.ID)
		}
		ne.MessageRaw, ne.Entry.Local = msg.Raw, true
		if ent.Nonce == 0 {
			if s, _ := msg.Tag("Scheduler"); s != sched {
				return nil, fmt.Errorf("process %s names scheduler %s, its assignment is signed by %s", pid, s, sched)
			}
			ne.Process = &store.Process{ID: pid, Owner: msg.OwnerAddress(), Scheduler: sched, Timestamp: ent.Timestamp, BlockHeight: ent.BlockHeight}
			ne.Process.Name, _ = msg.Tag("Name")
		}
	} else if ent.Nonce == 0 {
		return nil, errors.New("the SU does not show the process item")
	}
	return ne, nil
}
