// Package recovery rebuilds a process's schedule from an Arweave gateway alone: the spawn, every assignment
// and every assigned message, each verified (signatures, nonces, Hash-Chain), restored into the local store
// so the CU re-evaluates the process to the same state.
package recovery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aonode/aonode/bundler"
	"github.com/aonode/aonode/gateway"
	"github.com/aonode/aonode/node/progress"
	"github.com/aonode/aonode/node/store"
	"github.com/aonode/aonode/node/su"
)

// Gateway is what recovery reads (a *gateway.Client).
type Gateway interface {
	Tx(ctx context.Context, id string) (*gateway.Tx, error)
	Transactions(ctx context.Context, q gateway.TxQuery) ([]gateway.Tx, string, error)
	AllTransactions(ctx context.Context, q gateway.TxQuery, fn func(gateway.Tx) error) error
	Data(ctx context.Context, id string) ([]byte, string, error)
}

// ErrNotFound means the gateway does not know the process (or it is not an AO process).
var ErrNotFound = errors.New("process not found on the gateway")

// ErrExists means the process is already in the local store; recovery never overwrites a local schedule.
var ErrExists = errors.New("process already held locally")

// Report says what a recovery restored.
type Report struct {
	Process   string `json:"process"`
	Scheduler string `json:"scheduler"`
	Entries   int    `json:"entries"`    // assignments restored (nonce 0..Entries-1)
	LastNonce int64  `json:"last_nonce"` // nonce of the last restored assignment
	// FromBundles counts items taken from their bundle's binary because the gateway's metadata could not
	// reproduce their signature (arlocal drops item anchors).
	FromBundles int `json:"from_bundles"`
	// OnChain counts assigned messages that are not data items (L1 transactions), left on the gateway.
	OnChain  int   `json:"on_chain"`
	Duration int64 `json:"duration_ms"`
}

// Recoverer restores processes into a store.
type Recoverer struct {
	gw      Gateway
	db      *store.DB
	log     *slog.Logger
	retries int // extra lookups of messages the gateway has not indexed yet
	prog    *progress.Tracker
}

// New builds a recoverer; recoveries report what they fetched to prog while they run (nil: not reported).
func New(gw Gateway, db *store.DB, log *slog.Logger, prog *progress.Tracker) *Recoverer {
	if log == nil {
		log = slog.Default()
	}
	return &Recoverer{gw: gw, db: db, log: log, retries: 4, prog: prog}
}

// assignment is one verified assignment with what it says.
type assignment struct {
	item  *bundler.Item
	entry store.Entry
}

