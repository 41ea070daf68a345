package store

import (
	"context"
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// PutResult stores the evaluation result (JSON) of a process at nonce.
func (d *DB) PutResult(ctx context.Context, pid string, nonce int64, result []byte) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	err := d.update(func(tx *bolt.Tx) error {
		b, err := tx.Bucket(bResults).CreateBucketIfNotExists([]byte(pid))
		if err != nil {
			return err
		}
		return b.Put(be64(uint64(nonce)), result)
	})
	if err != nil {
		return fmt.Errorf("store result %s/%d: %w", pid, nonce, err)
	}
	return nil
}

// Result returns a stored evaluation result.
func (d *DB) Result(ctx context.Context, pid string, nonce int64) ([]byte, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	var out []byte
	err := d.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bResults).Bucket([]byte(pid))
		if b == nil {
			return ErrNotFound
		}
		v := b.Get(be64(uint64(nonce)))
		if v == nil {
			return ErrNotFound
		}
		out = append([]byte(nil), v...)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read result %s/%d: %w", pid, nonce, err)
	}
	return out, nil
}

// LastResultNonce is the highest nonce with a stored result, or -1.
func (d *DB) LastResultNonce(ctx context.Context, pid string) (int64, error) {
	n := int64(-1)
	err := d.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bResults).Bucket([]byte(pid))
		if b == nil {
			return nil
		}
		if k, _ := b.Cursor().Last(); k != nil {
			n = int64(binary.BigEndian.Uint64(k))
		}
		return nil
	})
	if err != nil {
		return -1, fmt.Errorf("read results of %s: %w", pid, err)
	}
	return n, nil
}
