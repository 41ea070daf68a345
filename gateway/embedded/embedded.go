// Package embedded is a small, durable, in-process Arweave gateway: enough of arweave.net / arlocal for
// everything AO needs (L1 transactions with chunked uploads, ANS-104 bundle indexing, bundler-style item
// posts, raw data by id, and the standard GraphQL schema), stored in one bbolt file.
//
// It fixes arlocal's known problems instead of copying them: chunks are placed by their Merkle proof (so
// concurrent uploads work), every bundle item is verified, tag filters work with any UTF-8 value, item anchors
// and bundledIn are kept, and the order within a block is the acceptance order.
package embedded

import (
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	graphql "github.com/graph-gophers/graphql-go"
	"go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// Network is the network name reported by /info.
const Network = "aonode.embedded"

// Options configure a Gateway. The zero value is the default.
type Options struct {
	// ManualMine keeps accepted transactions and items pending (block: null, /tx/{id}/status 202) until
	// GET /mine, like arlocal. By default every accepted transaction or item is put into a new block at once.
	ManualMine bool
	// Logger receives the gateway's logs (default: slog.Default()).
	Logger *slog.Logger
	// MaxBodyBytes bounds request bodies (default 64 MiB).
	MaxBodyBytes int64
	// NoSync skips fsync on commit (faster, but the last writes can be lost on a crash). For tests.
	NoSync bool
}

func (o Options) autoMine() bool { return !o.ManualMine }

// Gateway is an embedded Arweave gateway backed by a bbolt file.
type Gateway struct {
	db     *bbolt.DB
	opts   Options
	log    *slog.Logger
	schema *graphql.Schema

	once       sync.Once
	handler    http.Handler
	chunkCache chunkCache

	chunks, submits atomic.Int64 // Stats
}

// Open opens (or creates) the gateway database at path. Everything the gateway accepted survives a restart.
func Open(path string, opts Options) (*Gateway, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = 64 << 20
	}
	// As the node's store: the map is reserved at 1 GiB (address space, not memory), so the file grows without
	// bbolt remapping it, which copies every node a write transaction holds out of the old map first (1.2% of
	// the CPU under load, in a profile of the fifty-process benchmark).
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: 5 * time.Second, NoSync: opts.NoSync, InitialMmapSize: 1 << 30})
	if err != nil {
		return nil, fmt.Errorf("embedded gateway: open %s: %w", path, err)
	}
	g := &Gateway{db: db, opts: opts, log: opts.Logger}
	err = db.Update(func(tx *bbolt.Tx) error {
		for _, b := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		meta := tx.Bucket(bMeta)
		if v := meta.Get(keySchema); v != nil && string(v) != "1" {
			return fmt.Errorf("unsupported schema version %q", v)
		}
		if err := meta.Put(keySchema, []byte("1")); err != nil {
			return err
		}
		if k, _ := tx.Bucket(bBlocks).Cursor().First(); k == nil {
			if _, err := appendBlock(tx, nil); err != nil { // genesis, height 0
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("embedded gateway: init %s: %w", path, err)
	}
	if g.schema, err = g.newSchema(); err != nil {
		db.Close()
		return nil, fmt.Errorf("embedded gateway: graphql schema: %w", err)
	}
	return g, nil
}

// Close closes the database. Requests still in flight fail.
func (g *Gateway) Close() error {
	if err := g.db.Close(); err != nil && !errors.Is(err, berrors.ErrDatabaseNotOpen) {
		return fmt.Errorf("embedded gateway: close: %w", err)
	}
	return nil
}

// Handler returns the HTTP API (a gin engine with recovery and no request logging).
func (g *Gateway) Handler() http.Handler {
	g.once.Do(func() { g.handler = g.routes() })
	return g.handler
}

// Height returns the current block height.
func (g *Gateway) Height() (int64, error) {
	var h int64
	err := g.db.View(func(tx *bbolt.Tx) error {
		h = currentHeight(tx)
		return nil
	})
	return h, err
}

// Mine creates n blocks; the first holds every pending transaction and item (only useful with ManualMine).
func (g *Gateway) Mine(n int) error {
	if err := g.mineBlocks(n); err != nil {
		return fmt.Errorf("embedded gateway: mine: %w", err)
	}
	return nil
}

// Data returns the payload of an L1 transaction or data item and its content type (from its Content-Type
// tag, default application/octet-stream). ok is false when the id is unknown or its data is not complete.
func (g *Gateway) Data(id string) (data []byte, contentType string, ok bool, err error) {
	err = g.db.View(func(tx *bbolt.Tx) error {
		rec, err := getRecord(tx, id)
		if err != nil || rec == nil {
			return err
		}
		p, err := payloadSlice(tx, rec)
		if errors.Is(err, errNoData) {
			return nil
		}
		if err != nil {
			return err
		}
		data, contentType, ok = append([]byte(nil), p...), rec.contentType(), true
		return nil
	})
	return data, contentType, ok, err
}

// Anchor is the last_tx a new transaction names (GET /tx_anchor): the id of the newest block.
func (g *Gateway) Anchor() (string, error) {
	info, err := g.infoData()
	if err != nil {
		return "", fmt.Errorf("embedded gateway: anchor: %w", err)
	}
	return info.Current, nil
}

// Price is the reward GET /price/{size} answers: a fake but positive fee (the gateway does not account fees).
func (g *Gateway) Price(size int64) *big.Int { return price(big.NewInt(size)) }

// TxStatus is what the gateway knows of an L1 transaction (GET /tx/{id}/status).
type TxStatus struct {
	Known   bool   // false: no L1 transaction with this id (data items are not L1 transactions)
	Height  int64  // -1 while pending
	BlockID string // "" while pending
}

// TxStatus returns the status of the L1 transaction id.
func (g *Gateway) TxStatus(id string) (TxStatus, error) {
	st := TxStatus{Height: -1}
	err := g.db.View(func(tx *bbolt.Tx) error {
		rec, err := getRecord(tx, id)
		if err != nil || rec == nil || rec.Kind != kindTx {
			return err
		}
		st.Known = true
		if !rec.pending() {
			st.Height, st.BlockID = rec.Height, rec.BlockID
		}
		return nil
	})
	if err != nil {
		return TxStatus{}, fmt.Errorf("embedded gateway: status of %s: %w", id, err)
	}
	return st, nil
}

// Stats counts how uploads reached the gateway since it was opened.
type Stats struct {
	Chunks  int64 // POST /chunk requests
	Submits int64 // Submit calls
}

// Stats returns the upload counts.
func (g *Gateway) Stats() Stats {
	return Stats{Chunks: g.chunks.Load(), Submits: g.submits.Load()}
}