// Recover restores the schedule of pid. Everything is verified before anything is written, and the write is
// one transaction.
func (r *Recoverer) Recover(ctx context.Context, pid string) (*Report, error) {
	start := time.Now()
	if _, err := r.db.GetProcess(ctx, pid); err == nil {
		return nil, fmt.Errorf("recover %s: %w", pid, ErrExists)
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	ptx, err := r.gw.Tx(ctx, pid)
	if errors.Is(err, gateway.ErrNotFound) {
		return nil, fmt.Errorf("recover %s: %w", pid, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("recover %s: look up the process: %w", pid, err)
	}
	ptags := toTags(ptx.Tags)
	if v, _ := bundler.FirstTagFold(ptags, "Type"); v != "Process" {
		return nil, fmt.Errorf("recover %s: %w (Type=%q)", pid, ErrNotFound, v)
	}
	sched, _ := bundler.FirstTagFold(ptags, "Scheduler")
	if sched == "" {
		return nil, fmt.Errorf("recover %s: the process has no Scheduler tag", pid)
	}
	rep := &Report{Process: pid, Scheduler: sched}
	job := r.prog.Start("recover", pid, "listing assignments", "assignments", 0)
	defer job.End()

	asgTxs, err := r.assignments(ctx, pid, sched, job)
	if err != nil {
		return nil, err
	}
	if len(asgTxs) == 0 {
		return nil, fmt.Errorf("recover %s: no assignments on the gateway yet (not uploaded or not indexed)", pid)
	}
	// Items by id: assignments from the query, messages looked up in batches.
	metas := map[string]gateway.Tx{}
	for _, t := range asgTxs {
		metas[t.ID] = t
	}
	var msgIDs []string
	for _, t := range asgTxs {
		if id, _ := bundler.FirstTag(toTags(t.Tags), "Message"); id != "" && metas[id].ID == "" {
			msgIDs = append(msgIDs, id)
			metas[id] = gateway.Tx{} // placeholder: not known yet
		}
	}
	job.Phase("looking up messages", "messages", int64(len(msgIDs)))
	if err := r.lookup(ctx, msgIDs, metas, job); err != nil {
		return nil, fmt.Errorf("recover %s: %w", pid, err)
	}
	job.Phase("fetching items", "items", int64(len(metas)))
	raws, fromBundles, err := r.items(ctx, sched, metas, job)
	if err != nil {
		return nil, fmt.Errorf("recover %s: %w", pid, err)
	}
	rep.FromBundles = fromBundles

	job.Phase("verifying and writing", "assignments", int64(len(asgTxs)))
	asgs, err := verifyChain(pid, sched, asgTxs, raws)
	if err != nil {
		return nil, fmt.Errorf("recover %s: %w", pid, err)
	}
	pit, ok := raws[pid]
	if !ok {
		return nil, fmt.Errorf("recover %s: the process item could not be restored from the gateway", pid)
	}
	entries := make([]store.NewEntry, len(asgs))
	for i, a := range asgs {
		ne := store.NewEntry{Entry: a.entry, AssignmentRaw: a.item.Raw}
		if m, ok := raws[a.entry.MessageID]; ok {
			ne.MessageRaw = m.Raw
			ne.Entry.Local = true
		} else {
			rep.OnChain++
		}
		if i == 0 {
			ne.Process = &store.Process{
				ID: pid, Owner: pit.OwnerAddress(), Scheduler: sched, Timestamp: a.entry.Timestamp, BlockHeight: a.entry.BlockHeight,
			}
			ne.Process.Name, _ = pit.Tag("Name")
		}
		entries[i] = ne
	}
	if err := r.db.Restore(ctx, entries); err != nil {
		return nil, err
	}
	job.Set(int64(len(entries)))
	rep.Entries, rep.LastNonce = len(asgs), asgs[len(asgs)-1].entry.Nonce
	rep.Duration = time.Since(start).Milliseconds()
	r.log.Info("process recovered from the gateway", "process", pid, "entries", rep.Entries,
		"from_bundles", rep.FromBundles, "on_chain", rep.OnChain, "ms", rep.Duration)
	return rep, nil
}

// assignments lists the process's assignments signed by its scheduler, deduplicated by id (gateways may hold an
// item in several bundles).
func (r *Recoverer) assignments(ctx context.Context, pid, sched string, job *progress.Job) ([]gateway.Tx, error) {
	seen := map[string]bool{}
	var out []gateway.Tx
	err := r.gw.AllTransactions(ctx, gateway.TxQuery{
		Owners: []string{sched},
		Tags: []gateway.TagFilter{
			{Name: "Data-Protocol", Values: []string{"ao"}},
			{Name: "Type", Values: []string{"Assignment"}},
			{Name: "Process", Values: []string{pid}},
		},
		Sort: gateway.SortHeightAsc, First: gateway.MaxPageSize,
	}, func(t gateway.Tx) error {
		if !seen[t.ID] {
			seen[t.ID] = true
			out = append(out, t)
			job.Add(1)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("recover %s: list assignments: %w", pid, err)
	}
	return out, nil
}

// lookup fills metas for ids with the gateway's metadata, at most a page of ids per query. Gateways index
// asynchronously (arlocal under load, ar.io unbundling), so ids still missing are asked for again a few times
// before recovery gives up.
func (r *Recoverer) lookup(ctx context.Context, ids []string, metas map[string]gateway.Tx, job *progress.Job) error {
	delay := 500 * time.Millisecond
	total := len(ids)
	for attempt := 0; ; attempt++ {
		if err := r.lookupOnce(ctx, ids, metas); err != nil {
			return err
		}
		var missing []string
		for _, id := range ids {
			if metas[id].ID == "" {
				missing = append(missing, id)
			}
		}
		job.Set(int64(total - len(missing)))
		if len(missing) == 0 {
			return nil
		}
		if attempt == r.retries {
			return fmt.Errorf("message %s is not on the gateway (not uploaded or not indexed yet)", missing[0])
		}
		r.log.Info("messages not indexed yet; asking again", "missing", len(missing), "in", delay)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
		delay *= 2
		ids = missing
	}
}

func (r *Recoverer) lookupOnce(ctx context.Context, ids []string, metas map[string]gateway.Tx) error {
	for len(ids) > 0 {
		n := min(len(ids), gateway.MaxPageSize)
		batch := ids[:n]
		ids = ids[n:]
		err := r.gw.AllTransactions(ctx, gateway.TxQuery{IDs: batch, First: gateway.MaxPageSize}, func(t gateway.Tx) error {
			metas[t.ID] = t
			return nil
		})
		if err != nil {
			return fmt.Errorf("look up messages: %w", err)
		}
	}
	return nil
}

// items restores the signed binary of every data item in metas. An item whose metadata does not reproduce its
// signature is taken from its bundle: the one the gateway names, else the scheduler's own L1 bundles. What is
// still missing afterwards is an L1 transaction, left on the gateway.
func (r *Recoverer) items(ctx context.Context, sched string, metas map[string]gateway.Tx, job *progress.Job) (map[string]*bundler.Item, int, error) {
	out := map[string]*bundler.Item{}
	missing := map[string]bool{}
	bundles := map[string]bool{}
	for id, t := range metas {
		job.Add(1)
		var data []byte
		if t.DataSize > 0 {
			d, _, err := r.gw.Data(ctx, id)
			if err != nil {
				return nil, 0, fmt.Errorf("fetch data of %s: %w", id, err)
			}
			data = d
		}
		it, err := bundler.Rebuild(bundler.Fields{
			Signature: t.Signature, Owner: t.Owner.Key, Target: t.Recipient, Anchor: t.Anchor, Tags: toTags(t.Tags), Data: data,
		})
		if err == nil && it.ID == id {
			out[id] = it
			continue
		}
		missing[id] = true
		if t.BundledIn != "" {
			bundles[t.BundledIn] = true
		}
	}
	if len(missing) == 0 {
		return out, 0, nil
	}
	found := 0
	take := func(bundleID string) error {
		b, _, err := r.gw.Data(ctx, bundleID)
		if err != nil {
			return fmt.Errorf("fetch bundle %s: %w", bundleID, err)
		}
		raws, err := bundler.Unbundle(b)
		if err != nil {
			r.log.Warn("skipping unreadable bundle", "bundle", bundleID, "err", err)
			return nil
		}
		for _, raw := range raws {
			it, err := bundler.Parse(raw)
			if err != nil || !missing[it.ID] {
				continue
			}
			out[it.ID] = it
			delete(missing, it.ID)
			found++
		}
		return nil
	}
	for b := range bundles {
		if err := take(b); err != nil {
			return nil, 0, err
		}
	}
	if len(missing) > 0 {
		errDone := errors.New("done")
		err := r.gw.AllTransactions(ctx, gateway.TxQuery{
			Owners: []string{sched},
			Tags:   []gateway.TagFilter{{Name: "Bundle-Format", Values: []string{"binary"}}},
			Sort:   gateway.SortHeightAsc, First: gateway.MaxPageSize,
		}, func(t gateway.Tx) error {
			if bundles[t.ID] {
				return nil
			}
			if err := take(t.ID); err != nil {
				return err
			}
			if len(missing) == 0 {
				return errDone
			}
			return nil
		})
		if err != nil && !errors.Is(err, errDone) {
			return nil, 0, fmt.Errorf("scan the scheduler's bundles: %w", err)
		}
	}
	return out, found, nil
}

// verifyChain orders the assignments by nonce and checks them: signed by the scheduler, for this process,
// nonces 0..n without gaps, the first assigning the process itself, and every Hash-Chain linking to the one
// before.
func verifyChain(pid, sched string, txs []gateway.Tx, items map[string]*bundler.Item) ([]assignment, error) {
	byNonce := map[int64]assignment{}
	for _, t := range txs {
		it, ok := items[t.ID]
		if !ok {
			return nil, fmt.Errorf("assignment %s: its signed item could not be restored", t.ID)
		}
		if it.OwnerAddress() != sched {
			return nil, fmt.Errorf("assignment %s is signed by %s, not the scheduler %s", t.ID, it.OwnerAddress(), sched)
		}
		e, err := AssignmentEntry(it)
		if err != nil {
			return nil, fmt.Errorf("assignment %s: %w", t.ID, err)
		}
		if e.Process != pid {
			return nil, fmt.Errorf("assignment %s is for process %s", t.ID, e.Process)
		}
		if prev, dup := byNonce[e.Nonce]; dup && prev.item.ID != it.ID {
			return nil, fmt.Errorf("two assignments claim nonce %d: %s and %s", e.Nonce, prev.item.ID, it.ID)
		}
		byNonce[e.Nonce] = assignment{item: it, entry: e}
	}
	nonces := make([]int64, 0, len(byNonce))
	for n := range byNonce {
		nonces = append(nonces, n)
	}
	sort.Slice(nonces, func(i, j int) bool { return nonces[i] < nonces[j] })
	out := make([]assignment, 0, len(nonces))
	var head *store.Head
	for i, n := range nonces {
		if n != int64(i) {
			return nil, fmt.Errorf("nonce %d is missing on the gateway (next found is %d)", i, n)
		}
		a := byNonce[n]
		want, err := su.HashChain(pid, head)
		if err != nil {
			return nil, err
		}
		if a.entry.HashChain != want {
			return nil, fmt.Errorf("assignment %s (nonce %d): Hash-Chain %s does not link to the previous assignment (want %s)",
				a.item.ID, n, a.entry.HashChain, want)
		}
		if n == 0 && a.entry.MessageID != pid {
			return nil, fmt.Errorf("nonce 0 assigns %s, not the process", a.entry.MessageID)
		}
		if head != nil && a.entry.Timestamp < head.Timestamp {
			return nil, fmt.Errorf("assignment %s (nonce %d): timestamp goes backwards", a.item.ID, n)
		}
		out = append(out, a)
		head = &store.Head{Nonce: n, HashChain: a.entry.HashChain, AssignmentID: a.item.ID, Timestamp: a.entry.Timestamp}
	}
	return out, nil
}

// AssignmentEntry reads a schedule entry from an assignment's tags (its signature is the caller's to check).
// The process's own assignment (nonce 0) may leave out its Message tag, as the reference SU does.
func AssignmentEntry(it *bundler.Item) (store.Entry, error) {
	get := func(name string) (string, error) {
		v, ok := bundler.FirstTag(it.Tags, name)
		if !ok {
			return "", fmt.Errorf("no %s tag", name)
		}
		return v, nil
	}
	num := func(name string) (int64, error) {
		v, err := get(name)
		if err != nil {
			return 0, err
		}
		n, err := strconv.ParseInt(strings.TrimLeft(v, "0"), 10, 64)
		if strings.TrimLeft(v, "0") == "" {
			n, err = 0, nil
		}
		if err != nil || n < 0 {
			return 0, fmt.Errorf("%s tag %q is not a number", name, v)
		}
		return n, nil
	}
	var e store.Entry
	var err error
	if v, _ := bundler.FirstTag(it.Tags, "Type"); v != "Assignment" {
		return e, fmt.Errorf("not an assignment (Type=%q)", v)
	}
	if e.Process, err = get("Process"); err != nil {
		return e, err
	}
	e.MessageID, _ = bundler.FirstTag(it.Tags, "Message")
	if e.HashChain, err = get("Hash-Chain"); err != nil {
		return e, err
	}
	if e.Nonce, err = num("Nonce"); err != nil {
		return e, err
	}
	if e.Epoch, err = num("Epoch"); err != nil {
		return e, err
	}
	if e.Timestamp, err = num("Timestamp"); err != nil {
		return e, err
	}
	if e.BlockHeight, err = num("Block-Height"); err != nil {
		return e, err
	}
	if e.MessageID == "" {
		if e.Nonce != 0 {
			return e, errors.New("no Message tag")
		}
		e.MessageID = e.Process
	}
	e.AssignmentID = it.ID
	return e, nil
}

func toTags(ts []gateway.Tag) []bundler.Tag {
	out := make([]bundler.Tag, len(ts))
	for i, t := range ts {
		out[i] = bundler.Tag{Name: t.Name, Value: t.Value}
	}
	return out
}

// Item fetches one data item from the gateway and verifies it: rebuilt from its metadata and payload, else
// taken from its bundle (or one of its owner's bundles).
func (r *Recoverer) Item(ctx context.Context, id string) (*bundler.Item, error) {
	t, err := r.gw.Tx(ctx, id)
	if err != nil {
		return nil, err
	}
	items, _, err := r.items(ctx, t.Owner.Address, map[string]gateway.Tx{id: *t}, nil)
	if err != nil {
		return nil, err
	}
	it, ok := items[id]
	if !ok {
		return nil, fmt.Errorf("item %s: the gateway cannot give back its signed binary", id)
	}
	return it, nil
}
