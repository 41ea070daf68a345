package store

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Upload states: queued and not yet accepted by the gateway; accepted (posted) but not yet in a block;
// confirmed in a block.
const (
	UploadPending   = "pending"
	UploadPosted    = "posted"
	UploadConfirmed = "confirmed"
)

// Upload is one item in the durable upload queue.
type Upload struct {
	Seq         uint64 `json:"seq"`
	ItemID      string `json:"item_id"`
	Status      string `json:"status"`
	BundleID    string `json:"bundle_id,omitempty"` // the L1 bundle transaction (or the bundler's receipt id)
	Attempts    int    `json:"attempts"`
	Reposts     int    `json:"reposts,omitempty"` // times a post the gateway lost was queued again
	Size        int    `json:"size"`
	Queued      int64  `json:"queued"` // unix ms
	Posted      int64  `json:"posted,omitempty"`
	Confirmed   int64  `json:"confirmed,omitempty"`
	BlockHeight int64  `json:"block_height,omitempty"`
	LastErr     string `json:"last_error,omitempty"`
}

// queueUpload adds a row for id (record r, which the caller puts) to the queue, unless r has one; it says
// whether it did.
func queueUpload(tx *bolt.Tx, id string, r *record) (bool, error) {
	if r.upload != 0 {
		return false, nil
	}
	q := tx.Bucket(bUploads)
	seq, err := q.NextSequence() // from 1: 0 is a record's "never queued"
	if err != nil {
		return false, err
	}
	if err := putJSON(q, be64(seq), Upload{Seq: seq, ItemID: id, Status: UploadPending, Size: len(r.raw), Queued: time.Now().UnixMilli()}); err != nil {
		return false, err
	}
	if err := tx.Bucket(bUploadPending).Put(be64(seq), pendingValue(len(r.raw))); err != nil {
		return false, err
	}
	r.upload = seq
	return true, nil
}

// pendingValue is a pending row's index value: its item's size, so the worker can tell whether a bundle is due
// without decoding the rows (PeekUploads).
func pendingValue(size int) []byte {
	return binary.BigEndian.AppendUint32(nil, uint32(min(size, math.MaxUint32)))
}

// PeekUploads sums up the first max pending rows in queue order: how many there are, their items' total size,
// and when the first was queued (unix ms; 0 when none). It reads the pending index and one row, where
// PendingUploads decodes every row and copies every item: the upload worker asks it first, every interval,
// and reads the batch only once it is due.
func (d *DB) PeekUploads(ctx context.Context, max int) (n, size int, oldest int64, err error) {
	if err := ctxErr(ctx); err != nil {
		return 0, 0, 0, err
	}
	err = d.db.View(func(tx *bolt.Tx) error {
		rows := tx.Bucket(bUploads)
		c := tx.Bucket(bUploadPending).Cursor()
		for k, v := c.First(); k != nil && n < max; k, v = c.Next() {
			if n == 0 || len(v) != 4 { // the first row's queue time; a row indexed before sizes were (nil value)
				var u Upload
				if err := getJSON(rows, k, &u); err != nil {
					return fmt.Errorf("queue row %d: %w", binary.BigEndian.Uint64(k), err)
				}
				if n == 0 {
					oldest = u.Queued
				}
				if len(v) != 4 {
					v = pendingValue(u.Size)
				}
			}
			size += int(binary.BigEndian.Uint32(v))
			n++
		}
		return nil
	})
	if err != nil {
		return 0, 0, 0, fmt.Errorf("peek upload queue: %w", err)
	}
	return n, size, oldest, nil
}

// rebuildUploadIndexes fills the status indexes from the rows (stores written before the indexes existed).
func rebuildUploadIndexes(tx *bolt.Tx) error {
	pend, posted := tx.Bucket(bUploadPending), tx.Bucket(bUploadPosted)
	return tx.Bucket(bUploads).ForEach(func(k, v []byte) error {
		var u Upload
		if err := json.Unmarshal(v, &u); err != nil {
			return err
		}
		switch u.Status {
		case UploadPending:
			return pend.Put(k, pendingValue(u.Size))
		case UploadPosted:
			return posted.Put(k, nil)
		}
		return nil
	})
}

