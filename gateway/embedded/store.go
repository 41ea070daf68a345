package embedded

import (
	"bytes"
	"crypto/sha512"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// Buckets. Every write that answers a request happens in one bbolt transaction.
var (
	bMeta         = []byte("meta")          // "height" -> u64, "weave" -> u64, "schema" -> "1"
	bTxs          = []byte("txs")           // id -> record JSON (L1 transactions and data items)
	bData         = []byte("data")          // blob key -> bytes (L1 payloads, raw posted items)
	bOrder        = []byte("order")         // orderKey -> id (global acceptance order)
	bIdxTag       = []byte("idx_tag")       // lp(name) lp(value) orderKey -> id
	bIdxOwner     = []byte("idx_owner")     // lp(address) orderKey -> id
	bIdxRecipient = []byte("idx_recipient") // lp(target) orderKey -> id
	bIdxBundle    = []byte("idx_bundle")    // lp(bundledIn) orderKey -> id
	bPending      = []byte("pending")       // u64 seq -> id (not yet in a block)
	bBlocks       = []byte("blocks")        // u64 height -> block JSON
	bBlockIDs     = []byte("block_ids")     // block id -> u64 height
	bChunks       = []byte("chunks")        // data_root(32) data_size(u64) start(u64) -> chunk bytes
	bUploads      = []byte("uploads")       // data_root(32) data_size(u64) -> upload JSON (txs waiting for chunks)
	bRoots        = []byte("roots")         // data_root(32) data_size(u64) -> id of the tx whose blob holds the data
	bWeave        = []byte("weave")         // u64 last weave byte of a tx -> id (for GET /chunk/{offset})

	allBuckets = [][]byte{bMeta, bTxs, bData, bOrder, bIdxTag, bIdxOwner, bIdxRecipient, bIdxBundle, bPending,
		bBlocks, bBlockIDs, bChunks, bUploads, bRoots, bWeave}

	keyHeight = []byte("height")
	keyWeave  = []byte("weave")
	keySchema = []byte("schema")
)

const (
	kindTx   = "tx"
	kindItem = "item"

	pendingHeight = math.MaxUint64 // height part of the orderKey of a record not yet in a block
)

// rtag is a tag as raw bytes (JSON encodes []byte as base64, so any byte sequence round-trips exactly).
type rtag struct {
	N []byte `json:"n"`
	V []byte `json:"v"`
}

// record is the metadata of one L1 transaction or data item.
type record struct {
	ID        string `json:"id"`
	Seq       uint64 `json:"seq"`  // acceptance order
	Kind      string `json:"kind"` // kindTx or kindItem
	Format    int    `json:"format,omitempty"`
	SigType   int    `json:"sig_type,omitempty"`
	Anchor    string `json:"anchor"` // L1: last_tx; item: anchor (base64url of 32 bytes) or ""
	Signature string `json:"signature"`
	Owner     string `json:"owner"` // base64url public key
	OwnerAddr string `json:"owner_addr"`
	Target    string `json:"target"`
	Quantity  string `json:"quantity"`
	Reward    string `json:"reward"`
	Tags      []rtag `json:"tags"`
	DataSize  int64  `json:"data_size"`
	DataRoot  string `json:"data_root,omitempty"`
	BundledIn string `json:"bundled_in,omitempty"`
	Height    int64  `json:"height"` // -1 while pending
	BlockID   string `json:"block_id,omitempty"`
	DataReady bool   `json:"data_ready"`
	DataSrc   string `json:"data_src,omitempty"` // key in bData of the blob holding the payload
	DataOff   int64  `json:"data_off,omitempty"` // payload offset inside that blob
	WeaveEnd  int64  `json:"weave_end,omitempty"`
	Accepted  int64  `json:"accepted_ms"`
}

func (r *record) pending() bool { return r.Height < 0 }

func (r *record) orderKey() []byte {
	h := uint64(pendingHeight)
	if r.Height >= 0 {
		h = uint64(r.Height)
	}
	return orderKey(h, r.Seq)
}

// tag returns the first value of tag name (exact match).
func (r *record) tag(name string) (string, bool) {
	for _, t := range r.Tags {
		if string(t.N) == name {
			return string(t.V), true
		}
	}
	return "", false
}

// tagFold returns the first value of tag name, matching the name case-insensitively.
func (r *record) tagFold(name string) (string, bool) {
	for _, t := range r.Tags {
		if bytes.EqualFold(t.N, []byte(name)) {
			return string(t.V), true
		}
	}
	return "", false
}

func (r *record) isBundle() bool {
	f, _ := r.tag("Bundle-Format")
	v, _ := r.tag("Bundle-Version")
	return f == "binary" && v == "2.0.0"
}

func (r *record) contentType() string {
	if v, ok := r.tagFold("Content-Type"); ok && v != "" {
		return v
	}
	return "application/octet-stream"
}

type blockRec struct {
	ID        string   `json:"id"`
	Height    int64    `json:"height"`
	Timestamp int64    `json:"timestamp"` // seconds
	Previous  string   `json:"previous"`
	Txs       []string `json:"txs"`
}

type upload struct {
	Received int64    `json:"received"`
	Txs      []string `json:"txs"`
}

func u64(v uint64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], v)
	return b[:]
}

