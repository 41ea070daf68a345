package bundler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/everFinance/goar"
	"github.com/everFinance/goar/types"
	"github.com/everFinance/goar/utils"

	"github.com/aonode/aonode/bundler/ans104"
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
	if p.arlocal {
		if err := p.get(ctx, "/mint/"+p.wallet.Signer.Address+"/1000000000000000"); err != nil {
			return "", fmt.Errorf("post bundle: mint on arlocal: %w", err)
		}
	}
	tx, data, ids, err := bundleTx(raws, p.wallet.Signer, p.tags, func(size int) (string, int64, error) {
		reward, err := p.wallet.Client.GetTransactionPrice(size, nil)
		if err != nil {
			return "", 0, fmt.Errorf("price: %w", err)
		}
		anchor, err := p.wallet.Client.GetTransactionAnchor()
		if err != nil {
			return "", 0, fmt.Errorf("anchor: %w", err)
		}
		return anchor, reward, nil
	})
	if err != nil {
		return "", fmt.Errorf("post bundle: %w", err)
	}
	// goar's uploader reads the chunks' bytes from Data (which the signature does not cover).
	tx.Data = utils.Base64Encode(data)
	up, err := goar.CreateUploader(p.wallet.Client, tx, nil)
	if err != nil {
		return "", fmt.Errorf("post bundle %s: %w", tx.ID, err)
	}
	// goar's chunk workers retry until ctx ends and then report success, so bound the upload and check it.
	uctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := up.ConcurrentOnce(uctx, p.concurrency); err != nil {
		return "", fmt.Errorf("post bundle %s: %w", tx.ID, err)
	}
	if uctx.Err() != nil {
		return "", fmt.Errorf("post bundle %s: upload did not finish: %w", tx.ID, uctx.Err())
	}
	if p.arlocal {
		if err := p.mine(ctx, ids); err != nil {
			return tx.ID, err
		}
	}
	return tx.ID, nil
}

// bundleTx wraps raws into an ANS-104 bundle and signs its L1 transaction with s as goar's SendBundleTx does
// (format 2, quantity 0, the Bundle-Format and Bundle-Version tags then tags); fees gives the anchor and
// the reward for the bundle's size. Both posters build their transactions here, so a bundle is the same
// whichever way it reaches the gateway. The transaction's chunks are computed and its Data is empty: the
// bundle is data. ids are the items' ids in bundle order.
func bundleTx(raws [][]byte, s *goar.Signer, tags []types.Tag, fees func(size int) (anchor string, reward int64, err error)) (tx *types.Transaction, data []byte, ids []string, err error) {
	if len(raws) == 0 {
		return nil, nil, nil, errors.New("no items")
	}
	ids = make([]string, 0, len(raws))
	rawIDs := make([][]byte, 0, len(raws))
	for _, raw := range raws {
		bi, err := decode(raw) // only well-formed items go into a bundle
		if err != nil {
			return nil, nil, nil, err
		}
		id, err := DecodeB64(bi.Id)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("build: item id %s: %w", bi.Id, err)
		}
		ids, rawIDs = append(ids, bi.Id), append(rawIDs, id)
	}
	if data, err = ans104.EncodeBundle(raws, rawIDs); err != nil {
		return nil, nil, nil, fmt.Errorf("build: %w", err)
	}
	anchor, reward, err := fees(len(data))
	if err != nil {
		return nil, nil, nil, err
	}
	chunks, err := utils.GenerateChunks(data)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("chunk: %w", err)
	}
	tx = &types.Transaction{
		Format:   2,
		LastTx:   anchor,
		Owner:    s.Owner(),
		Tags:     utils.TagsEncode(append([]types.Tag{{Name: "Bundle-Format", Value: "binary"}, {Name: "Bundle-Version", Value: "2.0.0"}}, tags...)),
		Quantity: "0",
		DataSize: strconv.Itoa(len(data)),
		DataRoot: utils.Base64Encode(chunks.DataRoot),
		Reward:   strconv.FormatInt(reward, 10),
		Chunks:   &chunks,
	}
	if err := s.SignTx(tx); err != nil {
		return nil, nil, nil, fmt.Errorf("sign: %w", err)
	}
	return tx, data, ids, nil
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
