package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Upload states.
const (
	UploadPending = "pending"
	UploadPosted  = "posted"
)

// Upload is one item in the durable upload queue.
type Upload struct {
	Seq      uint64 `json:"seq"`
	ItemID   string `json:"item_id"`
	Status   string `json:"status"`
	BundleID string `json:"bundle_id,omitempty"`
	Attempts int    `json:"attempts"`
	Queued   int64  `json:"queued"` // unix ms
	Posted   int64  `json:"posted,omitempty"`
	LastErr  string `json:"last_error,omitempty"`
}

func enqueueUpload(tx *bolt.Tx, id string) error {
	idx := tx.Bucket(bUploadIdx)
	if idx.Get([]byte(id)) != nil {
		return nil // queued once, whatever schedules reference it
	}
	q := tx.Bucket(bUploads)
	seq, err := q.NextSequence()
	if err != nil {
		return err
	}
	if err := putJSON(q, be64(seq), Upload{Seq: seq, ItemID: id, Status: UploadPending, Queued: time.Now().UnixMilli()}); err != nil {
		return err
	}
	return idx.Put([]byte(id), be64(seq))
}

// PendingUploads returns up to max pending uploads in queue order, with their item bytes.
func (d *DB) PendingUploads(ctx context.Context, max int) ([]Upload, [][]byte, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, nil, err
	}
	var ups []Upload
	var raws [][]byte
	err := d.db.View(func(tx *bolt.Tx) error {
		items := tx.Bucket(bItems)
		c := tx.Bucket(bUploads).Cursor()
		for k, v := c.First(); k != nil && len(ups) < max; k, v = c.Next() {
			var u Upload
			if err := json.Unmarshal(v, &u); err != nil {
				return err
			}
			if u.Status != UploadPending {
				continue
			}
			raw := items.Get([]byte(u.ItemID))
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

// MarkUploads records the outcome of one upload attempt for the given queue rows.
func (d *DB) MarkUploads(ctx context.Context, seqs []uint64, bundleID string, uploadErr error) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	now := time.Now().UnixMilli()
	err := d.db.Update(func(tx *bolt.Tx) error {
		q := tx.Bucket(bUploads)
		for _, s := range seqs {
			var u Upload
			if err := getJSON(q, be64(s), &u); err != nil {
				return err
			}
			u.Attempts++
			if uploadErr != nil {
				u.LastErr = uploadErr.Error()
			} else {
				u.Status, u.BundleID, u.Posted, u.LastErr = UploadPosted, bundleID, now, ""
			}
			if err := putJSON(q, be64(s), u); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("update upload queue: %w", err)
	}
	return nil
}

// UploadStatus returns the queue row of an item.
func (d *DB) UploadStatus(ctx context.Context, itemID string) (*Upload, error) {
	var u Upload
	err := d.db.View(func(tx *bolt.Tx) error {
		s := tx.Bucket(bUploadIdx).Get([]byte(itemID))
		if s == nil {
			return ErrNotFound
		}
		return getJSON(tx.Bucket(bUploads), s, &u)
	})
	if err != nil {
		return nil, fmt.Errorf("upload status of %s: %w", itemID, err)
	}
	return &u, nil
}

// UploadCounts counts queue rows by status.
func (d *DB) UploadCounts(ctx context.Context) (map[string]int, error) {
	counts := map[string]int{}
	err := d.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bUploads).ForEach(func(_, v []byte) error {
			var u Upload
			if err := json.Unmarshal(v, &u); err != nil {
				return err
			}
			counts[u.Status]++
			return nil
		})
	})
	return counts, err
}
