package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// ProcessRow is one process in the list of processes.
type ProcessRow struct {
	ID        string `json:"id"`
	Owner     string `json:"owner"`
	Name      string `json:"name,omitempty"`
	Timestamp int64  `json:"timestamp"`
}

func procIndexKey(ts int64, pid string) []byte {
	return append(be64(uint64(ts)), pid...)
}

// indexProcess adds p to the index (once per process: the caller checked it is new) and counts it.
func indexProcess(tx *bolt.Tx, p *Process) error {
	b := tx.Bucket(bProcIndex)
	if _, err := b.NextSequence(); err != nil {
		return err
	}
	row := ProcessRow{ID: p.ID, Owner: p.Owner, Name: p.Name, Timestamp: p.Timestamp}
	return putJSON(b, procIndexKey(p.Timestamp, p.ID), row)
}

// rebuildProcIndex fills the index from the process rows (stores written before it existed).
func rebuildProcIndex(tx *bolt.Tx) error {
	return tx.Bucket(bProcesses).ForEach(func(_, v []byte) error {
		var p Process
		if err := json.Unmarshal(v, &p); err != nil {
			return err
		}
		return indexProcess(tx, &p)
	})
}

// ProcessPage is one page of the list of processes.
type ProcessPage struct {
	Rows []ProcessRow
	// Next continues the list where this page stopped ("" at its end); Scanned is how many processes were
	// looked at for this page.
	Next    string
	Scanned int
}

// Processes lists processes newest first from the cursor from ("" from the newest), up to limit rows that
// match (nil: all), looking at no more than scan processes (<= 0: no bound): a search that matches little
// returns what it found so far and a cursor to go on.
func (d *DB) Processes(ctx context.Context, from string, limit, scan int, match func(ProcessRow) bool) (ProcessPage, error) {
	var page ProcessPage
	if err := ctxErr(ctx); err != nil {
		return page, err
	}
	var start []byte
	if from != "" {
		b, err := decodeProcCursor(from)
		if err != nil {
			return page, err
		}
		start = b
	}
	err := d.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bProcIndex).Cursor()
		var k, v []byte
		if start == nil {
			k, v = c.Last()
		} else if k, v = c.Seek(start); k == nil {
			k, v = c.Last()
		} else if !bytes.Equal(k, start) {
			k, v = c.Prev() // the cursor's row is gone: go on from the one before where it stood
		}
		for ; k != nil; k, v = c.Prev() {
			if len(page.Rows) == limit || scan > 0 && page.Scanned == scan {
				page.Next = encodeProcCursor(k)
				return nil
			}
			page.Scanned++
			var r ProcessRow
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("index row %x: %w", k, err)
			}
			if match == nil || match(r) {
				page.Rows = append(page.Rows, r)
			}
		}
		return nil
	})
	if err != nil {
		return ProcessPage{}, fmt.Errorf("list processes: %w", err)
	}
	return page, nil
}

// A cursor is the index key of the next row to look at, written "<timestamp>.<pid>".
func encodeProcCursor(k []byte) string {
	return fmt.Sprintf("%d.%s", binary.BigEndian.Uint64(k), k[8:])
}

func decodeProcCursor(s string) ([]byte, error) {
	ts, pid, ok := strings.Cut(s, ".")
	n, err := strconv.ParseUint(ts, 10, 64)
	if !ok || err != nil || pid == "" {
		return nil, fmt.Errorf("list processes: bad cursor %q", s)
	}
	return append(be64(n), pid...), nil
}

// ProcessCount is how many processes the store holds (the index counts them as they are added).
func (d *DB) ProcessCount(ctx context.Context) (int, error) {
	if err := ctxErr(ctx); err != nil {
		return 0, err
	}
	n := 0
	err := d.db.View(func(tx *bolt.Tx) error {
		n = int(tx.Bucket(bProcIndex).Sequence())
		return nil
	})
	return n, err
}