func orderKey(height, seq uint64) []byte {
	k := make([]byte, 16)
	binary.BigEndian.PutUint64(k, height)
	binary.BigEndian.PutUint64(k[8:], seq)
	return k
}

func orderKeyHeight(k []byte) uint64 { return binary.BigEndian.Uint64(k[:8]) }

// lp is a length-prefixed byte string, so that prefixes of composite keys are unambiguous.
func lp(b []byte) []byte {
	out := binary.AppendUvarint(make([]byte, 0, len(b)+2), uint64(len(b)))
	return append(out, b...)
}

// indexValue bounds index key sizes: long tag values are indexed by hash. The 0xff 0xfe prefix never starts
// a UTF-8 string, and every index hit is re-checked against the record anyway.
func indexValue(v []byte) []byte {
	if len(v) <= 256 {
		return v
	}
	h := sha512.Sum384(v)
	return append([]byte{0xff, 0xfe}, h[:]...)
}

func tagPrefix(name, value []byte) []byte {
	return append(lp(name), lp(indexValue(value))...)
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func unb64(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }

func getRecord(tx *bbolt.Tx, id string) (*record, error) {
	v := tx.Bucket(bTxs).Get([]byte(id))
	if v == nil {
		return nil, nil
	}
	r := new(record)
	if err := json.Unmarshal(v, r); err != nil {
		return nil, fmt.Errorf("decode record %s: %w", id, err)
	}
	return r, nil
}

func putRecord(tx *bbolt.Tx, r *record) error {
	v, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return tx.Bucket(bTxs).Put([]byte(r.ID), v)
}

type indexEntry struct {
	bucket []byte
	key    []byte
}

func indexEntries(r *record) []indexEntry {
	ok := r.orderKey()
	cat := func(p []byte) []byte { return append(p, ok...) }
	es := []indexEntry{
		{bOrder, ok},
		{bIdxOwner, cat(lp([]byte(r.OwnerAddr)))},
	}
	if r.Target != "" {
		es = append(es, indexEntry{bIdxRecipient, cat(lp([]byte(r.Target)))})
	}
	if r.BundledIn != "" {
		es = append(es, indexEntry{bIdxBundle, cat(lp([]byte(r.BundledIn)))})
	}
	seen := make(map[string]bool, len(r.Tags))
	for _, t := range r.Tags {
		p := tagPrefix(t.N, t.V)
		if seen[string(p)] {
			continue
		}
		seen[string(p)] = true
		es = append(es, indexEntry{bIdxTag, cat(p)})
	}
	return es
}

func indexRecord(tx *bbolt.Tx, r *record) error {
	for _, e := range indexEntries(r) {
		if err := tx.Bucket(e.bucket).Put(e.key, []byte(r.ID)); err != nil {
			return fmt.Errorf("index %s: %w", r.ID, err)
		}
	}
	if r.pending() {
		return tx.Bucket(bPending).Put(u64(r.Seq), []byte(r.ID))
	}
	return nil
}

func unindexRecord(tx *bbolt.Tx, r *record) error {
	for _, e := range indexEntries(r) {
		if err := tx.Bucket(e.bucket).Delete(e.key); err != nil {
			return err
		}
	}
	return tx.Bucket(bPending).Delete(u64(r.Seq))
}

// insertRecord assigns the next acceptance sequence number and stores and indexes r.
func insertRecord(tx *bbolt.Tx, r *record) error {
	seq, err := tx.Bucket(bTxs).NextSequence()
	if err != nil {
		return err
	}
	r.Seq = seq
	if r.Accepted == 0 {
		r.Accepted = time.Now().UnixMilli()
	}
	if err := putRecord(tx, r); err != nil {
		return err
	}
	return indexRecord(tx, r)
}

func getU64(b *bbolt.Bucket, k []byte) uint64 {
	v := b.Get(k)
	if len(v) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(v)
}

func currentHeight(tx *bbolt.Tx) int64 { return int64(getU64(tx.Bucket(bMeta), keyHeight)) }

func getBlock(tx *bbolt.Tx, height int64) (*blockRec, error) {
	if height < 0 {
		return nil, nil
	}
	v := tx.Bucket(bBlocks).Get(u64(uint64(height)))
	if v == nil {
		return nil, nil
	}
	b := new(blockRec)
	if err := json.Unmarshal(v, b); err != nil {
		return nil, fmt.Errorf("decode block %d: %w", height, err)
	}
	return b, nil
}

func getBlockByID(tx *bbolt.Tx, id string) (*blockRec, error) {
	v := tx.Bucket(bBlockIDs).Get([]byte(id))
	if len(v) != 8 {
		return nil, nil
	}
	return getBlock(tx, int64(binary.BigEndian.Uint64(v)))
}

// appendBlock creates the next block holding the given L1 transaction ids.
func appendBlock(tx *bbolt.Tx, txs []string) (*blockRec, error) {
	meta := tx.Bucket(bMeta)
	var prev *blockRec
	height := int64(0)
	if k, _ := tx.Bucket(bBlocks).Cursor().First(); k != nil {
		cur := currentHeight(tx)
		p, err := getBlock(tx, cur)
		if err != nil {
			return nil, err
		}
		if p == nil {
			return nil, fmt.Errorf("block %d missing", cur)
		}
		prev, height = p, cur+1
	}
	ts := time.Now().Unix()
	prevID := ""
	if prev != nil {
		prevID = prev.ID
		if ts < prev.Timestamp {
			ts = prev.Timestamp
		}
	}
	if txs == nil {
		txs = []string{}
	}
	h := sha512.New384()
	fmt.Fprintf(h, "aonode.embedded block\n%s\n%d\n%d\n", prevID, height, ts)
	for _, id := range txs {
		h.Write([]byte(id))
		h.Write([]byte{'\n'})
	}
	b := &blockRec{ID: b64(h.Sum(nil)), Height: height, Timestamp: ts, Previous: prevID, Txs: txs}
	v, err := json.Marshal(b)
	if err != nil {
		return nil, err
	}
	if err := tx.Bucket(bBlocks).Put(u64(uint64(height)), v); err != nil {
		return nil, err
	}
	if err := tx.Bucket(bBlockIDs).Put([]byte(b.ID), u64(uint64(height))); err != nil {
		return nil, err
	}
	return b, meta.Put(keyHeight, u64(uint64(height)))
}

// mine puts every pending transaction and item into a new block, then adds n-1 empty blocks.
func mine(tx *bbolt.Tx, n int) (*blockRec, error) {
	if n < 1 {
		n = 1
	}
	var ids []string
	c := tx.Bucket(bPending).Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		ids = append(ids, string(v))
	}
	recs := make([]*record, 0, len(ids))
	var l1 []string
	for _, id := range ids {
		r, err := getRecord(tx, id)
		if err != nil {
			return nil, err
		}
		if r == nil {
			continue
		}
		recs = append(recs, r)
		if r.Kind == kindTx {
			l1 = append(l1, r.ID)
		}
	}
	blk, err := appendBlock(tx, l1)
	if err != nil {
		return nil, err
	}
	for _, r := range recs {
		if err := unindexRecord(tx, r); err != nil {
			return nil, err
		}
		r.Height, r.BlockID = blk.Height, blk.ID
		if err := putRecord(tx, r); err != nil {
			return nil, err
		}
		if err := indexRecord(tx, r); err != nil {
			return nil, err
		}
	}
	// Reset the pending set (this also drops keys of records that vanished).
	if err := tx.DeleteBucket(bPending); err != nil && !errors.Is(err, berrors.ErrBucketNotFound) {
		return nil, err
	}
	if _, err := tx.CreateBucket(bPending); err != nil {
		return nil, err
	}
	last := blk
	for i := 1; i < n; i++ {
		if last, err = appendBlock(tx, nil); err != nil {
			return nil, err
		}
	}
	return last, nil
}

// payloadSlice returns the stored payload of r (valid for the life of tx only).
func payloadSlice(tx *bbolt.Tx, r *record) ([]byte, error) {
	if !r.DataReady {
		return nil, errNoData
	}
	if r.DataSize == 0 {
		return []byte{}, nil
	}
	blob := tx.Bucket(bData).Get([]byte(r.DataSrc))
	end := r.DataOff + r.DataSize
	if blob == nil || r.DataOff < 0 || end > int64(len(blob)) {
		return nil, fmt.Errorf("payload of %s: blob %q missing or short", r.ID, r.DataSrc)
	}
	return blob[r.DataOff:end], nil
}

var errNoData = errors.New("data not available")

func winstonToAR(w string) string {
	if w == "" {
		w = "0"
	}
	n, err := strconv.ParseUint(w, 10, 64)
	if err == nil {
		return fmt.Sprintf("%d.%012d", n/1e12, n%1e12)
	}
	// very large or odd values: plain string arithmetic on the decimal digits
	for len(w) < 13 {
		w = "0" + w
	}
	return w[:len(w)-12] + "." + w[len(w)-12:]
}
