package embedded

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"math"
	"slices"

	"go.etcd.io/bbolt"
)

// tagCond is one GraphQL tag filter.
type tagCond struct {
	name   []byte
	values [][]byte
	neq    bool
}

// txFilter is a transactions(...) query.
type txFilter struct {
	ids        []string
	owners     []string // addresses (public keys are converted by the caller)
	recipients []string
	bundledIn  []string
	tags       []tagCond
	minHeight  *int64
	maxHeight  *int64
	first      int
	after      []byte // orderKey of the last edge of the previous page
	desc       bool
}

var errBadCursor = errors.New("invalid cursor")

const cursorPrefix = "t1"

func encodeCursor(ok []byte) string { return b64(append([]byte(cursorPrefix), ok...)) }

func decodeCursor(s string) ([]byte, error) {
	b, err := unb64(s)
	if err != nil || len(b) != len(cursorPrefix)+16 || string(b[:len(cursorPrefix)]) != cursorPrefix {
		return nil, errBadCursor
	}
	return b[len(cursorPrefix):], nil
}

// ownerToAddress accepts a wallet address or a base64url public key (as real gateways do).
func ownerToAddress(s string) string {
	if len(s) <= 43 {
		return s
	}
	b, err := unb64(s)
	if err != nil {
		return s
	}
	h := sha256.Sum256(b)
	return b64(h[:])
}

func inSet(v string, set []string) bool {
	for _, s := range set {
		if s == v {
			return true
		}
	}
	return false
}

func (f *txFilter) hasBlockRange() bool { return f.minHeight != nil || f.maxHeight != nil }

func (f *txFilter) match(r *record) bool {
	if len(f.ids) > 0 && !inSet(r.ID, f.ids) {
		return false
	}
	if len(f.owners) > 0 && !inSet(r.OwnerAddr, f.owners) {
		return false
	}
	if len(f.recipients) > 0 && !inSet(r.Target, f.recipients) {
		return false
	}
	if len(f.bundledIn) > 0 && !inSet(r.BundledIn, f.bundledIn) {
		return false
	}
	if f.hasBlockRange() {
		if r.pending() {
			return false
		}
		if f.minHeight != nil && r.Height < *f.minHeight {
			return false
		}
		if f.maxHeight != nil && r.Height > *f.maxHeight {
			return false
		}
	}
	for _, c := range f.tags {
		if !c.match(r) {
			return false
		}
	}
	return true
}

// match: EQ — the record has tag name with one of values; NEQ — the record has tag name with a value that is
// none of values.
func (c *tagCond) match(r *record) bool {
	for _, t := range r.Tags {
		if !bytes.Equal(t.N, c.name) {
			continue
		}
		in := false
		for _, v := range c.values {
			if bytes.Equal(t.V, v) {
				in = true
				break
			}
		}
		if in != c.neq {
			return true
		}
	}
	return false
}

// source is an index range set able to produce candidates in order.
type source struct {
	bucket   []byte
	prefixes [][]byte
}

// pick chooses the most selective index among the filters (counting at most a few hundred keys each).
func (f *txFilter) pick(tx *bbolt.Tx) *source {
	var cands []*source
	addrs := func(bucket []byte, vals []string) {
		if len(vals) == 0 {
			return
		}
		s := &source{bucket: bucket}
		for _, v := range vals {
			s.prefixes = append(s.prefixes, lp([]byte(v)))
		}
		cands = append(cands, s)
	}
	addrs(bIdxOwner, f.owners)
	addrs(bIdxRecipient, f.recipients)
	addrs(bIdxBundle, f.bundledIn)
	for _, c := range f.tags {
		if c.neq {
			continue
		}
		s := &source{bucket: bIdxTag}
		for _, v := range c.values {
			s.prefixes = append(s.prefixes, tagPrefix(c.name, v))
		}
		cands = append(cands, s)
	}
	const limit = 512
	var best *source
	bestN := math.MaxInt
	for _, s := range cands {
		n := 0
		b := tx.Bucket(s.bucket)
		for _, p := range s.prefixes {
			c := b.Cursor()
			for k, _ := c.Seek(p); k != nil && bytes.HasPrefix(k, p) && n <= limit; k, _ = c.Next() {
				n++
			}
		}
		if n < bestN {
			best, bestN = s, n
		}
		if n == 0 {
			break
		}
	}
	if best == nil {
		return &source{bucket: bOrder, prefixes: [][]byte{nil}}
	}
	return best
}

