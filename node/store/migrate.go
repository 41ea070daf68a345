package store

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"
)

// StorageVersion is the version of the key space (schema.go) this binary reads and writes. A store records
// its version under the meta key storage-version; stores made before versions existed have none and are
// version 1.
const StorageVersion = 3

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
}

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
