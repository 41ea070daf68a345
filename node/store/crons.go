package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

func cronKey(tick int64, idx int) []byte {
	k := make([]byte, 10)
	binary.BigEndian.PutUint64(k, uint64(tick))
	binary.BigEndian.PutUint16(k[8:], uint16(idx))
	return k
}

// PutCronResult stores the result of a cron tick.
func (d *DB) PutCronResult(ctx context.Context, pid string, tick int64, idx int, raw []byte) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	err := d.update(func(tx *bolt.Tx) error {
		b, err := tx.Bucket(bCrons).CreateBucketIfNotExists([]byte(pid))
		if err != nil {
			return err
		}
		return b.Put(cronKey(tick, idx), raw)
	})
	if err != nil {
		return fmt.Errorf("store cron result %s@%d: %w", pid, tick, err)
	}
	return nil
}

// CronResult reads one cron result.
func (d *DB) CronResult(ctx context.Context, pid string, tick int64, idx int) ([]byte, error) {
	var out []byte
	err := d.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bCrons).Bucket([]byte(pid))
		if b == nil {
			return ErrNotFound
		}
		v := b.Get(cronKey(tick, idx))
		if v == nil {
			return ErrNotFound
		}
		out = append([]byte(nil), v...)
		return nil
	})
	return out, err
}

// CronRow is a stored cron result.
type CronRow struct {
	Tick  int64
	Index int
	Raw   []byte
}

// CronResults lists cron results with after < tick <= until, in order.
func (d *DB) CronResults(ctx context.Context, pid string, after, until int64) ([]CronRow, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	var out []CronRow
	err := d.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bCrons).Bucket([]byte(pid))
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, v := c.Seek(cronKey(after+1, 0)); k != nil; k, v = c.Next() {
			tick := int64(binary.BigEndian.Uint64(k))
			if tick > until {
				break
			}
			out = append(out, CronRow{Tick: tick, Index: int(binary.BigEndian.Uint16(k[8:])), Raw: append([]byte(nil), v...)})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read cron results of %s: %w", pid, err)
	}
	return out, nil
}

// CronAt is the position of a cron result in its process's list: its tick, then its spec index.
type CronAt struct {
	Tick  int64
	Index int
}

// CronResultsBetween lists up to limit cron results strictly between lo and hi (a negative lo.Tick: no lower
// bound), ascending, or descending from hi when desc: a page of the results feed reads only what it shows.
func (d *DB) CronResultsBetween(ctx context.Context, pid string, lo, hi CronAt, desc bool, limit int) ([]CronRow, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	var out []CronRow
	err := d.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bCrons).Bucket([]byte(pid))
		if b == nil || hi.Tick < 0 {
			return nil
		}
		var loKey []byte
		if lo.Tick >= 0 {
			loKey = cronKey(lo.Tick, lo.Index)
		}
		hiKey := cronKey(hi.Tick, hi.Index)
		c := b.Cursor()
		var k, v []byte
		step := c.Next
		if desc {
			step = c.Prev
			// The last key below hi: before the first at or above it, or the very last.
			if k, _ = c.Seek(hiKey); k == nil {
				k, v = c.Last()
			} else {
				k, v = c.Prev()
			}
		} else if loKey == nil {
			k, v = c.First()
		} else if k, v = c.Seek(loKey); k != nil && bytes.Equal(k, loKey) {
			k, v = c.Next()
		}
		for ; k != nil && len(out) < limit; k, v = step() {
			if bytes.Compare(k, hiKey) >= 0 || loKey != nil && bytes.Compare(k, loKey) <= 0 {
				break
			}
			out = append(out, CronRow{Tick: int64(binary.BigEndian.Uint64(k)), Index: int(binary.BigEndian.Uint16(k[8:])), Raw: append([]byte(nil), v...)})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read cron results of %s: %w", pid, err)
	}
	return out, nil
}
