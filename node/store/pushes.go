package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Push records say which signed item the MU delivered for an outbox entry of an evaluation, so the explorer
// links a message to what it caused. Nothing else reads them: delivery itself is exactly-once through the
// receiving SU, which knows the item by its id. So a record is kept for a retention period after it was
// written and then collected, a bounded batch at a time by the transactions that write new ones.

// DefaultPushRetention is how long a push record is kept when Options leaves it unset.
const DefaultPushRetention = 30 * 24 * time.Hour

// pushCollectBatch bounds what one write collects: a task finishing writes one record, so this keeps up with
// any rate while keeping each transaction small.
const pushCollectBatch = 64

// pushKey is <pid>/<source>/<entry>: entry is m<i> for the i-th message of the result, s<i> for a spawn.
func pushKey(pid, source, entry string) []byte { return []byte(pid + "/" + source + "/" + entry) }

// taskPushKey is the record a delivered message or spawn task leaves (other kinds leave none).
func taskPushKey(t Task) ([]byte, bool) {
	switch t.Kind {
	case TaskMessage:
		return pushKey(t.Process, t.Source, fmt.Sprintf("m%d", t.Index)), true
	case TaskSpawn:
		return pushKey(t.Process, t.Source, fmt.Sprintf("s%d", t.Index)), true
	}
	return nil, false
}

// putPush records item under key at time when (unix ms), replacing an earlier record and its time entry.
func putPush(tx *bolt.Tx, key []byte, item string, when int64) error {
	pushes, byTime := tx.Bucket(bPushes), tx.Bucket(bPushesByTime)
	if old := pushes.Get(key); len(old) >= 8 {
		if err := byTime.Delete(append(append([]byte(nil), old[:8]...), key...)); err != nil {
			return err
		}
	}
	if err := pushes.Put(key, append(be64(uint64(when)), item...)); err != nil {
		return err
	}
	return byTime.Put(append(be64(uint64(when)), key...), nil)
}

// collectPushes deletes up to max records written before before (unix ms), oldest first; it returns how
// many it deleted and whether older ones are left.
func collectPushes(tx *bolt.Tx, before int64, max int) (int, bool, error) {
	pushes, byTime := tx.Bucket(bPushes), tx.Bucket(bPushesByTime)
	var done [][]byte
	c := byTime.Cursor()
	k, _ := c.First()
	for ; k != nil && len(done) < max && int64(binary.BigEndian.Uint64(k[:8])) < before; k, _ = c.Next() {
		done = append(done, append([]byte(nil), k...))
	}
	more := k != nil && int64(binary.BigEndian.Uint64(k[:8])) < before
	for _, tk := range done {
		key := tk[8:]
		// Only the record this entry was written for (a newer one has its own entry).
		if v := pushes.Get(key); len(v) >= 8 && bytes.Equal(v[:8], tk[:8]) {
			if err := pushes.Delete(key); err != nil {
				return 0, false, err
			}
		}
		if err := byTime.Delete(tk); err != nil {
			return 0, false, err
		}
	}
	return len(done), more, nil
}

// Push returns the item the MU delivered for an outbox entry ("m<i>" or "s<i>") of the evaluation of source
// (a message or assignment id) in pid; ErrNotFound when none was delivered or its record was collected.
func (d *DB) Push(ctx context.Context, pid, source, entry string) (string, error) {
	if err := ctxErr(ctx); err != nil {
		return "", err
	}
	var item string
	err := d.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bPushes).Get(pushKey(pid, source, entry))
		if len(v) < 8 {
			return ErrNotFound
		}
		item = string(v[8:])
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("read push %s/%s/%s: %w", pid, source, entry, err)
	}
	return item, nil
}

// CollectPushes deletes every push record older than the retention; writes collect them as they go, so this
// is for a store that stopped writing. It returns how many it deleted.
func (d *DB) CollectPushes(ctx context.Context) (int, error) {
	total := 0
	for {
		if err := ctxErr(ctx); err != nil {
			return total, err
		}
		var n int
		var more bool
		err := d.db.Update(func(tx *bolt.Tx) (err error) {
			n, more, err = collectPushes(tx, d.now().Add(-d.pushRetention).UnixMilli(), 1024)
			return err
		})
		if err != nil {
			return total, fmt.Errorf("collect push records: %w", err)
		}
		total += n
		if !more {
			return total, nil
		}
	}
}