// stream walks one prefix of an index in order.
type stream struct {
	c      *bbolt.Cursor
	prefix []byte
	k, v   []byte
	desc   bool
}

func (s *stream) valid() bool {
	return s.k != nil && len(s.k) == len(s.prefix)+16 && bytes.HasPrefix(s.k, s.prefix)
}

func (s *stream) ok() []byte { return s.k[len(s.prefix):] }

func (s *stream) next() {
	for {
		if s.desc {
			s.k, s.v = s.c.Prev()
		} else {
			s.k, s.v = s.c.Next()
		}
		// Keys of other prefixes can sit between ours only if they are longer; skip anything malformed.
		if s.k == nil || !bytes.HasPrefix(s.k, s.prefix) || len(s.k) == len(s.prefix)+16 {
			return
		}
	}
}

// open positions the stream at the first key after `from` (exclusive) in the walking direction; from nil
// means the start.
func openStream(b *bbolt.Bucket, prefix []byte, desc bool, from []byte) *stream {
	s := &stream{c: b.Cursor(), prefix: prefix, desc: desc}
	if !desc {
		start := append(bytes.Clone(prefix), from...)
		s.k, s.v = s.c.Seek(start)
		if from != nil && s.k != nil && bytes.Equal(s.k, start) {
			s.k, s.v = s.c.Next()
		}
	} else {
		var start []byte
		if from != nil {
			start = append(bytes.Clone(prefix), from...)
		} else {
			start = append(bytes.Clone(prefix), bytes.Repeat([]byte{0xff}, 17)...)
		}
		k, _ := s.c.Seek(start)
		if k == nil {
			s.k, s.v = s.c.Last()
		} else {
			s.k, s.v = s.c.Prev()
		}
	}
	if s.k != nil && bytes.HasPrefix(s.k, prefix) && len(s.k) != len(prefix)+16 {
		s.next()
	}
	return s
}

// queryTxs returns up to f.first matching records (and whether more exist) in (height, acceptance) order,
// ascending or descending.
func queryTxs(tx *bbolt.Tx, f *txFilter) ([]*record, bool, error) {
	if len(f.ids) > 0 {
		return queryByIDs(tx, f)
	}
	src := f.pick(tx)
	b := tx.Bucket(src.bucket)
	from := f.after
	// Start at the block range boundary when there is no cursor, or when the cursor is outside the range.
	if !f.desc && f.minHeight != nil && *f.minHeight > 0 {
		lo := orderKey(uint64(*f.minHeight), 0)
		if from == nil || bytes.Compare(from, lo) < 0 {
			from = orderKey(uint64(*f.minHeight)-1, math.MaxUint64)
		}
	}
	if f.desc && f.maxHeight != nil && *f.maxHeight >= 0 {
		hi := orderKey(uint64(*f.maxHeight)+1, 0)
		if from == nil || bytes.Compare(from, hi) > 0 {
			from = hi
		}
	}
	streams := make([]*stream, 0, len(src.prefixes))
	for _, p := range src.prefixes {
		streams = append(streams, openStream(b, p, f.desc, from))
	}
	var out []*record
	var last []byte
	for len(out) <= f.first {
		// merge: take the smallest (ascending) or largest (descending) head
		var best *stream
		for _, s := range streams {
			if !s.valid() {
				continue
			}
			if best == nil {
				best = s
				continue
			}
			c := bytes.Compare(s.ok(), best.ok())
			if (!f.desc && c < 0) || (f.desc && c > 0) {
				best = s
			}
		}
		if best == nil {
			break
		}
		ok := bytes.Clone(best.ok())
		id := string(best.v)
		best.next()
		if last != nil && bytes.Equal(ok, last) {
			continue // the same record reached through two values
		}
		last = ok
		h := orderKeyHeight(ok)
		if f.hasBlockRange() {
			if h == pendingHeight {
				if !f.desc {
					break // ascending: pending records come last and never match a block range
				}
				continue // descending: they come first
			}
			if !f.desc && f.maxHeight != nil && int64(h) > *f.maxHeight {
				break
			}
			if f.desc && f.minHeight != nil && int64(h) < *f.minHeight {
				break
			}
		}
		r, err := getRecord(tx, id)
		if err != nil {
			return nil, false, err
		}
		if r == nil || !bytes.Equal(r.orderKey(), ok) || !f.match(r) {
			continue
		}
		out = append(out, r)
	}
	more := len(out) > f.first
	if more {
		out = out[:f.first]
	}
	return out, more, nil
}

