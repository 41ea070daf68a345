package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aonode/aonode/bundler"
	"github.com/aonode/aonode/gateway"
	"github.com/aonode/aonode/gateway/embedded"
	"github.com/aonode/aonode/node/config"
	"github.com/aonode/aonode/node/cu"
	"github.com/aonode/aonode/node/store"
	"github.com/aonode/aonode/node/su"
	"github.com/everFinance/goar/types"
)

// heights caches the gateway's block height so scheduling never waits on the network.
type heights struct {
	gw   *gateway.Client
	db   *store.DB // the last height seen survives restarts, so a node started during an outage still schedules
	mu   sync.Mutex
	h    int64
	at   time.Time
	ttl  time.Duration
	seen bool
}

func (h *heights) Height(ctx context.Context) (int64, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.seen && time.Since(h.at) < h.ttl {
		return h.h, nil
	}
	cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	info, err := h.gw.Info(cctx)
	if err != nil {
		if !h.seen && h.db != nil {
			if v, merr := h.db.Meta(ctx, store.GatewayHeight()); merr == nil {
				if n, perr := strconv.ParseInt(v, 10, 64); perr == nil {
					h.h, h.seen = n, true
				}
			}
		}
		if h.seen {
			// A gateway outage must not stop scheduling: keep the last height (it only grows).
			h.at = time.Now() // and do not ask again on every message
			return h.h, nil
		}
		return 0, fmt.Errorf("block height: %w", err)
	}
	if info.Height < h.h {
		info.Height = h.h // a gateway behind the last one seen must not move assignments back in time
	}
	if h.db != nil && (!h.seen || info.Height != h.h) {
		if err := h.db.SetMeta(ctx, store.GatewayHeight(), strconv.FormatInt(info.Height, 10)); err != nil {
			return 0, err
		}
	}
	h.h, h.at, h.seen = info.Height, time.Now(), true
	return h.h, nil
}

// chainItems resolves ids this node does not hold from the gateway: assigned on-chain messages and modules.
type chainItems struct {
	gw *gateway.Client
	db *store.DB
}

func (c *chainItems) Fetch(ctx context.Context, id string) (*bundler.Item, error) {
	if raw, err := c.db.Item(ctx, id); err == nil {
		return bundler.ParseStored(raw) // verified when it was stored
	}
	tx, err := c.gw.Tx(ctx, id)
	if err != nil {
		return nil, err
	}
	data, _, err := c.gw.Data(ctx, id)
	if err != nil {
		return nil, err
	}
	tags := make([]bundler.Tag, len(tx.Tags))
	for i, t := range tx.Tags {
		tags[i] = bundler.Tag{Name: t.Name, Value: t.Value}
	}
	return &bundler.Item{ID: tx.ID, Signature: tx.Signature, Owner: tx.Owner.Key, Target: tx.Recipient, Anchor: tx.Anchor, Tags: tags, Data: data, SignatureType: sigTypeOf(tx.Owner.Key)}, nil
}

func (c *chainItems) Module(ctx context.Context, id string) (*bundler.Item, error) {
	if raw, err := c.db.Item(ctx, id); err == nil {
		return bundler.ParseStored(raw) // verified when it was stored
	}
	tx, err := c.gw.Tx(ctx, id)
	if err != nil {
		return nil, err
	}
	tags := make([]bundler.Tag, len(tx.Tags))
	for i, t := range tx.Tags {
		tags[i] = bundler.Tag{Name: t.Name, Value: t.Value}
	}
	if v, _ := bundler.FirstTag(tags, "Type"); v != "Module" {
		return nil, fmt.Errorf("%w: %s has Type %q", errNotModule, id, v)
	}
	return &bundler.Item{ID: tx.ID, Owner: tx.Owner.Key, Tags: tags, SignatureType: sigTypeOf(tx.Owner.Key)}, nil
}

// sigTypeOf is the signature type a gateway's owner key has (gateways do not serve the type): its owner
// address, the item's From, depends on it. An ed25519 and a Solana key are addressed alike.
func sigTypeOf(owner string) int {
	if ts := bundler.SigTypesForOwner(owner); len(ts) > 0 {
		return ts[0]
	}
	return bundler.SigArweave
}

var errNotModule = errors.New("not a module")

// moduleCheck refuses a spawn whose Module is not a module this node's CU runs (held here, or on the gateway),
// so a process that could never be evaluated is not scheduled.
func moduleCheck(items *chainItems, c *cu.Service) su.ModuleCheck {
	return func(ctx context.Context, id string) error {
		if !isID(id) {
			return &su.Error{Status: http.StatusBadRequest, Msg: fmt.Sprintf("Module %q is not a 43-character base64url id", id)}
		}
		mod, err := items.Module(ctx, id)
		switch {
		case errors.Is(err, gateway.ErrNotFound):
			return &su.Error{Status: http.StatusBadRequest, Msg: fmt.Sprintf("module %s not found on this node or its gateway", id)}
		case errors.Is(err, errNotModule):
			return &su.Error{Status: http.StatusUnprocessableEntity, Msg: fmt.Sprintf("module %s: %v", id, err)}
		case err != nil:
			// The gateway could not answer: the module may well exist, so this is worth retrying.
			return &su.Error{Status: http.StatusServiceUnavailable, Msg: fmt.Sprintf("module %s could not be looked up: %v", id, err)}
		}
		if typ, _ := mod.Tag("Type"); typ != "Module" {
			return &su.Error{Status: http.StatusUnprocessableEntity, Msg: fmt.Sprintf("module %s: not a module (Type %q)", id, typ)}
		}
		if err := c.CheckModule(mod); err != nil {
			return &su.Error{Status: http.StatusUnprocessableEntity, Msg: err.Error()}
		}
		return nil
	}
}