// PendingUploads returns up to max pending uploads in queue order, with their item bytes.
func (d *DB) PendingUploads(ctx context.Context, max int) ([]Upload, [][]byte, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, nil, err
	}
	var ups []Upload
	var raws [][]byte
	err := d.db.View(func(tx *bolt.Tx) error {
		rows := tx.Bucket(bUploads)
		c := tx.Bucket(bUploadPending).Cursor()
		for k, _ := c.First(); k != nil && len(ups) < max; k, _ = c.Next() {
			var u Upload
			if err := getJSON(rows, k, &u); err != nil {
				return fmt.Errorf("queue row %d: %w", binary.BigEndian.Uint64(k), err)
			}
			raw, err := heldItem(tx, u.ItemID)
			if err != nil {
				return err
			}
			if raw == nil {
				return fmt.Errorf("queued item %s is missing", u.ItemID)
			}
			ups = append(ups, u)
			raws = append(raws, append([]byte(nil), raw...))
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("read upload queue: %w", err)
	}
	return ups, raws, nil
}

// updateUploads applies fn to the rows seqs in one transaction, keeping the status indexes in step.
func (d *DB) updateUploads(ctx context.Context, what string, seqs []uint64, fn func(u *Upload)) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	err := d.update(func(tx *bolt.Tx) error {
		q := tx.Bucket(bUploads)
		idx := map[string]*bolt.Bucket{UploadPending: tx.Bucket(bUploadPending), UploadPosted: tx.Bucket(bUploadPosted)}
		for _, s := range seqs {
			var u Upload
			if err := getJSON(q, be64(s), &u); err != nil {
				return fmt.Errorf("row %d: %w", s, err)
			}
			was := u.Status
			fn(&u)
			if u.Status != was {
				if b := idx[was]; b != nil {
					if err := b.Delete(be64(s)); err != nil {
						return err
					}
				}
				var v []byte // the posted index holds nothing; the pending one the item's size
				if u.Status == UploadPending {
					v = pendingValue(u.Size)
				}
				if b := idx[u.Status]; b != nil {
					if err := b.Put(be64(s), v); err != nil {
						return err
					}
				}
			}
			if err := putJSON(q, be64(s), u); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("upload queue: %s: %w", what, err)
	}
	return nil
}

// MarkUploads records the outcome of one post attempt for pending rows: posted in bundleID, or the error.
func (d *DB) MarkUploads(ctx context.Context, seqs []uint64, bundleID string, uploadErr error) error {
	now := time.Now().UnixMilli()
	return d.updateUploads(ctx, "record post", seqs, func(u *Upload) {
		if u.Status != UploadPending {
			return
		}
		u.Attempts++
		if uploadErr != nil {
			u.LastErr = uploadErr.Error()
			return
		}
		u.Status, u.BundleID, u.Posted, u.LastErr = UploadPosted, bundleID, now, ""
	})
}

// ConfirmUploads marks posted rows as confirmed at a block height.
func (d *DB) ConfirmUploads(ctx context.Context, seqs []uint64, height int64) error {
	now := time.Now().UnixMilli()
	return d.updateUploads(ctx, "record confirmation", seqs, func(u *Upload) {
		if u.Status == UploadPosted {
			u.Status, u.Confirmed, u.BlockHeight = UploadConfirmed, now, height
		}
	})
}

// RequeueUploads puts posted rows back in the queue (their post never reached a block).
func (d *DB) RequeueUploads(ctx context.Context, seqs []uint64, reason string) error {
	return d.updateUploads(ctx, "requeue", seqs, func(u *Upload) {
		if u.Status == UploadPosted {
			u.Status, u.Reposts, u.LastErr, u.BundleID, u.Posted = UploadPending, u.Reposts+1, reason, "", 0
		}
	})
}

// PostedUploads returns up to max rows posted but not yet confirmed, oldest first.
func (d *DB) PostedUploads(ctx context.Context, max int) ([]Upload, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	var out []Upload
	err := d.db.View(func(tx *bolt.Tx) error {
		rows := tx.Bucket(bUploads)
		c := tx.Bucket(bUploadPosted).Cursor()
		for k, _ := c.First(); k != nil && len(out) < max; k, _ = c.Next() {
			var u Upload
			if err := getJSON(rows, k, &u); err != nil {
				return err
			}
			out = append(out, u)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read posted uploads: %w", err)
	}
	return out, nil
}

// UploadStatus returns the queue row of an item.
func (d *DB) UploadStatus(ctx context.Context, itemID string) (*Upload, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	var u Upload
	err := d.db.View(func(tx *bolt.Tx) error {
		r, _, err := getRecord(tx.Bucket(bRecords), itemID)
		if err != nil {
			return err
		}
		if r.upload == 0 {
			return ErrNotFound
		}
		return getJSON(tx.Bucket(bUploads), be64(r.upload), &u)
	})
	if err != nil {
		return nil, fmt.Errorf("upload status of %s: %w", itemID, err)
	}
	return &u, nil
}

// ListUploads returns up to limit rows after seq `after` in queue order; status "" lists every row.
func (d *DB) ListUploads(ctx context.Context, status string, after uint64, limit int) ([]Upload, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	var out []Upload
	err := d.db.View(func(tx *bolt.Tx) error {
		rows := tx.Bucket(bUploads)
		var c *bolt.Cursor
		switch status {
		case UploadPending:
			c = tx.Bucket(bUploadPending).Cursor()
		case UploadPosted:
			c = tx.Bucket(bUploadPosted).Cursor()
		default:
			c = rows.Cursor()
		}
		for k, _ := c.Seek(be64(after + 1)); k != nil && len(out) < limit; k, _ = c.Next() {
			var u Upload
			if err := getJSON(rows, k, &u); err != nil {
				return err
			}
			if status != "" && u.Status != status {
				continue
			}
			out = append(out, u)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list uploads: %w", err)
	}
	return out, nil
}

// UploadCounts counts queue rows by status. It is read on every metrics scrape, so it never walks the rows:
// rows are never deleted, so the queue's sequence is their number, and the pending and posted indexes are
// only as large as the work in flight.
func (d *DB) UploadCounts(ctx context.Context) (map[string]int, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	counts := map[string]int{}
	err := d.db.View(func(tx *bolt.Tx) error {
		total := int(tx.Bucket(bUploads).Sequence())
		counts[UploadPending] = tx.Bucket(bUploadPending).Stats().KeyN
		counts[UploadPosted] = tx.Bucket(bUploadPosted).Stats().KeyN
		counts[UploadConfirmed] = total - counts[UploadPending] - counts[UploadPosted]
		return nil
	})
	return counts, err
}
