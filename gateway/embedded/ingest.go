package embedded

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/everFinance/goar/types"
	"github.com/everFinance/goar/utils"

	"github.com/aonode/aonode/bundler/ans104"
	"go.etcd.io/bbolt"
)

const (
	maxChunkSize     = 256 * 1024
	maxInlineData    = 12 << 20 // like Arweave nodes: larger payloads must come as chunks
	maxBundleNesting = 4
)

// badInput is an error caused by the request (answered with 400).
type badInput struct{ msg string }

func (e *badInput) Error() string { return e.msg }

func badf(format string, a ...any) error { return &badInput{fmt.Sprintf(format, a...)} }

// isBadInput reports whether err was caused by invalid input (the HTTP layer answers 400).
func isBadInput(err error) bool {
	var b *badInput
	return errors.As(err, &b)
}

// safely runs f and turns a panic (goar's decoders index without bounds checks) into an error.
func safely(what string, f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%s: malformed input (%v)", what, r)
		}
	}()
	return f()
}

func decodeItem(raw []byte) (*types.BundleItem, error) {
	var it *types.BundleItem
	err := safely("decode data item", func() error {
		var err error
		// goar's result without its per-call Avro schema compilation (the gateway decodes every item of
		// every bundle the node posts).
		it, err = ans104.Decode(raw)
		return err
	})
	if err != nil {
		return nil, err
	}
	return it, nil
}

func verifyItem(it *types.BundleItem) error {
	return safely("verify data item", func() error { return ans104.Verify(it) })
}

// itemDataStart is the offset of the payload inside the item binary, as goar's decoder computes it.
func itemDataStart(it *types.BundleItem, raw []byte) (int, error) {
	meta, ok := types.SigConfigMap[it.SignatureType]
	if !ok {
		return 0, fmt.Errorf("unsupported signature type %d", it.SignatureType)
	}
	tagsBy, err := unb64(it.TagsBy)
	if err != nil {
		return 0, err
	}
	pos := 2 + meta.SigLength + meta.PubLength + 1
	if it.Target != "" {
		pos += 32
	}
	pos++
	if it.Anchor != "" {
		pos += 32
	}
	pos += 16 + len(tagsBy)
	if pos > len(raw) || len(raw)-pos != base64.RawURLEncoding.DecodedLen(len(it.Data)) {
		return 0, errors.New("item layout does not match its decoded fields")
	}
	return pos, nil
}

// itemRecord builds the record of a verified item. The caller sets the data location and the block.
func itemRecord(it *types.BundleItem, raw []byte) (*record, int, error) {
	start, err := itemDataStart(it, raw)
	if err != nil {
		return nil, 0, err
	}
	addr, err := itemOwnerAddr(it)
	if err != nil {
		return nil, 0, fmt.Errorf("owner address: %w", err)
	}
	tags := make([]rtag, len(it.Tags))
	for i, t := range it.Tags {
		tags[i] = rtag{N: []byte(t.Name), V: []byte(t.Value)}
	}
	return &record{
		ID: it.Id, Kind: kindItem, SigType: it.SignatureType, Anchor: it.Anchor, Signature: it.Signature,
		Owner: it.Owner, OwnerAddr: addr, Target: it.Target, Quantity: "0", Reward: "0", Tags: tags,
		DataSize: int64(len(raw) - start), Height: -1, DataReady: true,
	}, start, nil
}

// itemOwnerAddr is the address GraphQL shows and filters owners by: base64url(sha256(public key)) for
// Arweave, ed25519 and Solana keys, as Arweave gateways index them (goar's ItemSignerAddr gives the base58 key
// for ed25519, which no gateway or AO unit uses); an Ethereum signer's 0x address.
func itemOwnerAddr(it *types.BundleItem) (string, error) {
	if it.SignatureType == types.EthereumSignType {
		return utils.ItemSignerAddr(*it)
	}
	return utils.OwnerToAddress(it.Owner)
}

// le256 reads a 32-byte little-endian ANS-104 length; ok is false when it does not fit an int.
func le256(b []byte) (int, bool) {
	for _, x := range b[8:32] {
		if x != 0 {
			return 0, false
		}
	}
	v := binary.LittleEndian.Uint64(b[:8])
	if v > 1<<50 {
		return 0, false
	}
	return int(v), true
}