// queue adapts the store's upload queue to the bundler worker.
type queue struct{ db *store.DB }

func (q queue) Peek(ctx context.Context, max int) (bundler.Peek, error) {
	n, size, oldest, err := q.db.PeekUploads(ctx, max)
	return bundler.Peek{Items: n, Bytes: size, Oldest: time.UnixMilli(oldest)}, err
}

func (q queue) Next(ctx context.Context, max int) ([]bundler.Pending, error) {
	ups, raws, err := q.db.PendingUploads(ctx, max)
	if err != nil {
		return nil, err
	}
	out := make([]bundler.Pending, len(ups))
	for i, u := range ups {
		out[i] = bundler.Pending{Key: u.Seq, Raw: raws[i], Queued: time.UnixMilli(u.Queued)}
	}
	return out, nil
}

func (q queue) Done(ctx context.Context, keys []uint64, ref string, err error) error {
	return q.db.MarkUploads(ctx, keys, ref, err)
}

func (q queue) Posted(ctx context.Context, max int) ([]bundler.Posted, error) {
	ups, err := q.db.PostedUploads(ctx, max)
	if err != nil {
		return nil, err
	}
	var out []bundler.Posted
	at := map[string]int{}
	for _, u := range ups {
		i, ok := at[u.BundleID]
		if !ok {
			i = len(out)
			at[u.BundleID] = i
			out = append(out, bundler.Posted{Ref: u.BundleID, At: time.UnixMilli(u.Posted)})
		}
		out[i].Keys = append(out[i].Keys, u.Seq)
	}
	return out, nil
}

func (q queue) Confirmed(ctx context.Context, keys []uint64, height int64) error {
	return q.db.ConfirmUploads(ctx, keys, height)
}

func (q queue) Requeue(ctx context.Context, keys []uint64, reason string) error {
	return q.db.RequeueUploads(ctx, keys, reason)
}

// itemConfirmer confirms items posted to a bundler service by asking the gateway's GraphQL for them: a bundler
// has no common status API, and the gateway is where recovery will look anyway.
type itemConfirmer struct{ gw *gateway.Client }

func (c itemConfirmer) Confirm(ctx context.Context, ref string) (bundler.Status, error) {
	tx, err := c.gw.Tx(ctx, ref)
	if errors.Is(err, gateway.ErrNotFound) {
		return bundler.Status{State: bundler.StateUnknown}, nil
	}
	if err != nil {
		return bundler.Status{}, err
	}
	if tx.Block == nil {
		return bundler.Status{State: bundler.StatePending}, nil
	}
	return bundler.Status{State: bundler.StateConfirmed, Height: tx.Block.Height}, nil
}

// autoMine asks arlocal for a block every interval (local development: arlocal has no miner of its own).
func autoMine(ctx context.Context, url string, every time.Duration, log *slog.Logger) {
	httpc := &http.Client{Timeout: 30 * time.Second}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(url, "/")+"/mine", nil)
		if err != nil {
			log.Error("auto-mine", "err", err)
			return
		}
		res, err := httpc.Do(req)
		if err != nil {
			log.Debug("auto-mine: arlocal not reachable", "err", err)
			continue
		}
		res.Body.Close()
		// A /mine racing arlocal's background unbundling answers 404; the next tick tries again.
		log.Debug("auto-mine", "status", res.StatusCode)
	}
}

// embeddedSubmitter is the node's embedded gateway as the upload worker's in-process gateway.
type embeddedSubmitter struct{ g *embedded.Gateway }

func (s embeddedSubmitter) Anchor(context.Context) (string, error) { return s.g.Anchor() }

func (s embeddedSubmitter) Price(_ context.Context, size int) (int64, error) {
	p := s.g.Price(int64(size))
	if !p.IsInt64() {
		return 0, fmt.Errorf("price of %d bytes out of range: %s", size, p)
	}
	return p.Int64(), nil
}

func (s embeddedSubmitter) Submit(ctx context.Context, tx *types.Transaction, data []byte, trustedItems bool) (bool, error) {
	return s.g.Submit(ctx, tx, data, embedded.SubmitOptions{TrustedItems: trustedItems})
}

func (s embeddedSubmitter) Status(_ context.Context, id string) (bundler.Status, error) {
	st, err := s.g.TxStatus(id)
	switch {
	case err != nil:
		return bundler.Status{}, err
	case !st.Known:
		return bundler.Status{State: bundler.StateUnknown}, nil
	case st.BlockID == "":
		return bundler.Status{State: bundler.StatePending}, nil
	}
	return bundler.Status{State: bundler.StateConfirmed, Height: st.Height}, nil
}

// urlIsEmbedded reports whether the gateway URL the node is configured with is its own embedded gateway: the
// listen port on a loopback host, or on the host it listens on. Any other URL (a proxy in front of it, say)
// keeps the HTTP upload, which works with every gateway.
func urlIsEmbedded(c config.GatewayConfig) bool {
	u, err := url.Parse(c.URL)
	if err != nil || u.Port() == "" {
		return false
	}
	lh, lp, err := net.SplitHostPort(c.Listen)
	if err != nil || lp != u.Port() {
		return false
	}
	h := u.Hostname()
	if h == "localhost" || h == lh {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}
