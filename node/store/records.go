package store

import (
	"encoding/binary"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// An item id's record (bucket records) is everything the store knows by that id: the item's bytes when held,
// its row in the upload queue, and the schedule slots it fills (a message may be scheduled by several
// processes; an assignment fills one slot). Ids are hashes, so every id a message brings is a write at a random
// place in the tree, and a commit writes one page per place; before StorageVersion 4 an id was written to three
// buckets (items, msgindex, uploadindex), now to one.
type record struct {
	held   bool   // raw is the item's bytes (false: only known, e.g. an assigned on-chain message)
	raw    []byte // within a transaction, a slice of the stored value
	upload uint64 // upload queue seq; 0: never queued
	slots  []slot
}

// slot is a schedule slot an id fills: its process and nonce.
type slot struct {
	pid   string
	nonce int64
}

const (
	recordFormat = 1 // the first byte of every record
	recordHeld   = 1 // flags bit: the item's bytes follow the header
)

var errRecord = errors.New("malformed item record")

// encode lays a record out as: format, flags, uvarint upload seq, uvarint slot count, each slot as uvarint
// length, pid, uvarint nonce; then the item's bytes.
func (r *record) encode() []byte {
	n := 2 + 2*binary.MaxVarintLen64 + len(r.raw)
	for _, s := range r.slots {
		n += 2*binary.MaxVarintLen64 + len(s.pid)
	}
	b := make([]byte, 0, n)
	flags := byte(0)
	if r.held {
		flags |= recordHeld
	}
	b = append(b, recordFormat, flags)
	b = binary.AppendUvarint(b, r.upload)
	b = binary.AppendUvarint(b, uint64(len(r.slots)))
	for _, s := range r.slots {
		b = binary.AppendUvarint(b, uint64(len(s.pid)))
		b = append(b, s.pid...)
		b = binary.AppendUvarint(b, uint64(s.nonce))
	}
	if r.held {
		b = append(b, r.raw...)
	}
	return b
}

func decodeRecord(v []byte) (record, error) {
	var r record
	if len(v) < 2 || v[0] != recordFormat {
		return r, errRecord
	}
	r.held = v[1]&recordHeld != 0
	v = v[2:]
	next := func() (uint64, bool) {
		x, n := binary.Uvarint(v)
		if n <= 0 {
			return 0, false
		}
		v = v[n:]
		return x, true
	}
	var ok bool
	if r.upload, ok = next(); !ok {
		return r, errRecord
	}
	count, ok := next()
	if !ok || count > uint64(len(v)) {
		return r, errRecord
	}
	r.slots = make([]slot, 0, count)
	for range count {
		l, ok := next()
		if !ok || l > uint64(len(v)) {
			return r, errRecord
		}
		pid := string(v[:l])
		v = v[l:]
		nonce, ok := next()
		if !ok {
			return r, errRecord
		}
		r.slots = append(r.slots, slot{pid, int64(nonce)})
	}
	if r.held {
		r.raw = v
	} else if len(v) > 0 {
		return r, errRecord
	}
	return r, nil
}

// nonceIn is the nonce of the slot the id fills in pid's schedule.
func (r *record) nonceIn(pid string) (int64, bool) {
	for _, s := range r.slots {
		if s.pid == pid {
			return s.nonce, true
		}
	}
	return 0, false
}

// getRecord reads id's record; found is false (and the record empty) when the store knows nothing by id.
func getRecord(b *bolt.Bucket, id string) (r record, found bool, err error) {
	v := b.Get([]byte(id))
	if v == nil {
		return r, false, nil
	}
	r, err = decodeRecord(v)
	if err != nil {
		return r, true, fmt.Errorf("record of %s: %w", id, err)
	}
	return r, true, nil
}

func putRecord(b *bolt.Bucket, id string, r *record) error { return b.Put([]byte(id), r.encode()) }

// holdItem stores an item's bytes under its id unless they are held already (its slots and upload row are
// kept), and queues its upload when asked.
func holdItem(tx *bolt.Tx, id string, raw []byte, upload bool) error {
	b := tx.Bucket(bRecords)
	r, _, err := getRecord(b, id)
	if err != nil {
		return err
	}
	changed := !r.held
	if changed {
		r.held, r.raw = true, raw
	}
	if upload {
		queued, err := queueUpload(tx, id, &r)
		if err != nil {
			return err
		}
		changed = changed || queued
	}
	if !changed {
		return nil
	}
	return putRecord(b, id, &r)
}

// heldItem returns the bytes held under id (a slice valid for the transaction), nil when none are.
func heldItem(tx *bolt.Tx, id string) ([]byte, error) {
	r, _, err := getRecord(tx.Bucket(bRecords), id)
	if err != nil || !r.held {
		return nil, err
	}
	return r.raw, nil
}
