package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Process is a spawned process as the scheduler knows it.
type Process struct {
	ID          string `json:"id"`
	Owner       string `json:"owner"` // address
	Scheduler   string `json:"scheduler"`
	Timestamp   int64  `json:"timestamp"`
	BlockHeight int64  `json:"block_height"`
	Name        string `json:"name,omitempty"` // its Name tag, for the list of processes
}

// Entry is one slot of a process's schedule: the assignment at Nonce and the message it assigns.
// Nonce 0 is the process's own spawn message.
type Entry struct {
	Process      string `json:"process"`
	Nonce        int64  `json:"nonce"`
	Epoch        int64  `json:"epoch"`
	Timestamp    int64  `json:"timestamp"`
	BlockHeight  int64  `json:"block_height"`
	HashChain    string `json:"hash_chain"`
	AssignmentID string `json:"assignment_id"`
	MessageID    string `json:"message_id"`
	// Local is false when the assigned message is not held here (an assignment of an on-chain tx).
	Local bool `json:"local"`
}

// Head is the tail of a process's schedule, what the next assignment builds on.
type Head struct {
	Nonce        int64 // nonce of the last entry
	HashChain    string
	AssignmentID string
	Timestamp    int64
}

// NewEntry is what the scheduler writes: the entry, its assignment item, and the message item when held locally.
type NewEntry struct {
	Entry         Entry
	AssignmentRaw []byte
	MessageRaw    []byte   // nil when the message is not held locally
	Process       *Process // set only for the spawn (nonce 0)
	// Uploads lists the item ids (among the two above) to queue for Arweave in the same transaction.
	Uploads []string
	// Crank queues the MU's crank of this entry's result in the same transaction (a newly scheduled message;
	// not a recovered one, whose outbox was pushed when it was first scheduled).
	Crank bool
}

// GetProcess returns a process (a copy of its own: callers may change it).
func (d *DB) GetProcess(ctx context.Context, pid string) (*Process, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	if p, ok := d.procs.Get(pid); ok {
		return &p, nil
	}
	var p Process
	err := d.db.View(func(tx *bolt.Tx) error { return getJSON(tx.Bucket(bProcesses), []byte(pid), &p) })
	if err != nil {
		return nil, fmt.Errorf("read process %s: %w", pid, err)
	}
	d.procs.Add(pid, p) // read from a committed transaction, and never rewritten
	return &p, nil
}

// ListProcesses returns every process id.
func (d *DB) ListProcesses(ctx context.Context) ([]string, error) {
	var ids []string
	err := d.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bProcesses).ForEach(func(k, _ []byte) error { ids = append(ids, string(k)); return nil })
	})
	return ids, err
}

// Head returns the last entry of a process's schedule.
func (d *DB) Head(ctx context.Context, pid string) (*Head, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	var h *Head
	err := d.db.View(func(tx *bolt.Tx) error {
		lb := tx.Bucket(bLogs).Bucket([]byte(pid))
		if lb == nil {
			return ErrNotFound
		}
		k, v := lb.Cursor().Last()
		if k == nil {
			return ErrNotFound
		}
		var e Entry
		if err := json.Unmarshal(v, &e); err != nil {
			return err
		}
		h = &Head{Nonce: e.Nonce, HashChain: e.HashChain, AssignmentID: e.AssignmentID, Timestamp: e.Timestamp}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read schedule head of %s: %w", pid, err)
	}
	return h, nil
}

// Append writes one schedule entry atomically: the entry, its items, the id indexes and the upload queue rows.
// The write fails unless the log's next nonce is the entry's, so two writers racing on one process cannot both win.
func (d *DB) Append(ctx context.Context, ne NewEntry) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	if err := d.update(func(tx *bolt.Tx) error { return appendEntry(tx, ne) }); err != nil {
		return fmt.Errorf("append schedule entry %s/%d: %w", ne.Entry.Process, ne.Entry.Nonce, err)
	}
	return nil
}