func queryByIDs(tx *bbolt.Tx, f *txFilter) ([]*record, bool, error) {
	var recs []*record
	seen := map[string]bool{}
	for _, id := range f.ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		r, err := getRecord(tx, id)
		if err != nil {
			return nil, false, err
		}
		if r == nil || !f.match(r) {
			continue
		}
		if f.after != nil {
			c := bytes.Compare(r.orderKey(), f.after)
			if (!f.desc && c <= 0) || (f.desc && c >= 0) {
				continue
			}
		}
		recs = append(recs, r)
	}
	slices.SortFunc(recs, func(a, b *record) int {
		c := bytes.Compare(a.orderKey(), b.orderKey())
		if f.desc {
			return -c
		}
		return c
	})
	more := len(recs) > f.first
	if more {
		recs = recs[:f.first]
	}
	return recs, more, nil
}

// blockFilter is a blocks(...) query.
type blockFilter struct {
	ids       []string
	minHeight *int64
	maxHeight *int64
	first     int
	after     *int64 // height of the last edge of the previous page
	desc      bool
}

const blockCursorPrefix = "b1"

func encodeBlockCursor(h int64) string {
	return b64(append([]byte(blockCursorPrefix), u64(uint64(h))...))
}

func decodeBlockCursor(s string) (int64, error) {
	b, err := unb64(s)
	if err != nil || len(b) != len(blockCursorPrefix)+8 || string(b[:len(blockCursorPrefix)]) != blockCursorPrefix {
		return 0, errBadCursor
	}
	return int64(binary.BigEndian.Uint64(b[len(blockCursorPrefix):])), nil
}

func queryBlocks(tx *bbolt.Tx, f *blockFilter) ([]*blockRec, bool, error) {
	ok := func(b *blockRec) bool {
		if len(f.ids) > 0 && !inSet(b.ID, f.ids) {
			return false
		}
		if f.minHeight != nil && b.Height < *f.minHeight {
			return false
		}
		if f.maxHeight != nil && b.Height > *f.maxHeight {
			return false
		}
		return true
	}
	top := currentHeight(tx)
	var out []*blockRec
	step := int64(1)
	h := int64(0)
	if f.desc {
		step, h = -1, top
		if f.maxHeight != nil && *f.maxHeight < h {
			h = *f.maxHeight
		}
		if f.after != nil && *f.after-1 < h {
			h = *f.after - 1
		}
	} else {
		if f.minHeight != nil && *f.minHeight > h {
			h = *f.minHeight
		}
		if f.after != nil && *f.after+1 > h {
			h = *f.after + 1
		}
	}
	for ; h >= 0 && h <= top && len(out) <= f.first; h += step {
		if !f.desc && f.maxHeight != nil && h > *f.maxHeight {
			break
		}
		if f.desc && f.minHeight != nil && h < *f.minHeight {
			break
		}
		b, err := getBlock(tx, h)
		if err != nil {
			return nil, false, err
		}
		if b == nil || !ok(b) {
			continue
		}
		out = append(out, b)
	}
	more := len(out) > f.first
	if more {
		out = out[:f.first]
	}
	return out, more, nil
}
