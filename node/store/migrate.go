package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// StorageVersion is the version of the key space (schema.go) this binary reads and writes. A store records
// its version under the meta key storage-version; stores made before versions existed have none and are
// version 1.
const StorageVersion = 4

// ErrStoreTooNew is returned by Open for a store written by a newer aonode: its key space may hold what this
// binary would misread, so it is not opened at all.
var ErrStoreTooNew = errors.New("store is newer than this aonode")

// migration brings a store from version to-1 to version to. Steps run in order, in the transaction that opens
// the store, so a store is either migrated to the current version or left as it was.
type migration struct {
	to   int
	what string
	up   func(tx *bolt.Tx, now time.Time) error
}

var migrations = []migration{
	{2, "rebuild the upload status and process indexes (stores older than the indexes lack them)", migrateIndexes},
	{3, "move push records from meta to the pushes bucket, with a time index for their collection", migratePushes},
	{4, "merge the item, message index and upload index buckets into one record per id", migrateRecords},
}

// Buckets of earlier versions, read only by the migrations that retire them.
var (
	oldItems     = []byte("items")       // versions 1-3: item id -> raw ANS-104 bytes
	oldMsgIndex  = []byte("msgindex")    // versions 1-3: pid|"|"|msgid -> nonce(be64); "a:"|assignment id -> pid|"|"|nonce(be64)
	oldUploadIdx = []byte("uploadindex") // versions 1-3: item id -> upload seq(be64)
)

// migrate opens the key space in tx: a new store gets the current version, an older one every migration step
// after its version, a newer one ErrStoreTooNew. It returns the version the store had.
func migrate(tx *bolt.Tx, now time.Time) (int, error) {
	from := StorageVersion
	if meta := tx.Bucket(bMeta); meta != nil {
		from = 1
		if v := meta.Get([]byte(keyStorageVersion.k)); v != nil {
			n, err := strconv.Atoi(string(v))
			if err != nil || n < 1 {
				return 0, fmt.Errorf("store version %q is not a version", v)
			}
			from = n
		}
	}
	if from > StorageVersion {
		return from, fmt.Errorf("%w: it is version %d, this aonode reads up to %d (run the aonode that wrote it, or a newer one)",
			ErrStoreTooNew, from, StorageVersion)
	}
	for _, b := range allBuckets {
		if _, err := tx.CreateBucketIfNotExists(b); err != nil {
			return from, err
		}
	}
	for _, m := range migrations {
		if m.to <= from {
			continue
		}
		if err := m.up(tx, now); err != nil {
			return from, fmt.Errorf("migrate store to version %d (%s): %w", m.to, m.what, err)
		}
		slog.Info("store migrated", "version", m.to, "step", m.what)
	}
	return from, tx.Bucket(bMeta).Put([]byte(keyStorageVersion.k), []byte(strconv.Itoa(StorageVersion)))
}

// migrateIndexes rebuilds the upload status indexes and the process index from their rows.
func migrateIndexes(tx *bolt.Tx, _ time.Time) error {
	for _, b := range [][]byte{bUploadPending, bUploadPosted, bProcIndex} {
		if err := tx.DeleteBucket(b); err != nil {
			return err
		}
		if _, err := tx.CreateBucket(b); err != nil {
			return err
		}
	}
	if err := rebuildUploadIndexes(tx); err != nil {
		return err
	}
	return rebuildProcIndex(tx)
}

// migratePushes moves the meta records push/<pid>/<source>/<entry> -> item id into the pushes bucket. They are
// stamped with the time of the migration, so each is kept a full retention from now on.
func migratePushes(tx *bolt.Tx, now time.Time) error {
	meta := tx.Bucket(bMeta)
	prefix := []byte("push/")
	var keys, vals [][]byte
	c := meta.Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		keys = append(keys, append([]byte(nil), k...))
		vals = append(vals, append([]byte(nil), v...))
	}
	for i, k := range keys {
		if err := putPush(tx, k[len(prefix):], string(vals[i]), now.UnixMilli()); err != nil {
			return err
		}
		if err := meta.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// migrateRecords builds a record for every id the three old id-keyed buckets hold, puts them in key order (in
// random order a large store's migration would move whole nodes at every put), and drops the old buckets. The
// slots are gathered in memory first: about a hundred bytes per scheduled entry.
func migrateRecords(tx *bolt.Tx, _ time.Time) error {
	recs := map[string]*record{}
	rec := func(id string) *record {
		r := recs[id]
		if r == nil {
			r = &record{}
			recs[id] = r
		}
		return r
	}
	if idx := tx.Bucket(oldMsgIndex); idx != nil {
		err := idx.ForEach(func(k, v []byte) error {
			if id, ok := bytes.CutPrefix(k, []byte("a:")); ok {
				if len(v) < 10 || v[len(v)-9] != '|' {
					return fmt.Errorf("assignment index entry %q: malformed value", k)
				}
				r := rec(string(id))
				r.slots = append(r.slots, slot{string(v[:len(v)-9]), int64(binary.BigEndian.Uint64(v[len(v)-8:]))})
				return nil
			}
			pid, id, ok := bytes.Cut(k, []byte("|"))
			if !ok || len(v) != 8 {
				return fmt.Errorf("message index entry %q: malformed", k)
			}
			r := rec(string(id))
			r.slots = append(r.slots, slot{string(pid), int64(binary.BigEndian.Uint64(v))})
			return nil
		})
		if err != nil {
			return err
		}
	}
	if idx := tx.Bucket(oldUploadIdx); idx != nil {
		err := idx.ForEach(func(k, v []byte) error {
			if len(v) != 8 {
				return fmt.Errorf("upload index entry %q: malformed", k)
			}
			rec(string(k)).upload = binary.BigEndian.Uint64(v)
			return nil
		})
		if err != nil {
			return err
		}
	}
	items := tx.Bucket(oldItems)
	if items != nil {
		err := items.ForEach(func(k, v []byte) error {
			r := rec(string(k))
			r.held, r.raw = true, v
			return nil
		})
		if err != nil {
			return err
		}
	}
	ids := make([]string, 0, len(recs))
	for id := range recs {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	b := tx.Bucket(bRecords)
	for _, id := range ids {
		if err := putRecord(b, id, recs[id]); err != nil {
			return err
		}
	}
	for _, old := range [][]byte{oldItems, oldMsgIndex, oldUploadIdx} {
		if err := tx.DeleteBucket(old); err != nil && !errors.Is(err, bolterrors.ErrBucketNotFound) {
			return err
		}
	}
	return nil
}
