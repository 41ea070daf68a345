package bundler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/everFinance/goar"
	"github.com/everFinance/goar/types"
	"github.com/everFinance/goar/utils"
)

// Poster puts a batch of signed items on Arweave.
type Poster interface {
	Post(ctx context.Context, raws [][]byte) (ref string, err error)
}

// L1Poster wraps items into an ANS-104 bundle and posts it as an L1 transaction through a gateway with goar.
type L1Poster struct {
	wallet      *goar.Wallet
	gatewayURL  string
	concurrency int
	tags        []types.Tag
	httpc       *http.Client
	arlocal     bool
	log         *slog.Logger
}

// L1Options tune bundle posting.
type L1Options struct {
	// Concurrency of chunk uploads. arlocal corrupts bundles over 256 KiB when chunks arrive concurrently, so
	// Arlocal forces 1.
	Concurrency int
	// Arlocal enables arlocal's needs: sequential chunks, minting the poster's balance, mining after each post.
	Arlocal bool
	// AppName tags the bundle transaction so the node's bundles can be found on any gateway.
	AppName string
	Logger  *slog.Logger
}

// NewL1Poster builds a poster for the gateway at url, paying with w.
func NewL1Poster(w *Wallet, url string, o L1Options) (*L1Poster, error) {
	gw, err := w.GoarWallet(url)
	if err != nil {
		return nil, err
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 8
	}
	if o.Arlocal {
		o.Concurrency = 1
	}
	if o.AppName == "" {
		o.AppName = "aonode"
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &L1Poster{
		wallet: gw, gatewayURL: strings.TrimRight(url, "/"), concurrency: o.Concurrency, arlocal: o.Arlocal, log: o.Logger,
		tags:  []types.Tag{{Name: "App-Name", Value: o.AppName}, {Name: "Bundler", Value: w.Address()}},
		httpc: &http.Client{Timeout: 30 * time.Second},
	}, nil
}

// Post builds the bundle and uploads it; the returned ref is the L1 transaction id.
func (p *L1Poster) Post(ctx context.Context, raws [][]byte) (string, error) {
	if len(raws) == 0 {
		return "", errors.New("post bundle: no items")
	}
	items := make([]types.BundleItem, 0, len(raws))
	for _, raw := range raws {
		bi, err := decode(raw)
		if err != nil {
			return "", fmt.Errorf("post bundle: %w", err)
		}
		items = append(items, *bi)
	}
	b, err := utils.NewBundle(items...)
	if err != nil {
		return "", fmt.Errorf("post bundle: build: %w", err)
	}
	if p.arlocal {
		if err := p.get(ctx, "/mint/"+p.wallet.Signer.Address+"/1000000000000000"); err != nil {
			return "", fmt.Errorf("post bundle: mint on arlocal: %w", err)
		}
	}
	// goar's chunk workers retry until ctx ends and then report success, so bound the upload and check it.
	uctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	tx, err := p.wallet.SendBundleTx(uctx, p.concurrency, b.BundleBinary, p.tags)
	if err != nil {
		return "", fmt.Errorf("post bundle: %w", err)
	}
	if uctx.Err() != nil {
		return "", fmt.Errorf("post bundle %s: upload did not finish: %w", tx.ID, uctx.Err())
	}
	if p.arlocal {
		ids := make([]string, len(items))
		for i, it := range items {
			ids[i] = it.Id
		}
		if err := p.mine(ctx, ids); err != nil {
			return tx.ID, err
		}
	}
	return tx.ID, nil
}

func (p *L1Poster) get(ctx context.Context, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.gatewayURL+path, nil)
	if err != nil {
		return err
	}
	res, err := p.httpc.Do(req)
	if err != nil {
		return err
	}
	res.Body.Close()
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("GET %s: status %d", path, res.StatusCode)
	}
	return nil
}

// mine asks arlocal for a block until every item of the bundle is served. arlocal indexes an item whose
// signer has a wallet there (the node's own) while the bundle uploads, but anyone else's only when a /mine
// unbundles it, and a /mine racing its background unbundling can fail or skip the bundle: so the node's items
// being served proves nothing, each one is checked. Items still missing fail the post, and the queue posts
// them again in a new bundle.
func (p *L1Poster) mine(ctx context.Context, ids []string) error {
	var err error
	missing := ids
	mined := 0
	for i := 0; i < 20 && mined < 3; i++ {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(250*(i+1)) * time.Millisecond):
		}
		if err = p.get(ctx, "/mine"); err != nil {
			continue
		}
		mined++
		var still []string
		for _, id := range missing {
			if p.get(ctx, "/"+id) != nil {
				still = append(still, id)
			}
		}
		if missing = still; len(missing) == 0 {
			return nil
		}
		err = fmt.Errorf("%d items (first %s) not served after mining", len(missing), missing[0])
	}
	return fmt.Errorf("mine on arlocal: %w", err)
}

// Confirm asks the gateway for the status of a posted bundle transaction. Real nodes answer 202 while pending;
// arlocal answers 200 with the text "Pending".
func (p *L1Poster) Confirm(ctx context.Context, ref string) (Status, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.gatewayURL+"/tx/"+ref+"/status", nil)
	if err != nil {
		return Status{}, err
	}
	res, err := p.httpc.Do(req)
	if err != nil {
		return Status{}, fmt.Errorf("status of %s: %w", ref, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	switch {
	case res.StatusCode == http.StatusNotFound:
		return Status{State: StateUnknown}, nil
	case res.StatusCode == http.StatusAccepted:
		return Status{State: StatePending}, nil
	case res.StatusCode == http.StatusOK:
		if strings.TrimSpace(string(body)) == "Pending" {
			return Status{State: StatePending}, nil
		}
		var st struct {
			Height int64  `json:"block_height"`
			Block  string `json:"block_indep_hash"`
		}
		if err := json.Unmarshal(body, &st); err != nil {
			return Status{}, fmt.Errorf("status of %s: unexpected answer %.100q", ref, body)
		}
		// In a block is confirmed. (arlocal counts the newest block as 0 confirmations, real nodes as 1.)
		if st.Block == "" {
			return Status{State: StatePending}, nil
		}
		return Status{State: StateConfirmed, Height: st.Height}, nil
	}
	return Status{}, fmt.Errorf("status of %s: HTTP %d", ref, res.StatusCode)
}
