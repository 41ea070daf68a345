package store

import (
	"context"
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// PutSnapshot keeps data as the latest snapshot of pid, taken after nonce, unless a snapshot at the same or a
// later nonce is already stored. Only the latest is kept: older ones are never read again.
func (d *DB) PutSnapshot(ctx context.Context, pid string, nonce int64, data []byte) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	err := d.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bSnapshots)
		if cur := b.Get([]byte(pid)); len(cur) >= 8 && int64(binary.BigEndian.Uint64(cur)) >= nonce {
			return nil
		}
		v := make([]byte, 8+len(data))
		binary.BigEndian.PutUint64(v, uint64(nonce))
		copy(v[8:], data)
		return b.Put([]byte(pid), v)
	})
	if err != nil {
		return fmt.Errorf("store snapshot %s/%d: %w", pid, nonce, err)
	}
	return nil
}

// Snapshot returns the latest snapshot of pid and the nonce it was taken after (ErrNotFound: none).
func (d *DB) Snapshot(ctx context.Context, pid string) (int64, []byte, error) {
	if err := ctxErr(ctx); err != nil {
		return 0, nil, err
	}
	var nonce int64
	var out []byte
	err := d.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bSnapshots).Get([]byte(pid))
		if len(v) < 8 {
			return ErrNotFound
		}
		nonce = int64(binary.BigEndian.Uint64(v))
		out = append([]byte(nil), v[8:]...)
		return nil
	})
	if err != nil {
		return 0, nil, fmt.Errorf("read snapshot of %s: %w", pid, err)
	}
	return nonce, out, nil
}

// ResultRow is one evaluation result of a process.
type ResultRow struct {
	Nonce int64
	Raw   []byte
}

// PutResults stores several evaluation results of a process (in nonce order) in one transaction: a CU
// evaluating a batch of messages pays one commit for all of them.
func (d *DB) PutResults(ctx context.Context, pid string, results []ResultRow) error {
	if len(results) == 0 {
		return nil
	}
	if err := ctxErr(ctx); err != nil {
		return err
	}
	err := d.update(func(tx *bolt.Tx) error {
		b, err := tx.Bucket(bResults).CreateBucketIfNotExists([]byte(pid))
		if err != nil {
			return err
		}
		// Results arrive in nonce order, appended at the bucket's end: full pages, not bbolt's half-full
		// split default, halve the pages written (and allocated) per commit.
		b.FillPercent = appendFill
		for _, r := range results {
			if err := b.Put(be64(uint64(r.Nonce)), r.Raw); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store %d results of %s: %w", len(results), pid, err)
	}
	return nil
}

// SnapshotNonce is the nonce the latest snapshot of pid was taken after (ErrNotFound: none), without
// reading the snapshot.
func (d *DB) SnapshotNonce(ctx context.Context, pid string) (int64, error) {
	if err := ctxErr(ctx); err != nil {
		return 0, err
	}
	var nonce int64
	err := d.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bSnapshots).Get([]byte(pid))
		if len(v) < 8 {
			return ErrNotFound
		}
		nonce = int64(binary.BigEndian.Uint64(v))
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("read snapshot nonce of %s: %w", pid, err)
	}
	return nonce, nil
}