// AppendTaken writes, in one transaction, the consecutive entries of one process that take returns. take is
// called once, just before the transaction that carries them begins (never if the store is closed), so an SU
// can keep signing while the previous transaction commits and have all of that join this one; nil or empty
// writes nothing. The entries are written all or none.
func (d *DB) AppendTaken(ctx context.Context, take func() []NewEntry) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	err := d.commits.doLate(func() func(*bolt.Tx) error {
		nes := take()
		if len(nes) == 0 {
			return nil
		}
		return func(tx *bolt.Tx) error {
			for _, ne := range nes {
				if err := appendEntry(tx, ne); err != nil {
					return fmt.Errorf("append schedule entry %s/%d: %w", ne.Entry.Process, ne.Entry.Nonce, err)
				}
			}
			return nil
		}
	})
	if err != nil {
		return fmt.Errorf("append schedule entries: %w", err)
	}
	return nil
}

// Restore writes a whole recovered schedule in one transaction, so an interrupted recovery leaves nothing
// behind. The process must not exist locally.
func (d *DB) Restore(ctx context.Context, entries []NewEntry) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	if len(entries) == 0 || entries[0].Process == nil {
		return errors.New("restore schedule: the first entry must be the process spawn")
	}
	err := d.db.Update(func(tx *bolt.Tx) error {
		later := newRecordSet(true)
		for _, ne := range entries {
			if err := appendEntryTo(tx, ne, later); err != nil {
				return fmt.Errorf("entry %d: %w", ne.Entry.Nonce, err)
			}
		}
		return later.flush(tx, true)
	})
	if err != nil {
		return fmt.Errorf("restore schedule of %s: %w", entries[0].Process.ID, err)
	}
	return nil
}

