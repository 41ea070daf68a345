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
	from, err := storeVersion(tx)
	if err != nil {
		return 0, err
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

// storeVersion is the version of the store tx reads (StorageVersion for a new, empty one).
func storeVersion(tx *bolt.Tx) (int, error) {
	meta := tx.Bucket(bMeta)
	if meta == nil {
		return StorageVersion, nil
	}
	v := meta.Get([]byte(keyStorageVersion.k))
	if v == nil {
		return 1, nil
	}
	n, err := strconv.Atoi(string(v))
	if err != nil || n < 1 {
		return 0, fmt.Errorf("store version %q is not a version", v)
	}
	return n, nil
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

// migrateRecords gives every id the three old id-keyed buckets hold a record and drops the old buckets. Open
// builds the records beforehand, a chunk per transaction (prebuildRecords), and this step then finds them
// built; run alone (the step tests) it builds them here, put in key order (in random order a large
// transaction moves whole nodes at every put).
func migrateRecords(tx *bolt.Tx, _ time.Time) error {
	if meta := tx.Bucket(bMeta); meta.Get(keyRecordsBuilt) != nil {
		if err := meta.Delete(keyRecordsBuilt); err != nil {
			return err
		}
		return dropOldIDBuckets(tx)
	}
	recs, ids, err := oldRecords(tx)
	if err != nil {
		return err
	}
	if err := putOldRecords(tx, recs, ids); err != nil {
		return err
	}
	return dropOldIDBuckets(tx)
}

// oldRecords is every id the old buckets know, in key order, with its record but not its bytes.
func oldRecords(tx *bolt.Tx) (recordMap, []string, error) {
	recs, err := oldIndexes(tx)
	if err != nil {
		return nil, nil, err
	}
	if items := tx.Bucket(oldItems); items != nil {
		err := items.ForEach(func(k, _ []byte) error {
			recs.at(string(k))
			return nil
		})
		if err != nil {
			return nil, nil, err
		}
	}
	ids := make([]string, 0, len(recs))
	for id := range recs {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return recs, ids, nil
}

// putOldRecords puts the records of ids, each with its bytes from the old items bucket when it held them.
func putOldRecords(tx *bolt.Tx, recs recordMap, ids []string) error {
	items, b := tx.Bucket(oldItems), tx.Bucket(bRecords)
	for _, id := range ids {
		r := *recs[id]
		if items != nil {
			if raw := items.Get([]byte(id)); raw != nil {
				r.held, r.raw = true, raw
			}
		}
		if err := putRecord(b, id, &r); err != nil {
			return err
		}
	}
	return nil
}

// oldIndexes reads the old message and upload indexes into records without their bytes.
func oldIndexes(tx *bolt.Tx) (recordMap, error) {
	recs := recordMap{}
	if idx := tx.Bucket(oldMsgIndex); idx != nil {
		err := idx.ForEach(func(k, v []byte) error {
			if id, ok := bytes.CutPrefix(k, []byte("a:")); ok {
				if len(v) < 10 || v[len(v)-9] != '|' {
					return fmt.Errorf("assignment index entry %q: malformed value", k)
				}
				r := recs.at(string(id))
				r.slots = append(r.slots, slot{string(v[:len(v)-9]), int64(binary.BigEndian.Uint64(v[len(v)-8:]))})
				return nil
			}
			pid, id, ok := bytes.Cut(k, []byte("|"))
			if !ok || len(v) != 8 {
				return fmt.Errorf("message index entry %q: malformed", k)
			}
			r := recs.at(string(id))
			r.slots = append(r.slots, slot{string(pid), int64(binary.BigEndian.Uint64(v))})
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	if idx := tx.Bucket(oldUploadIdx); idx != nil {
		err := idx.ForEach(func(k, v []byte) error {
			if len(v) != 8 {
				return fmt.Errorf("upload index entry %q: malformed", k)
			}
			recs.at(string(k)).upload = binary.BigEndian.Uint64(v)
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return recs, nil
}

type recordMap map[string]*record

// at is id's record, added empty if missing.
func (m recordMap) at(id string) *record {
	r := m[id]
	if r == nil {
		r = &record{}
		m[id] = r
	}
	return r
}

func dropOldIDBuckets(tx *bolt.Tx) error {
	for _, old := range [][]byte{oldItems, oldMsgIndex, oldUploadIdx} {
		if err := tx.DeleteBucket(old); err != nil && !errors.Is(err, bolterrors.ErrBucketNotFound) {
			return err
		}
	}
	return nil
}

// keyRecordsBuilt (in meta, only between prebuildRecords and the migration to version 4) says the records
// bucket is complete.
var keyRecordsBuilt = []byte("records-built")

// recordsChunk is how many records prebuildRecords puts per transaction.
var recordsChunk = 10_000

// prebuildRecords fills the records bucket of a store older than version 4 before the migration's own
// transaction, a chunk of ids per transaction: that transaction would otherwise hold a copy of every item in
// memory until it commits (a 100,000-message store took 1.2 GB). Only the ids' slots and upload seqs are kept
// in memory (about a hundred bytes per scheduled entry). The store stays version 3 meanwhile, so an
// interrupted build is started again from nothing at the next open, and the migration step (migrateRecords)
// only drops the old buckets once it finds the build complete.
func prebuildRecords(db *bolt.DB) error {
	var ids []string
	var recs recordMap
	err := db.View(func(tx *bolt.Tx) error {
		v, err := storeVersion(tx)
		if err != nil || v >= 4 || tx.Bucket(oldItems) == nil && tx.Bucket(oldMsgIndex) == nil {
			return err
		}
		recs, ids, err = oldRecords(tx)
		return err
	})
	if err != nil || recs == nil {
		return err
	}
	err = db.Update(func(tx *bolt.Tx) error {
		if err := tx.DeleteBucket(bRecords); err != nil && !errors.Is(err, bolterrors.ErrBucketNotFound) {
			return err
		}
		_, err := tx.CreateBucket(bRecords)
		return err
	})
	for len(ids) > 0 && err == nil {
		chunk := ids[:min(recordsChunk, len(ids))]
		ids = ids[len(chunk):]
		err = db.Update(func(tx *bolt.Tx) error { return putOldRecords(tx, recs, chunk) })
	}
	if err != nil {
		return fmt.Errorf("build item records: %w", err)
	}
	return db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bMeta).Put(keyRecordsBuilt, []byte("1")) })
}