// unbundle indexes the verified items of an ANS-104 bundle whose bytes are payload (the payload of parent).
// Invalid items are skipped with a log line; an item id already known keeps its first record. trusted skips
// the signature check of the bundle's own items (their submitter vouched for them, see SubmitOptions); they
// are still decoded and matched against the header, and the items of bundles nested in them are verified.
func (g *Gateway) unbundle(tx *bbolt.Tx, parent *record, payload []byte, depth int, trusted bool) (int, error) {
	log := g.log.With("bundle", parent.ID)
	if len(payload) < 32 {
		log.Warn("bundle too short to decode", "size", len(payload))
		return 0, nil
	}
	n, ok := le256(payload[:32])
	if !ok || n > (len(payload)-32)/64 {
		log.Warn("bundle header is invalid", "size", len(payload))
		return 0, nil
	}
	off := 32 + n*64
	indexed := 0
	for i := 0; i < n; i++ {
		h := payload[32+i*64 : 32+(i+1)*64]
		size, ok := le256(h[:32])
		if !ok || size > len(payload)-off {
			log.Warn("bundle truncated; stopping", "item", i, "of", n)
			break
		}
		start := off
		raw := payload[start : start+size]
		off += size
		wantID := b64(h[32:])
		it, err := decodeItem(raw)
		if err == nil && it.Id != wantID {
			err = fmt.Errorf("header id %s does not match item id %s", wantID, it.Id)
		}
		if err == nil && !trusted {
			err = verifyItem(it)
		}
		if err != nil {
			log.Warn("skipping invalid bundle item", "index", i, "id", wantID, "err", err)
			continue
		}
		if existing, err := getRecord(tx, it.Id); err != nil {
			return indexed, err
		} else if existing != nil {
			if existing.Kind == kindItem && existing.BundledIn == "" {
				// posted on its own first (bundler style), now seen in a bundle: record the bundle, as
				// arweave.net does once a bundler's bundle is indexed
				if err := unindexRecord(tx, existing); err != nil {
					return indexed, err
				}
				existing.BundledIn = parent.ID
				if err := putRecord(tx, existing); err != nil {
					return indexed, err
				}
				if err := indexRecord(tx, existing); err != nil {
					return indexed, err
				}
				log.Debug("standalone item now bundled", "id", it.Id)
			} else {
				log.Debug("bundle item already indexed; keeping the first copy", "id", it.Id, "bundledIn", existing.BundledIn)
			}
			continue
		}
		rec, dataStart, err := itemRecord(it, raw)
		if err != nil {
			log.Warn("skipping bundle item", "index", i, "id", it.Id, "err", err)
			continue
		}
		rec.BundledIn = parent.ID
		rec.DataSrc = parent.DataSrc
		rec.DataOff = parent.DataOff + int64(start+dataStart)
		rec.Height, rec.BlockID = parent.Height, parent.BlockID
		if err := insertRecord(tx, rec); err != nil {
			return indexed, err
		}
		indexed++
		if rec.isBundle() {
			if depth >= maxBundleNesting {
				log.Warn("nested bundle too deep; not unbundled", "id", rec.ID)
				continue
			}
			k, err := g.unbundle(tx, rec, raw[dataStart:], depth+1, false)
			if err != nil {
				return indexed, err
			}
			indexed += k
		}
	}
	log.Debug("unbundled", "items", indexed, "declared", n, "depth", depth)
	return indexed, nil
}

// postedItem is the answer to an item POST.
type postedItem struct {
	ID        string `json:"id"`
	Timestamp int64  `json:"timestamp"`
	Owner     string `json:"owner"`
}

// PostItem verifies one signed ANS-104 data item and indexes it (as arweave.net indexes an item a bundler
// accepted). Posting an item that is already indexed succeeds and returns its id. A nested bundle item
// (Bundle-Format=binary, Bundle-Version=2.0.0) also has its inner items indexed.
func (g *Gateway) PostItem(ctx context.Context, raw []byte) (string, error) {
	p, err := g.postItem(ctx, raw)
	if err != nil {
		return "", err
	}
	return p.ID, nil
}

