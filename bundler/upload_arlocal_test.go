package bundler_test

// L1Poster against a real arlocal (internal/arlocaltest): small and multi-chunk bundles are served
// bit-exact and indexed, and a post during an outage fails and then succeeds after the restart.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aonode/aonode/bundler"
	"github.com/aonode/aonode/gateway"
	"github.com/aonode/aonode/internal/arlocaltest"
)

// sentItem is an item as signed, to compare with what the gateway serves.
type sentItem struct {
	id    string
	raw   []byte
	data  []byte
	ctype string
	tags  []bundler.Tag
}

func TestL1PosterArlocal(t *testing.T) {
	al := arlocaltest.Start(t)
	poster, signer := arlocalWallets(t)
	p, err := bundler.NewL1Poster(poster, al.URL(), bundler.L1Options{
		Arlocal: true, AppName: "aonode-test", Logger: slog.New(slog.NewTextHandler(testLog{t}, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	gw := gateway.NewClient(al.URL(), gateway.WithTimeout(30*time.Second))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	run := randomHex(t, 8)

	sign := func(t *testing.T, label string, payloads ...[]byte) []sentItem {
		t.Helper()
		out := make([]sentItem, len(payloads))
		for i, data := range payloads {
			ctype := "text/plain"
			if len(data) > 1024 {
				ctype = "application/octet-stream"
			}
			tags := []bundler.Tag{
				{Name: "Data-Protocol", Value: "ao"}, {Name: "Test-Run", Value: run},
				{Name: "Case", Value: label}, {Name: "Nonce", Value: fmt.Sprint(i)},
				{Name: "Content-Type", Value: ctype},
			}
			it, err := signer.Sign(data, "", "", tags)
			if err != nil {
				t.Fatal(err)
			}
			out[i] = sentItem{id: it.ID, raw: it.Raw, data: data, ctype: ctype, tags: tags}
		}
		return out
	}
	post := func(items []sentItem) (string, error) {
		raws := make([][]byte, len(items))
		for i, it := range items {
			raws[i] = it.raw
		}
		// As the upload queue does: a bundle arlocal left unindexed fails its post and goes out again.
		ref, err := p.Post(ctx, raws)
		for i := 0; i < 3 && err != nil && strings.Contains(err.Error(), "not served after mining"); i++ {
			ref, err = p.Post(ctx, raws)
		}
		return ref, err
	}
	// check reads every item back by id and by a GraphQL tag query.
	check := func(t *testing.T, label string, items []sentItem) {
		t.Helper()
		for _, it := range items {
			data, ct, err := gw.Data(ctx, it.id)
			if err != nil {
				t.Fatalf("GET /%s: %v", it.id, err)
			}
			if !bytes.Equal(data, it.data) {
				t.Errorf("GET /%s: %d bytes differ from the %d signed", it.id, len(data), len(it.data))
			}
			// arlocal answers an empty payload with 204 and no Content-Type.
			if len(it.data) > 0 && !strings.HasPrefix(ct, it.ctype) {
				t.Errorf("GET /%s: content type %q, want %q", it.id, ct, it.ctype)
			}
		}
		found := map[string]gateway.Tx{}
		q := gateway.TxQuery{Tags: []gateway.TagFilter{{Name: "Test-Run", Values: []string{run}}, {Name: "Case", Values: []string{label}}}}
		err := gw.AllTransactions(ctx, q, func(tx gateway.Tx) error { found[tx.ID] = tx; return nil })
		if err != nil {
			t.Fatal(err)
		}
		if len(found) != len(items) {
			t.Errorf("tag query for %q found %d transactions, want %d", label, len(found), len(items))
		}
		for _, it := range items {
			tx, ok := found[it.id]
			if !ok {
				t.Errorf("item %s not found by its tags", it.id)
				continue
			}
			if tx.Block == nil {
				t.Errorf("item %s is not in a block", it.id)
			}
			if tx.Owner.Address != signer.Address() || tx.DataSize != int64(len(it.data)) {
				t.Errorf("item %s: owner %s size %d, want %s %d", it.id, tx.Owner.Address, tx.DataSize, signer.Address(), len(it.data))
			}
			got := make([]bundler.Tag, len(tx.Tags))
			for i, tag := range tx.Tags {
				got[i] = bundler.Tag{Name: tag.Name, Value: tag.Value}
			}
			if !slices.Equal(got, it.tags) {
				t.Errorf("item %s tags = %v, want %v", it.id, got, it.tags)
			}
		}
	}

	var small []sentItem
	t.Run("small bundle", func(t *testing.T) {
		small = sign(t, "small", []byte("one"), []byte("two "+run), []byte{})
		ref, err := post(small)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("bundle %s", ref)
		check(t, "small", small)
	})

	t.Run("large bundle", func(t *testing.T) {
		// Random payloads: arlocal drops 256 KiB chunks whose content repeats, so repetitive data would not
		// exercise the multi-chunk path honestly.
		items := sign(t, "large", randomBytes(t, 320<<10), randomBytes(t, 5), randomBytes(t, 240<<10))
		total := 0
		for _, it := range items {
			total += len(it.raw)
		}
		if total <= 2*256<<10 {
			t.Fatalf("bundle of %d bytes spans fewer than three chunks", total)
		}
		if _, err := post(items); err != nil {
			t.Fatal(err)
		}
		check(t, "large", items)
	})

	t.Run("outage", func(t *testing.T) {
		items := sign(t, "outage", []byte("during the outage "+run), randomBytes(t, 2000))
		al.Stop()
		if ref, err := post(items); err == nil {
			t.Fatalf("Post while arlocal is down returned %s and no error", ref)
		} else {
			t.Logf("Post while down: %v", err)
		}
		al.Restart(t)
		if _, err := post(items); err != nil {
			t.Fatalf("Post after the restart: %v", err)
		}
		check(t, "outage", items)
		if small != nil {
			check(t, "small", small) // posted before the outage: the chain survived the restart
		}
	})
}

// arlocalWallets makes the bundle poster (a wallet file) and a separate item signer; 4096-bit keys are slow, so
// in parallel.
func arlocalWallets(t *testing.T) (poster, signer *bundler.Wallet) {
	var perr, serr error
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		poster, _, perr = bundler.LoadOrCreateWallet(filepath.Join(t.TempDir(), "poster.json"))
	}()
	go func() {
		defer wg.Done()
		var jwk []byte
		if jwk, serr = bundler.GenerateJWK(); serr == nil {
			signer, serr = bundler.NewWallet(jwk)
		}
	}()
	wg.Wait()
	if perr != nil || serr != nil {
		t.Fatalf("wallets: poster %v, signer %v", perr, serr)
	}
	return poster, signer
}

func randomBytes(t *testing.T, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func randomHex(t *testing.T, n int) string { return hex.EncodeToString(randomBytes(t, n)) }

// testLog sends slog output to the test log.
type testLog struct{ t *testing.T }

func (w testLog) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
