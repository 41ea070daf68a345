// Package store is aonode's embedded durable storage (bbolt): the scheduler log, the items it holds,
// evaluation results, the upload queue and node metadata. Every write is one fsynced bbolt transaction,
// so an acknowledged write survives a crash.
package store

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// ErrNotFound is returned when a record does not exist.
var ErrNotFound = errors.New("not found")

// ErrDuplicate is returned when a message id is already scheduled for the process.
var ErrDuplicate = errors.New("already exists")

// appendFill is the fill percent of buckets whose keys are appended in order (a process's schedule and results,
// by nonce): pages filled up before a split, where bbolt's default leaves every page of such a bucket half
// empty.
const appendFill = 0.95

// DB is the embedded store.
type DB struct {
	db            *bolt.DB
	commits       *committer // every small write goes through it (commit.go)
	pushRetention time.Duration
	now           func() time.Time // the clock of push records (tests move it)
	// procs holds processes read lately: a process row never changes once its spawn is written, and the SU
	// and the MU read it for every message (decoding it was 3% of the node's CPU under load).
	procs *lru.Cache[string, Process]
}

// processCacheSize is how many processes GetProcess keeps decoded (a few hundred bytes each).
const processCacheSize = 4096

// Options tune a store; the zero value is the defaults.
type Options struct {
	// PushRetention is how long a record of a delivered push is kept (DefaultPushRetention when 0).
	PushRetention time.Duration
}

// Open opens (creating if needed) the store file with the default options.
func Open(path string) (*DB, error) { return OpenWith(path, Options{}) }

// OpenWith opens (creating if needed) the store file, migrating an older store to StorageVersion; a store
// written by a newer aonode is refused with ErrStoreTooNew.
func OpenWith(path string, o Options) (*DB, error) {
	// bbolt waits for the file lock; another process holding it will not let go soon, so say so at once.
	// The map reserves address space, not memory: growing the file within it never remaps, and a remap
	// blocks every reader until the writers are done (large results stalled other requests).
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 200 * time.Millisecond, InitialMmapSize: 1 << 30})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("open store %s: another process (another aonode on the same data directory?) holds it", path)
	}
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	err = prebuildRecords(db)
	if err == nil {
		err = db.Update(func(tx *bolt.Tx) error {
			_, err := migrate(tx, time.Now())
			return err
		})
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	procs, err := lru.New[string, Process](processCacheSize)
	if err != nil {
		db.Close()
		return nil, err
	}
	d := &DB{db: db, commits: newCommitter(db), pushRetention: o.PushRetention, now: time.Now, procs: procs}
	if d.pushRetention <= 0 {
		d.pushRetention = DefaultPushRetention
	}
	return d, nil
}

// Close closes the file.
func (d *DB) Close() error {
	d.commits.close()
	return d.db.Close()
}

// update runs fn in a durable write transaction shared with the other writes queued at the time (commit.go):
// the way every small write is made. fn may run more than once.
func (d *DB) update(fn func(*bolt.Tx) error) error { return d.commits.do(fn) }

func be64(n uint64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], n)
	return b[:]
}

func ctxErr(ctx context.Context) error {
	if ctx == nil {
		return nil
	}
	return ctx.Err()
}

// Ping checks the store answers a read, cheaply (readiness probes call it).
func (d *DB) Ping(ctx context.Context) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	return d.db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bMeta) == nil {
			return errors.New("store: meta bucket missing")
		}
		return nil
	})
}

// Meta reads a metadata value (schema.go lists the keys).
func (d *DB) Meta(ctx context.Context, key MetaKey) (string, error) {
	if err := ctxErr(ctx); err != nil {
		return "", err
	}
	var v []byte
	err := d.db.View(func(tx *bolt.Tx) error {
		v = append([]byte(nil), tx.Bucket(bMeta).Get([]byte(key.k))...)
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("read meta %s: %w", key, err)
	}
	if v == nil {
		return "", ErrNotFound
	}
	return string(v), nil
}

// SetMeta writes a metadata value (schema.go lists the keys).
func (d *DB) SetMeta(ctx context.Context, key MetaKey, value string) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	err := d.update(func(tx *bolt.Tx) error { return tx.Bucket(bMeta).Put([]byte(key.k), []byte(value)) })
	if err != nil {
		return fmt.Errorf("write meta %s: %w", key, err)
	}
	return nil
}

func getJSON(b *bolt.Bucket, key []byte, v any) error {
	raw := b.Get(key)
	if raw == nil {
		return ErrNotFound
	}
	return json.Unmarshal(raw, v)
}

func putJSON(b *bolt.Bucket, key []byte, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(key, raw)
}