// Extend appends several entries to a process this node follows (another SU schedules it), in one
// transaction: all of them or none. Each must follow the last one held.
func (d *DB) Extend(ctx context.Context, entries []NewEntry) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	if len(entries) == 0 {
		return nil
	}
	err := d.update(func(tx *bolt.Tx) error {
		for _, ne := range entries {
			if err := appendEntry(tx, ne); err != nil {
				return fmt.Errorf("entry %d: %w", ne.Entry.Nonce, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("extend schedule of %s: %w", entries[0].Entry.Process, err)
	}
	return nil
}

func appendEntry(tx *bolt.Tx, ne NewEntry) error { return appendEntryTo(tx, ne, nil) }

// recordSet is the records a write changes, each read once and put once. A long restore keeps one for all its
// entries and flushes it in key order at its end: bbolt splits a transaction's nodes only when it commits, so
// keys put in random order (ids) into one large transaction each cost a move of the whole node (100,000 entries
// took a minute); in key order they are appends.
type recordSet struct {
	m    map[string]*record
	keep bool // copy what is read: the set outlives other writes of the transaction
}

func newRecordSet(keep bool) *recordSet { return &recordSet{m: map[string]*record{}, keep: keep} }

func (rs *recordSet) get(tx *bolt.Tx, id string) (*record, error) {
	if r, ok := rs.m[id]; ok {
		return r, nil
	}
	r, _, err := getRecord(tx.Bucket(bRecords), id)
	if err != nil {
		return nil, err
	}
	if rs.keep && r.held {
		r.raw = bytes.Clone(r.raw)
	}
	rs.m[id] = &r
	return &r, nil
}

// flush puts the set's records, in key order when sorted.
func (rs *recordSet) flush(tx *bolt.Tx, sorted bool) error {
	ids := make([]string, 0, len(rs.m))
	for id := range rs.m {
		ids = append(ids, id)
	}
	if sorted {
		slices.Sort(ids)
	}
	b := tx.Bucket(bRecords)
	for _, id := range ids {
		if err := putRecord(b, id, rs.m[id]); err != nil {
			return err
		}
	}
	clear(rs.m)
	return nil
}

// appendEntryTo writes an entry; with later set, its record writes wait in later for its flush.
func appendEntryTo(tx *bolt.Tx, ne NewEntry, later *recordSet) error {
	e := ne.Entry
	logs, err := tx.Bucket(bLogs).CreateBucketIfNotExists([]byte(e.Process))
	if err != nil {
		return err
	}
	logs.FillPercent = appendFill // nonces only ever append
	next := int64(0)
	if k, _ := logs.Cursor().Last(); k != nil {
		next = int64(binary.BigEndian.Uint64(k)) + 1
	}
	if next != e.Nonce {
		return fmt.Errorf("nonce %d out of order (next is %d)", e.Nonce, next)
	}
	rs := later
	if rs == nil {
		rs = newRecordSet(false)
	}
	var msg *record
	if e.MessageID != "" {
		if msg, err = rs.get(tx, e.MessageID); err != nil {
			return err
		}
		if _, dup := msg.nonceIn(e.Process); dup && e.Nonce > 0 {
			return fmt.Errorf("message %s for process %s: %w", e.MessageID, e.Process, ErrDuplicate)
		}
	}
	if ne.Process != nil {
		if tx.Bucket(bProcesses).Get([]byte(ne.Process.ID)) != nil {
			return fmt.Errorf("process %s: %w", ne.Process.ID, ErrDuplicate)
		}
		if err := putJSON(tx.Bucket(bProcesses), []byte(ne.Process.ID), ne.Process); err != nil {
			return err
		}
		if err := indexProcess(tx, ne.Process); err != nil {
			return err
		}
	}
	if err := putJSON(logs, be64(uint64(e.Nonce)), e); err != nil {
		return err
	}
	here := slot{e.Process, e.Nonce}
	if msg != nil {
		msg.slots = append(msg.slots, here)
		if ne.MessageRaw != nil && !msg.held {
			msg.held, msg.raw = true, ne.MessageRaw
		}
	}
	asg, err := rs.get(tx, e.AssignmentID)
	if err != nil {
		return err
	}
	asg.slots, asg.held, asg.raw = []slot{here}, true, ne.AssignmentRaw
	for _, id := range ne.Uploads {
		r, err := rs.get(tx, id)
		if err != nil {
			return err
		}
		if _, err := queueUpload(tx, id, r); err != nil {
			return err
		}
	}
	if later == nil {
		if err := rs.flush(tx, false); err != nil {
			return err
		}
	}
	if ne.Crank {
		return addTask(tx, NewTask{Task: Task{Kind: TaskCrank, Process: e.Process, Nonce: e.Nonce, Source: e.MessageID}}, time.Now().UnixMilli())
	}
	return nil
}

// Entries returns up to limit entries of a process with fromNonce <= nonce <= toNonce (toNonce < 0: no bound).
func (d *DB) Entries(ctx context.Context, pid string, fromNonce, toNonce int64, limit int) ([]Entry, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	var out []Entry
	err := d.db.View(func(tx *bolt.Tx) error {
		lb := tx.Bucket(bLogs).Bucket([]byte(pid))
		if lb == nil {
			return nil
		}
		c := lb.Cursor()
		for k, v := c.Seek(be64(uint64(max(fromNonce, 0)))); k != nil; k, v = c.Next() {
			if limit > 0 && len(out) >= limit {
				break
			}
			var e Entry
			if err := json.Unmarshal(v, &e); err != nil {
				return err
			}
			if toNonce >= 0 && e.Nonce > toNonce {
				break
			}
			out = append(out, e)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read schedule of %s: %w", pid, err)
	}
	return out, nil
}

// EntriesByTime returns up to limit+1 entries with from < timestamp <= to (to <= 0: no bound), in nonce order.
// Timestamps are strictly increasing per process, so nonce order is timestamp order.
func (d *DB) EntriesByTime(ctx context.Context, pid string, from, to int64, limit int) ([]Entry, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	var out []Entry
	err := d.db.View(func(tx *bolt.Tx) error {
		lb := tx.Bucket(bLogs).Bucket([]byte(pid))
		// Search where the page starts, so a page far into a long schedule costs what the page holds, not the
		// schedule before it.
		first, err := firstAfter(lb, from)
		if err != nil || lb == nil {
			return err
		}
		c := lb.Cursor()
		for k, v := c.Seek(be64(uint64(first))); k != nil; k, v = c.Next() {
			var e Entry
			if err := json.Unmarshal(v, &e); err != nil {
				return err
			}
			if e.Timestamp <= from {
				continue
			}
			if to > 0 && e.Timestamp > to {
				break
			}
			out = append(out, e)
			if len(out) > limit {
				break
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read schedule of %s: %w", pid, err)
	}
	return out, nil
}

// FirstNonceAfter returns the first nonce of a process's schedule whose entry's timestamp is later than ts:
// the nonce after the last one when none is, 0 for a process with no schedule here.
func (d *DB) FirstNonceAfter(ctx context.Context, pid string, ts int64) (int64, error) {
	if err := ctxErr(ctx); err != nil {
		return 0, err
	}
	var n int64
	err := d.db.View(func(tx *bolt.Tx) error {
		var err error
		n, err = firstAfter(tx.Bucket(bLogs).Bucket([]byte(pid)), ts)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("search schedule of %s: %w", pid, err)
	}
	return n, nil
}

// firstAfter is FirstNonceAfter within a transaction, over a process's log bucket (nil: none). Timestamps
// grow with the nonce and nonces run from 0 without gaps, so it binary-searches the nonces, reading one
// entry's timestamp per step.
func firstAfter(lb *bolt.Bucket, ts int64) (int64, error) {
	if lb == nil {
		return 0, nil
	}
	c := lb.Cursor()
	last, _ := c.Last()
	if last == nil {
		return 0, nil
	}
	lo, hi := uint64(0), binary.BigEndian.Uint64(last)+1
	for lo < hi {
		mid := lo + (hi-lo)/2
		_, v := c.Seek(be64(mid))
		var e struct {
			Timestamp int64 `json:"timestamp"`
		}
		if err := json.Unmarshal(v, &e); err != nil {
			return 0, err
		}
		if e.Timestamp <= ts {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return int64(lo), nil
}

// EntryByID finds the entry of a process by message id or assignment id.
func (d *DB) EntryByID(ctx context.Context, pid, id string) (*Entry, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	var e *Entry
	err := d.db.View(func(tx *bolt.Tx) error {
		r, _, err := getRecord(tx.Bucket(bRecords), id)
		if err != nil {
			return err
		}
		nonce, ok := r.nonceIn(pid)
		if !ok {
			return ErrNotFound
		}
		lb := tx.Bucket(bLogs).Bucket([]byte(pid))
		if lb == nil {
			return ErrNotFound
		}
		e = new(Entry)
		return getJSON(lb, be64(uint64(nonce)), e)
	})
	if err != nil {
		return nil, fmt.Errorf("find %s in schedule of %s: %w", id, pid, err)
	}
	return e, nil
}

// Item returns the raw bytes of a held item.
func (d *DB) Item(ctx context.Context, id string) ([]byte, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	var raw []byte
	err := d.db.View(func(tx *bolt.Tx) error {
		v, err := heldItem(tx, id)
		if v == nil && err == nil {
			return ErrNotFound
		}
		raw = bytes.Clone(v)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("read item %s: %w", id, err)
	}
	return raw, nil
}

// PutItem stores an item not part of any schedule (e.g. a message pushed to a wallet), optionally queueing its upload.
func (d *DB) PutItem(ctx context.Context, id string, raw []byte, upload bool) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	err := d.update(func(tx *bolt.Tx) error {
		return holdItem(tx, id, raw, upload)
	})
	if err != nil {
		return fmt.Errorf("store item %s: %w", id, err)
	}
	return nil
}