func (g *Gateway) postItem(ctx context.Context, raw []byte) (*postedItem, error) {
	if len(raw) == 0 {
		return nil, badf("empty data item")
	}
	it, err := decodeItem(raw)
	if err != nil {
		return nil, &badInput{err.Error()}
	}
	if err := verifyItem(it); err != nil {
		return nil, badf("invalid data item signature: %v", err)
	}
	rec, dataStart, err := itemRecord(it, raw)
	if err != nil {
		return nil, &badInput{err.Error()}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out *postedItem
	err = g.db.Update(func(tx *bbolt.Tx) error {
		existing, err := getRecord(tx, rec.ID)
		if err != nil {
			return err
		}
		if existing != nil {
			out = &postedItem{ID: existing.ID, Timestamp: existing.Accepted, Owner: existing.OwnerAddr}
			return nil
		}
		rec.DataSrc, rec.DataOff = rec.ID, int64(dataStart)
		if err := tx.Bucket(bData).Put([]byte(rec.ID), bytes.Clone(raw)); err != nil {
			return err
		}
		if err := insertRecord(tx, rec); err != nil {
			return err
		}
		if rec.isBundle() {
			if _, err := g.unbundle(tx, rec, raw[dataStart:], 1, false); err != nil {
				return err
			}
		}
		if g.opts.autoMine() {
			if _, err := mine(tx, 1); err != nil {
				return err
			}
		}
		out = &postedItem{ID: rec.ID, Timestamp: rec.Accepted, Owner: rec.OwnerAddr}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("index item %s: %w", rec.ID, err)
	}
	g.log.Debug("item accepted", "id", out.ID)
	return out, nil
}

func rootKey(root []byte, size int64) []byte {
	return append(bytes.Clone(root), u64(uint64(size))...)
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// checkTx validates an L1 transaction posted as JSON (with its inline data, if any) and returns its decoded
// tags and payload and its data size.
func checkTx(t *types.Transaction) ([]rtag, []byte, int64, error) {
	if err := checkTxHeader(t); err != nil {
		return nil, nil, 0, err
	}
	data, err := unb64(t.Data)
	if err != nil {
		return nil, nil, 0, badf("invalid data encoding")
	}
	if len(data) > maxInlineData {
		return nil, nil, 0, badf("inline data larger than %d bytes; upload it as chunks", maxInlineData)
	}
	tags, size, err := checkTxData(t, data)
	if err != nil {
		return nil, nil, 0, err
	}
	if err := verifyTx(*t); err != nil {
		return nil, nil, 0, err
	}
	return tags, data, size, nil
}

// checkTxHeader validates the fields of an L1 transaction that do not depend on its data.
func checkTxHeader(t *types.Transaction) error {
	if t.Format != 1 && t.Format != 2 {
		return badf("unsupported format %d", t.Format)
	}
	if id, err := unb64(t.ID); err != nil || len(id) != 32 {
		return badf("invalid id")
	}
	if sig, err := unb64(t.Signature); err != nil || len(sig) == 0 {
		return badf("invalid signature encoding")
	}
	if owner, err := unb64(t.Owner); err != nil || len(owner) < 64 {
		return badf("invalid owner")
	}
	if t.Target != "" {
		if tg, err := unb64(t.Target); err != nil || len(tg) != 32 {
			return badf("invalid target")
		}
	}
	if _, err := unb64(t.LastTx); err != nil {
		return badf("invalid last_tx")
	}
	if t.Quantity != "" && !isDigits(t.Quantity) {
		return badf("invalid quantity")
	}
	if t.Reward != "" && !isDigits(t.Reward) {
		return badf("invalid reward")
	}
	return nil
}

// checkTxData validates data_size and data_root against the payload held (none when the data comes as
// chunks) and decodes the tags.
func checkTxData(t *types.Transaction, data []byte) ([]rtag, int64, error) {
	var size int64
	var err error
	switch {
	case t.DataSize == "" && t.Format == 1:
		size = int64(len(data))
	case isDigits(t.DataSize):
		size, err = strconv.ParseInt(t.DataSize, 10, 64)
		if err != nil || size < 0 {
			return nil, 0, badf("invalid data_size")
		}
	default:
		return nil, 0, badf("invalid data_size")
	}
	if t.Format == 1 {
		size = int64(len(data))
	}
	if len(data) > 0 && int64(len(data)) != size {
		return nil, 0, badf("data_size %d does not match the data (%d bytes)", size, len(data))
	}
	if t.Format == 2 && size > 0 {
		if root, err := unb64(t.DataRoot); err != nil || len(root) != 32 {
			return nil, 0, badf("invalid data_root")
		}
	}
	tags := make([]rtag, 0, len(t.Tags))
	for i, tg := range t.Tags {
		n, err1 := unb64(tg.Name)
		v, err2 := unb64(tg.Value)
		if err1 != nil || err2 != nil {
			return nil, 0, badf("tag %d is not base64url", i)
		}
		if len(n) == 0 {
			return nil, 0, badf("tag %d has an empty name", i)
		}
		tags = append(tags, rtag{N: n, V: v})
	}
	return tags, size, nil
}

// verifyTx checks the id and signature of t. A format-2 transaction's data root is computed from its inline
// data unless t.Chunks already holds the chunks of the payload.
func verifyTx(t types.Transaction) error {
	if err := safely("verify transaction", func() error { return utils.VerifyTransaction(t) }); err != nil {
		return badf("invalid transaction signature: %v", err)
	}
	return nil
}

// SubmitOptions tune Submit.
type SubmitOptions struct {
	// TrustedItems is the caller vouching for the items of a bundle transaction: it verified or signed each
	// one itself (the node's upload queue holds nothing else). They are still decoded and matched against the
	// bundle header, but their signatures are not verified again. Items of bundles nested in them are.
	TrustedItems bool
}

// Submit stores a signed format-2 L1 transaction with its whole payload in one step, as POST /tx followed by
// every chunk of data would, and unbundles it at once when it is a bundle. t.Data must be empty: the payload
// is data. The signature and the data root are checked as on the HTTP routes; a transaction failing them is
// refused with an error and nothing is stored. dup is true when the transaction was already known (it is
// then left as it was).
func (g *Gateway) Submit(ctx context.Context, t *types.Transaction, data []byte, o SubmitOptions) (dup bool, err error) {
	g.submits.Add(1)
	dup, err = g.submit(ctx, t, data, o)
	if err != nil {
		return false, fmt.Errorf("embedded gateway: submit tx %s: %w", t.ID, err)
	}
	return dup, nil
}

func (g *Gateway) submit(ctx context.Context, t *types.Transaction, data []byte, o SubmitOptions) (bool, error) {
	if t.Format != 2 {
		return false, badf("unsupported format %d (Submit takes format 2)", t.Format)
	}
	if t.Data != "" {
		return false, badf("inline data given: pass the payload as data")
	}
	if err := checkTxHeader(t); err != nil {
		return false, err
	}
	tags, size, err := checkTxData(t, data)
	if err != nil {
		return false, err
	}
	if int64(len(data)) != size {
		return false, badf("data_size %d does not match the data (%d bytes)", size, len(data))
	}
	vt := *t
	vt.DataReader = nil
	vt.Chunks = nil
	if size > 0 {
		// The root of the data itself, so a caller's chunks or root are never taken on trust; the signature
		// check below then uses these chunks instead of computing them again.
		chunks, err := utils.GenerateChunks(data)
		if err != nil {
			return false, fmt.Errorf("chunk data: %w", err)
		}
		if b64(chunks.DataRoot) != t.DataRoot {
			return false, badf("data_root does not match the data")
		}
		vt.Chunks = &chunks
	}
	if err := verifyTx(vt); err != nil {
		return false, err
	}
	return g.storeTx(ctx, t, tags, data, size, o.TrustedItems)
}

// acceptTx stores a verified L1 transaction. dup is true when it was already known.
func (g *Gateway) acceptTx(ctx context.Context, t *types.Transaction) (dup bool, err error) {
	tags, data, size, err := checkTx(t)
	if err != nil {
		return false, err
	}
	return g.storeTx(ctx, t, tags, data, size, false)
}

// storeTx stores a checked L1 transaction with its data when given (else it waits for chunks) and unbundles a
// complete bundle; trusted is SubmitOptions.TrustedItems. dup is true when the transaction was already known.
func (g *Gateway) storeTx(ctx context.Context, t *types.Transaction, tags []rtag, data []byte, size int64, trusted bool) (dup bool, err error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	addr, err := utils.OwnerToAddress(t.Owner)
	if err != nil {
		return false, badf("invalid owner")
	}
	quantity, reward := t.Quantity, t.Reward
	if quantity == "" {
		quantity = "0"
	}
	if reward == "" {
		reward = "0"
	}
	rec := &record{
		ID: t.ID, Kind: kindTx, Format: t.Format, Anchor: t.LastTx, Signature: t.Signature, Owner: t.Owner,
		OwnerAddr: addr, Target: t.Target, Quantity: quantity, Reward: reward, Tags: tags, DataSize: size,
		DataRoot: t.DataRoot, Height: -1,
	}
	if t.Format == 1 {
		rec.DataRoot = ""
	}
	err = g.db.Update(func(tx *bbolt.Tx) error {
		existing, err := getRecord(tx, rec.ID)
		if err != nil {
			return err
		}
		if existing != nil {
			dup = true
			return nil
		}
		var payload []byte
		switch {
		case size == 0:
			rec.DataReady = true
		case len(data) > 0:
			rec.DataReady, rec.DataSrc, payload = true, rec.ID, data
			if err := tx.Bucket(bData).Put([]byte(rec.ID), data); err != nil {
				return err
			}
			root, _ := unb64(rec.DataRoot)
			if len(root) == 32 {
				if tx.Bucket(bRoots).Get(rootKey(root, size)) == nil {
					if err := tx.Bucket(bRoots).Put(rootKey(root, size), []byte(rec.ID)); err != nil {
						return err
					}
				}
			}
		default:
			root, _ := unb64(rec.DataRoot)
			rk := rootKey(root, size)
			if holder := tx.Bucket(bRoots).Get(rk); holder != nil {
				// the same data was uploaded before (by another transaction with the same data_root)
				h, err := getRecord(tx, string(holder))
				if err != nil {
					return err
				}
				if h != nil && h.DataReady {
					rec.DataReady, rec.DataSrc, rec.DataOff = true, h.DataSrc, h.DataOff
					p, err := payloadSlice(tx, h)
					if err != nil {
						return err
					}
					payload = bytes.Clone(p)
				}
			}
			if !rec.DataReady {
				up := upload{}
				if v := tx.Bucket(bUploads).Get(rk); v != nil {
					if err := json.Unmarshal(v, &up); err != nil {
						return err
					}
				}
				up.Txs = append(up.Txs, rec.ID)
				v, _ := json.Marshal(up)
				if err := tx.Bucket(bUploads).Put(rk, v); err != nil {
					return err
				}
			}
		}
		if size > 0 {
			meta := tx.Bucket(bMeta)
			start := getU64(meta, keyWeave)
			rec.WeaveEnd = int64(start) + size
			if err := meta.Put(keyWeave, u64(uint64(rec.WeaveEnd))); err != nil {
				return err
			}
			if err := tx.Bucket(bWeave).Put(u64(uint64(rec.WeaveEnd-1)), []byte(rec.ID)); err != nil {
				return err
			}
		}
		if err := insertRecord(tx, rec); err != nil {
			return err
		}
		if g.opts.autoMine() {
			// Mine first so that the items of an inline bundle inherit the block.
			if _, err := mine(tx, 1); err != nil {
				return err
			}
			rec.Height = currentHeight(tx)
			blk, err := getBlock(tx, rec.Height)
			if err != nil || blk == nil {
				return fmt.Errorf("block %d missing: %v", rec.Height, err)
			}
			rec.BlockID = blk.ID
		}
		if rec.DataReady && rec.isBundle() && len(payload) > 0 {
			if _, err := g.unbundle(tx, rec, payload, 0, trusted); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("store tx %s: %w", rec.ID, err)
	}
	if !dup {
		g.log.Debug("transaction accepted", "id", rec.ID, "data_size", size, "bundle", rec.isBundle())
	}
	return dup, nil
}

// acceptChunk stores one chunk (placed by its Merkle proof, not by arrival order) and, when the data of a
// data_root is complete, assembles it and unbundles the waiting transactions.
func (g *Gateway) acceptChunk(ctx context.Context, c *types.GetChunk) error {
	root, err := unb64(c.DataRoot)
	if err != nil || len(root) != 32 {
		return badf("invalid data_root")
	}
	size, err := strconv.ParseInt(c.DataSize, 10, 64)
	if err != nil || size <= 0 {
		return badf("invalid data_size")
	}
	offset, err := strconv.ParseInt(c.Offset, 10, 64)
	if err != nil || offset < 0 {
		return badf("invalid offset")
	}
	if offset >= size {
		return badf("offset_too_big")
	}
	path, err := unb64(c.DataPath)
	if err != nil {
		return badf("invalid data_path")
	}
	if len(path) > maxChunkSize {
		return badf("data_path_too_big")
	}
	chunk, err := unb64(c.Chunk)
	if err != nil {
		return badf("invalid chunk")
	}
	if len(chunk) == 0 || len(chunk) > maxChunkSize {
		return badf("chunk_too_big")
	}
	if len(path) < 64 || (len(path)-64)%96 != 0 {
		return badf("invalid_proof")
	}
	var res *utils.ValidateResult
	var ok bool
	if err := safely("validate path", func() error {
		res, ok = utils.ValidatePath(root, int(offset), 0, int(size), path)
		return nil
	}); err != nil || !ok || res == nil {
		return badf("invalid_proof")
	}
	leaf := path[len(path)-64 : len(path)-32]
	sum := sha256.Sum256(chunk)
	if res.RightBound-res.LeftBound != len(chunk) || !bytes.Equal(sum[:], leaf) {
		return badf("invalid_proof")
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	rk := rootKey(root, size)
	return g.db.Update(func(tx *bbolt.Tx) error {
		if tx.Bucket(bRoots).Get(rk) != nil {
			return nil // data already complete
		}
		v := tx.Bucket(bUploads).Get(rk)
		if v == nil {
			return badf("data_root_not_found")
		}
		var up upload
		if err := json.Unmarshal(v, &up); err != nil {
			return err
		}
		ck := append(bytes.Clone(rk), u64(uint64(res.LeftBound))...)
		chunks := tx.Bucket(bChunks)
		if chunks.Get(ck) != nil {
			return nil
		}
		if err := chunks.Put(ck, chunk); err != nil {
			return err
		}
		up.Received += int64(len(chunk))
		if up.Received < size {
			nv, _ := json.Marshal(up)
			return tx.Bucket(bUploads).Put(rk, nv)
		}
		return g.completeUpload(tx, rk, size, &up)
	})
}

func (g *Gateway) completeUpload(tx *bbolt.Tx, rk []byte, size int64, up *upload) error {
	chunks := tx.Bucket(bChunks)
	buf := make([]byte, 0, size)
	var keys [][]byte
	c := chunks.Cursor()
	for k, v := c.Seek(rk); k != nil && bytes.HasPrefix(k, rk); k, v = c.Next() {
		start := binary.BigEndian.Uint64(k[len(rk):])
		if start != uint64(len(buf)) {
			return badf("invalid_proof: chunks do not tile the data (gap or overlap at %d)", len(buf))
		}
		buf = append(buf, v...)
		keys = append(keys, bytes.Clone(k))
	}
	if int64(len(buf)) != size {
		return badf("invalid_proof: assembled %d of %d bytes", len(buf), size)
	}
	for _, k := range keys {
		if err := chunks.Delete(k); err != nil {
			return err
		}
	}
	if err := tx.Bucket(bUploads).Delete(rk); err != nil {
		return err
	}
	if len(up.Txs) == 0 {
		return nil
	}
	holder := up.Txs[0]
	if err := tx.Bucket(bData).Put([]byte(holder), buf); err != nil {
		return err
	}
	if err := tx.Bucket(bRoots).Put(rk, []byte(holder)); err != nil {
		return err
	}
	for _, id := range up.Txs {
		rec, err := getRecord(tx, id)
		if err != nil {
			return err
		}
		if rec == nil {
			continue
		}
		rec.DataReady, rec.DataSrc, rec.DataOff = true, holder, 0
		if err := putRecord(tx, rec); err != nil {
			return err
		}
		g.log.Debug("transaction data complete", "id", id, "size", size)
		if rec.isBundle() {
			if _, err := g.unbundle(tx, rec, buf, 0, false); err != nil {
				return err
			}
		}
	}
	return nil
}

// mineBlocks creates n blocks (the first holds everything pending) and returns the new height.
func (g *Gateway) mineBlocks(n int) error {
	return g.db.Update(func(tx *bbolt.Tx) error {
		_, err := mine(tx, n)
		return err
	})
}
