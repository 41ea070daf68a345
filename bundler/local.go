package bundler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/everFinance/goar"
	"github.com/everFinance/goar/types"
)

// TxSubmitter is an Arweave gateway in this process that takes signed L1 transactions directly (the node's
// embedded gateway, through an adapter in the node).
type TxSubmitter interface {
	// Anchor is the last_tx of a new transaction; Price the reward for size bytes of data.
	Anchor(ctx context.Context) (string, error)
	Price(ctx context.Context, size int) (int64, error)
	// Submit stores tx (Data empty, its chunks ignored) with its payload data; trustedItems vouches for the
	// signatures of the bundle's items. dup is true when the gateway already held tx.
	Submit(ctx context.Context, tx *types.Transaction, data []byte, trustedItems bool) (dup bool, err error)
	// Status is what the gateway knows of the L1 transaction id.
	Status(ctx context.Context, id string) (Status, error)
}

// LocalPoster builds bundles and their L1 transactions exactly as L1Poster does (same tags, wallet, reward
// and anchor sources) and hands them to a gateway in this process, instead of uploading them over HTTP as
// 256 KiB base64 chunks the gateway then reassembles.
type LocalPoster struct {
	signer  *goar.Signer
	gw      TxSubmitter
	tags    []types.Tag
	trusted bool
	log     *slog.Logger
}

// LocalOptions tune a LocalPoster.
type LocalOptions struct {
	// AppName tags the bundle transaction, as L1Options.AppName.
	AppName string
	// TrustItems vouches for every item posted, so the gateway does not verify their signatures again: true
	// only when each item was verified or signed by the caller (the node's upload queue holds nothing else).
	TrustItems bool
	Logger     *slog.Logger
}

// NewLocalPoster builds a poster into gw, paying with w.
func NewLocalPoster(w *Wallet, gw TxSubmitter, o LocalOptions) (*LocalPoster, error) {
	if gw == nil {
		return nil, errors.New("local poster: no gateway")
	}
	gwl, err := w.GoarWallet("")
	if err != nil {
		return nil, err
	}
	if o.AppName == "" {
		o.AppName = "aonode"
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &LocalPoster{
		signer: gwl.Signer, gw: gw, trusted: o.TrustItems, log: o.Logger,
		tags: []types.Tag{{Name: "App-Name", Value: o.AppName}, {Name: "Bundler", Value: w.Address()}},
	}, nil
}

// Post builds the bundle and submits it; the returned ref is the L1 transaction id.
func (p *LocalPoster) Post(ctx context.Context, raws [][]byte) (string, error) {
	tx, data, _, err := bundleTx(raws, p.signer, p.tags, func(size int) (string, int64, error) {
		reward, err := p.gw.Price(ctx, size)
		if err != nil {
			return "", 0, fmt.Errorf("price: %w", err)
		}
		anchor, err := p.gw.Anchor(ctx)
		if err != nil {
			return "", 0, fmt.Errorf("anchor: %w", err)
		}
		return anchor, reward, nil
	})
	if err != nil {
		return "", fmt.Errorf("post bundle: %w", err)
	}
	dup, err := p.gw.Submit(ctx, tx, data, p.trusted)
	if err != nil {
		return "", fmt.Errorf("post bundle %s: %w", tx.ID, err)
	}
	if dup {
		p.log.Warn("bundle transaction was already held by the gateway", "id", tx.ID)
	}
	return tx.ID, nil
}

// Confirm asks the gateway for the status of a posted bundle transaction.
func (p *LocalPoster) Confirm(ctx context.Context, ref string) (Status, error) {
	st, err := p.gw.Status(ctx, ref)
	if err != nil {
		return Status{}, fmt.Errorf("status of %s: %w", ref, err)
	}
	return st, nil
}
