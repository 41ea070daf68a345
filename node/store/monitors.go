package store

import (
	"context"
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Monitor records that a process's cron messages are being pushed.
type Monitor struct {
	Process string `json:"process"`
	ByItem  string `json:"by_item"` // id of the monitor request item
	Owner   string `json:"owner"`   // address that asked
	Since   int64  `json:"since"`   // unix ms
	Cursor  int64  `json:"cursor"`  // last cron timestamp pushed (ms)
}

// PutMonitor creates or replaces a monitor.
func (d *DB) PutMonitor(ctx context.Context, m Monitor) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	if err := d.update(func(tx *bolt.Tx) error { return putJSON(tx.Bucket(bMonitors), []byte(m.Process), m) }); err != nil {
		return fmt.Errorf("store monitor %s: %w", m.Process, err)
	}
	return nil
}

// DeleteMonitor removes a monitor; ErrNotFound when there is none.
func (d *DB) DeleteMonitor(ctx context.Context, pid string) error {
	err := d.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bMonitors)
		if b.Get([]byte(pid)) == nil {
			return ErrNotFound
		}
		return b.Delete([]byte(pid))
	})
	if err != nil {
		return fmt.Errorf("delete monitor %s: %w", pid, err)
	}
	return nil
}

// Monitors lists every monitor.
func (d *DB) Monitors(ctx context.Context) ([]Monitor, error) {
	var out []Monitor
	err := d.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bMonitors).ForEach(func(_, v []byte) error {
			var m Monitor
			if err := json.Unmarshal(v, &m); err != nil {
				return err
			}
			out = append(out, m)
			return nil
		})
	})
	return out, err
}

// GetMonitor reads one monitor.
func (d *DB) GetMonitor(ctx context.Context, pid string) (*Monitor, error) {
	var m Monitor
	if err := d.db.View(func(tx *bolt.Tx) error { return getJSON(tx.Bucket(bMonitors), []byte(pid), &m) }); err != nil {
		return nil, fmt.Errorf("read monitor %s: %w", pid, err)
	}
	return &m, nil
}
