package gateway_test

// The gateway-client suite: signs ANS-104 items with goar, bundles them, posts the bundles as L1
// transactions with a goar wallet (sequential and concurrent chunk upload), then checks what the gateway
// client reads back. RunClientSuite is target-agnostic: TestClientSuiteEmbedded runs it against the embedded
// gateway, TestClientSuiteArlocal against arlocal (a private one from internal/arlocaltest, or
// AONODE_TEST_ARLOCAL_URL).

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aonode/aonode/gateway"
	"github.com/aonode/aonode/gateway/embedded"
	"github.com/aonode/aonode/internal/arlocaltest"
	"github.com/everFinance/goar"
	"github.com/everFinance/goar/types"
	"github.com/everFinance/goar/utils"
)

// Quirks are known deviations of a target that the suite tolerates.
type Quirks struct {
	NoUnicodeTagFilter bool // tag filters never match non-ASCII values (arlocal)
	NoBundledIn        bool // bundledIn is always null (arlocal)
	NoAnchor           bool // item anchors are dropped (arlocal)
	NoStrictOrder      bool // order inside one block is not acceptance order / DESC is not its reverse
}

// SuiteTarget is a gateway under test.
type SuiteTarget struct {
	BaseURL string
	Poster  *goar.Wallet // pays for and posts the L1 bundles; its Client must point at BaseURL; not SignerA
	SignerA *goar.Signer // signs 7 items
	SignerB *goar.Signer // signs 2 items (may be the poster)
	// Concurrency is the chunk-upload concurrency for the second (multi-chunk) bundle. The first bundle is
	// always posted with concurrency 1.
	Concurrency int
	BeforePost  func(t *testing.T)                    // e.g. mint on arlocal
	AfterPost   func(t *testing.T, lastItemID string) // e.g. mine on arlocal; nil when mining is automatic
	Quirks      Quirks
}

type suiteItem struct {
	types.BundleItem
	signer *goar.Signer
	data   []byte
	ctype  string
}

// RunClientSuite posts two bundles (9 items) to the target and checks the gateway client against them.
func RunClientSuite(t *testing.T, tg SuiteTarget) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	c := gateway.NewClient(tg.BaseURL, gateway.WithTimeout(30*time.Second))

	run := randHex(8)
	recipient := utils.Base64Encode(randBytes(32))
	anchor := utils.Base64Encode(randBytes(32))
	const unicodeValue = "héllo ✓ 世界"
	big := randBytes(600 * 1024) // makes the second bundle span three 256 KiB chunks

	isA, err := goar.NewItemSigner(tg.SignerA)
	must(t, err)
	isB, err := goar.NewItemSigner(tg.SignerB)
	must(t, err)

	var items []*suiteItem // in bundle order: A0..A3 B0 | A4..A6 B1
	mk := func(s *goar.Signer, is *goar.ItemSigner, nonce int, parity string, data []byte, target, anc string, extra ...types.Tag) *suiteItem {
		ctype := "text/plain"
		if len(data) > 1<<16 {
			ctype = "application/x-aonode-test"
		}
		tags := append([]types.Tag{
			{Name: "Data-Protocol", Value: "ao"}, {Name: "Type", Value: "Message"},
			{Name: "Test-Run", Value: run}, {Name: "Nonce", Value: fmt.Sprint(nonce)},
			{Name: "Parity", Value: parity}, {Name: "Content-Type", Value: ctype},
		}, extra...)
		it, err := is.CreateAndSignItem(data, target, anc, tags)
		must(t, err)
		si := &suiteItem{BundleItem: it, signer: s, data: data, ctype: ctype}
		items = append(items, si)
		return si
	}
	parity := func(i int) string {
		if i%2 == 0 {
			return "even"
		}
		return "odd"
	}
	var a [7]*suiteItem
	var b [2]*suiteItem
	for i := 0; i < 4; i++ {
		target, anc := "", ""
		var extra []types.Tag
		if i < 2 {
			target = recipient
		}
		if i == 2 {
			anc = anchor
		}
		if i == 3 {
			extra = append(extra, types.Tag{Name: "Unicode", Value: unicodeValue})
		}
		a[i] = mk(tg.SignerA, isA, i, parity(i), []byte(fmt.Sprintf("payload %d of %s", i, run)), target, anc, extra...)
	}
	b[0] = mk(tg.SignerB, isB, 100, "even", []byte("from B 0 "+run), "", "")
	for i := 4; i < 7; i++ {
		data := []byte(fmt.Sprintf("payload %d of %s", i, run))
		if i == 6 {
			data = big
		}
		a[i] = mk(tg.SignerA, isA, i, parity(i), data, "", "")
	}
	b[1] = mk(tg.SignerB, isB, 101, "odd", []byte("from B 1 "+run), "", "")

	bundleOf := func(its []*suiteItem) *types.Bundle {
		bis := make([]types.BundleItem, len(its))
		for i, it := range its {
			bis[i] = it.BundleItem
		}
		bd, err := utils.NewBundle(bis...)
		must(t, err)
		return bd
	}
	bundle1, bundle2 := bundleOf(items[:5]), bundleOf(items[5:])
	if len(bundle2.BundleBinary) <= 2*256*1024 {
		t.Fatalf("bundle 2 is only %d bytes; want several chunks", len(bundle2.BundleBinary))
	}
	if tg.BeforePost != nil {
		tg.BeforePost(t)
	}
	post := func(bd *types.Bundle, conc int, last string) types.Transaction {
		pctx, pcancel := context.WithTimeout(ctx, 2*time.Minute)
		defer pcancel()
		tx, err := tg.Poster.SendBundleTx(pctx, conc, bd.BundleBinary, []types.Tag{{Name: "App-Name", Value: "aonode-suite"}, {Name: "Test-Run", Value: run}})
		must(t, err)
		if pctx.Err() != nil {
			t.Fatalf("upload of %s did not finish: %v", tx.ID, pctx.Err())
		}
		if tg.AfterPost != nil {
			tg.AfterPost(t, last)
		}
		return tx
	}
	conc := tg.Concurrency
	if conc <= 0 {
		conc = 20
	}
	btx1 := post(bundle1, 1, b[0].Id)
	btx2 := post(bundle2, conc, b[1].Id)
	bundleOfItem := map[string]string{}
	for _, it := range items[:5] {
		bundleOfItem[it.Id] = btx1.ID
	}
	for _, it := range items[5:] {
		bundleOfItem[it.Id] = btx2.ID
	}
	byID := map[string]*suiteItem{}
	for _, it := range items {
		byID[it.Id] = it
	}
	runTag := gateway.TagFilter{Name: "Test-Run", Values: []string{run}}
	itemsOnly := gateway.TagFilter{Name: "Data-Protocol", Values: []string{"ao"}} // excludes the L1 bundles

	all := func(t *testing.T, q gateway.TxQuery) []gateway.Tx {
		t.Helper()
		var out []gateway.Tx
		must(t, c.AllTransactions(ctx, q, func(tx gateway.Tx) error { out = append(out, tx); return nil }))
		return out
	}
	idsOf := func(txs []gateway.Tx) []string {
		out := make([]string, len(txs))
		for i, tx := range txs {
			out[i] = tx.ID
		}
		return out
	}
	sameSet := func(t *testing.T, what string, got []string, want ...*suiteItem) {
		t.Helper()
		w := make([]string, len(want))
		for i, it := range want {
			w[i] = it.Id
		}
		g := slices.Clone(got)
		slices.Sort(g)
		slices.Sort(w)
		if !slices.Equal(g, w) {
			t.Errorf("%s: got %d ids %v, want %d %v", what, len(got), got, len(w), w)
		}
	}
	checkTx := func(t *testing.T, tx gateway.Tx) {
		t.Helper()
		it := byID[tx.ID]
		if it == nil {
			t.Fatalf("unexpected tx %s", tx.ID)
		}
		if tx.Owner.Address != it.signer.Address || tx.Owner.Key != it.Owner {
			t.Errorf("%s owner = %+v, want address %s", tx.ID, tx.Owner.Address, it.signer.Address)
		}
		if tx.Signature != it.Signature {
			t.Errorf("%s signature differs", tx.ID)
		}
		if tx.Recipient != it.Target {
			t.Errorf("%s recipient = %q, want %q", tx.ID, tx.Recipient, it.Target)
		}
		if !tg.Quirks.NoAnchor && tx.Anchor != it.Anchor {
			t.Errorf("%s anchor = %q, want %q", tx.ID, tx.Anchor, it.Anchor)
		}
		if len(tx.Tags) != len(it.Tags) {
			t.Errorf("%s has %d tags, want %d", tx.ID, len(tx.Tags), len(it.Tags))
		} else {
			for i, tag := range tx.Tags {
				if tag.Name != it.Tags[i].Name || tag.Value != it.Tags[i].Value {
					t.Errorf("%s tag %d = %+v, want %+v", tx.ID, i, tag, it.Tags[i])
				}
			}
		}
		if tx.DataSize != int64(len(it.data)) {
			t.Errorf("%s data size = %d, want %d", tx.ID, tx.DataSize, len(it.data))
		}
		if tx.DataType != it.ctype {
			t.Errorf("%s data type = %q, want %q", tx.ID, tx.DataType, it.ctype)
		}
		if tx.Block == nil || tx.Block.ID == "" || tx.Block.Timestamp == 0 {
			t.Errorf("%s block = %+v, want a mined block", tx.ID, tx.Block)
		}
		if !tg.Quirks.NoBundledIn && tx.BundledIn != bundleOfItem[tx.ID] {
			t.Errorf("%s bundledIn = %q, want %q", tx.ID, tx.BundledIn, bundleOfItem[tx.ID])
		}
	}

	t.Run("info", func(t *testing.T) {
		info, err := c.Info(ctx)
		must(t, err)
		if info.Network == "" || info.Height < 1 || info.Current == "" || info.Blocks != info.Height+1 {
			t.Errorf("info = %+v", info)
		}
		if c.URL() != strings.TrimRight(tg.BaseURL, "/") {
			t.Errorf("URL() = %q", c.URL())
		}
	})

	t.Run("by tag", func(t *testing.T) {
		txs := all(t, gateway.TxQuery{Tags: []gateway.TagFilter{runTag, itemsOnly}})
		sameSet(t, "Test-Run items", idsOf(txs), items...)
		for _, tx := range txs {
			checkTx(t, tx)
		}
		// the L1 bundles carry Test-Run too and are found without the Data-Protocol filter
		withBundles := all(t, gateway.TxQuery{Tags: []gateway.TagFilter{runTag}})
		if len(withBundles) != len(items)+2 {
			t.Errorf("Test-Run matched %d transactions, want %d items + 2 bundles", len(withBundles), len(items))
		}
		// OR within one filter's values
		two := all(t, gateway.TxQuery{Tags: []gateway.TagFilter{runTag, {Name: "Nonce", Values: []string{"0", "101"}}}})
		sameSet(t, "Nonce in {0,101}", idsOf(two), a[0], b[1])
	})

	t.Run("by owner", func(t *testing.T) {
		sameSet(t, "owner A", idsOf(all(t, gateway.TxQuery{Owners: []string{tg.SignerA.Address}, Tags: []gateway.TagFilter{runTag}})), a[:]...)
		sameSet(t, "owner B", idsOf(all(t, gateway.TxQuery{Owners: []string{tg.SignerB.Address}, Tags: []gateway.TagFilter{runTag, itemsOnly}})), b[:]...)
		bundles := all(t, gateway.TxQuery{Owners: []string{tg.Poster.Signer.Address}, Tags: []gateway.TagFilter{runTag, {Name: "App-Name", Values: []string{"aonode-suite"}}}})
		got := idsOf(bundles)
		slices.Sort(got)
		want := []string{btx1.ID, btx2.ID}
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("poster's transactions = %v, want the two bundles %v", got, want)
		}
	})

	t.Run("by recipient", func(t *testing.T) {
		sameSet(t, "recipient", idsOf(all(t, gateway.TxQuery{Recipients: []string{recipient}})), a[0], a[1])
	})

	t.Run("by ids", func(t *testing.T) {
		txs, next, err := c.Transactions(ctx, gateway.TxQuery{IDs: []string{a[2].Id, b[1].Id}})
		must(t, err)
		sameSet(t, "ids", idsOf(txs), a[2], b[1])
		if next != "" {
			t.Errorf("next = %q, want none", next)
		}
		for _, tx := range txs {
			checkTx(t, tx)
		}
	})

	t.Run("NEQ", func(t *testing.T) {
		var out struct {
			Transactions struct {
				Edges []struct{ Node struct{ ID string } }
			}
		}
		q := `query($run: String!) { transactions(first: 100, tags: [{name: "Test-Run", values: [$run]}, {name: "Parity", values: ["even"], op: NEQ}]) { edges { node { id } } } }`
		must(t, c.GraphQL(ctx, q, map[string]any{"run": run}, &out))
		var got []string
		for _, e := range out.Transactions.Edges {
			got = append(got, e.Node.ID)
		}
		sameSet(t, "Parity != even", got, a[1], a[3], a[5], b[1])
	})

	t.Run("non-ASCII tag value", func(t *testing.T) {
		tx, err := c.Tx(ctx, a[3].Id)
		must(t, err)
		found := false
		for _, tag := range tx.Tags {
			found = found || (tag.Name == "Unicode" && tag.Value == unicodeValue)
		}
		if !found {
			t.Errorf("Unicode tag not returned intact: %+v", tx.Tags)
		}
		if tg.Quirks.NoUnicodeTagFilter {
			t.Skip("target cannot filter on non-ASCII tag values")
		}
		sameSet(t, "Unicode filter", idsOf(all(t, gateway.TxQuery{Tags: []gateway.TagFilter{{Name: "Unicode", Values: []string{unicodeValue}}, runTag}})), a[3])
	})

	t.Run("paging first=2", func(t *testing.T) {
		q := gateway.TxQuery{Owners: []string{tg.SignerA.Address}, Tags: []gateway.TagFilter{runTag}, Sort: gateway.SortHeightAsc, First: 2}
		var got []string
		pages := 0
		for {
			txs, next, err := c.Transactions(ctx, q)
			must(t, err)
			pages++
			if len(txs) > 2 {
				t.Fatalf("page %d has %d entries", pages, len(txs))
			}
			got = append(got, idsOf(txs)...)
			if next == "" {
				break
			}
			if pages > 10 {
				t.Fatal("paging does not end")
			}
			q.After = next
		}
		if pages != 4 {
			t.Errorf("7 items in pages of 2 took %d pages, want 4", pages)
		}
		seen := map[string]bool{}
		for _, id := range got {
			if seen[id] {
				t.Errorf("duplicate %s across pages", id)
			}
			seen[id] = true
		}
		sameSet(t, "paged owner A", got, a[:]...)
		if !tg.Quirks.NoStrictOrder {
			want := make([]string, 7)
			for i := range a {
				want[i] = a[i].Id
			}
			if !slices.Equal(got, want) {
				t.Errorf("paged order = %v, want acceptance order %v", got, want)
			}
		}
		// AllTransactions walks the same pages
		sameSet(t, "AllTransactions first=2", idsOf(all(t, gateway.TxQuery{Tags: []gateway.TagFilter{runTag, itemsOnly}, First: 2})), items...)
	})

	t.Run("sort", func(t *testing.T) {
		asc := all(t, gateway.TxQuery{Tags: []gateway.TagFilter{runTag, itemsOnly}, Sort: gateway.SortHeightAsc})
		desc := all(t, gateway.TxQuery{Tags: []gateway.TagFilter{runTag, itemsOnly}, Sort: gateway.SortHeightDesc})
		if len(asc) != len(items) || len(desc) != len(items) {
			t.Fatalf("asc %d / desc %d entries, want %d", len(asc), len(desc), len(items))
		}
		for i := 1; i < len(asc); i++ {
			if asc[i].Block.Height < asc[i-1].Block.Height {
				t.Errorf("HEIGHT_ASC not ascending at %d", i)
			}
			if desc[i].Block.Height > desc[i-1].Block.Height {
				t.Errorf("HEIGHT_DESC not descending at %d", i)
			}
		}
		if asc[0].Block.Height >= asc[len(asc)-1].Block.Height {
			t.Errorf("the two bundles share height %d; want two blocks", asc[0].Block.Height)
		}
		if !tg.Quirks.NoStrictOrder {
			want := make([]string, len(items))
			for i, it := range items {
				want[i] = it.Id
			}
			if got := idsOf(asc); !slices.Equal(got, want) {
				t.Errorf("HEIGHT_ASC = %v, want bundle order %v", got, want)
			}
			slices.Reverse(want)
			if got := idsOf(desc); !slices.Equal(got, want) {
				t.Errorf("HEIGHT_DESC = %v, want reverse bundle order %v", got, want)
			}
		}
	})

	t.Run("data", func(t *testing.T) {
		for _, it := range []*suiteItem{a[0], a[3], a[6], b[1]} {
			data, ct, err := c.Data(ctx, it.Id)
			must(t, err)
			if !bytes.Equal(data, it.data) {
				t.Errorf("GET /%s: %d bytes differ from the %d signed", it.Id, len(data), len(it.data))
			}
			if !strings.HasPrefix(ct, it.ctype) {
				t.Errorf("GET /%s content type = %q, want %q", it.Id, ct, it.ctype)
			}
		}
		data, _, err := c.Data(ctx, btx2.ID)
		must(t, err)
		if !bytes.Equal(data, bundle2.BundleBinary) {
			t.Errorf("GET /{bundle}: %d bytes, want the %d-byte bundle", len(data), len(bundle2.BundleBinary))
		}
	})

	t.Run("tx by id", func(t *testing.T) {
		tx, err := c.Tx(ctx, a[4].Id)
		must(t, err)
		checkTx(t, *tx)
		l1, err := c.Tx(ctx, btx1.ID)
		must(t, err)
		if l1.Owner.Address != tg.Poster.Signer.Address || l1.BundledIn != "" || l1.DataSize != int64(len(bundle1.BundleBinary)) || l1.Block == nil {
			t.Errorf("bundle tx = %+v", l1)
		}
	})

	t.Run("not found", func(t *testing.T) {
		missing := utils.Base64Encode(randBytes(32))
		if _, err := c.Tx(ctx, missing); !errors.Is(err, gateway.ErrNotFound) {
			t.Errorf("Tx(missing) err = %v, want ErrNotFound", err)
		}
		if _, _, err := c.Data(ctx, missing); !errors.Is(err, gateway.ErrNotFound) {
			t.Errorf("Data(missing) err = %v, want ErrNotFound", err)
		}
		txs, next, err := c.Transactions(ctx, gateway.TxQuery{IDs: []string{missing}})
		if err != nil || len(txs) != 0 || next != "" {
			t.Errorf("Transactions(missing) = %v, %q, %v", txs, next, err)
		}
	})

	t.Run("graphql errors", func(t *testing.T) {
		cases := []struct {
			name string
			run  func() error
		}{
			{"bad cursor", func() error {
				_, _, err := c.Transactions(ctx, gateway.TxQuery{Tags: []gateway.TagFilter{runTag}, After: "definitely-not-a-cursor"})
				return err
			}},
			{"unknown field", func() error {
				return c.GraphQL(ctx, `query { transactions(first: 1) { edges { node { id noSuchField } } } }`, nil, &struct{}{})
			}},
			{"syntax", func() error { return c.GraphQL(ctx, `query { transactions(`, nil, nil) }},
			{"bad variable", func() error {
				return c.GraphQL(ctx, `query($n: Int) { transactions(first: $n) { edges { cursor } } }`, map[string]any{"n": "ten"}, nil)
			}},
			{"invalid sort (client side)", func() error {
				_, _, err := c.Transactions(ctx, gateway.TxQuery{Sort: "SIDEWAYS"})
				return err
			}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				err := tc.run()
				if err == nil {
					t.Fatal("no error")
				}
				if !strings.Contains(err.Error(), "gateway") {
					t.Errorf("error %q does not say what was being done", err)
				}
				if errors.Is(err, gateway.ErrNotFound) {
					t.Errorf("error %v must not be ErrNotFound", err)
				}
			})
		}
		var ge *gateway.GraphQLErrors
		err := c.GraphQL(ctx, `query { transactions(first: 1) { edges { node { id noSuchField } } } }`, nil, nil)
		var he *gateway.HTTPError
		if !errors.As(err, &ge) && !errors.As(err, &he) {
			t.Errorf("unknown field error %T %v is neither GraphQLErrors nor HTTPError", err, err)
		}
	})
}

// --- targets ---

var (
	keysOnce sync.Once
	keyA     *goar.Signer
	keyB     *goar.Signer
)

// testSigners generates two RSA-4096 keys once per test binary.
func testSigners(t *testing.T) (*goar.Signer, *goar.Signer) {
	keysOnce.Do(func() {
		var wg sync.WaitGroup
		var ka, kb *rsa.PrivateKey
		var ea, eb error
		wg.Add(2)
		go func() { defer wg.Done(); ka, ea = rsa.GenerateKey(rand.Reader, 4096) }()
		go func() { defer wg.Done(); kb, eb = rsa.GenerateKey(rand.Reader, 4096) }()
		wg.Wait()
		if ea != nil || eb != nil {
			panic(fmt.Sprint(ea, eb))
		}
		keyA, keyB = goar.NewSignerByPrivateKey(ka), goar.NewSignerByPrivateKey(kb)
	})
	return keyA, keyB
}

func TestClientSuiteEmbedded(t *testing.T) {
	sa, sb := testSigners(t)
	g, err := embedded.Open(filepath.Join(t.TempDir(), "gw.db"), embedded.Options{Logger: testLogger(t), NoSync: true})
	must(t, err)
	srv := httptest.NewServer(g.Handler())
	t.Cleanup(func() { srv.Close(); g.Close() })
	RunClientSuite(t, SuiteTarget{
		BaseURL:     srv.URL,
		Poster:      &goar.Wallet{Client: goar.NewClient(srv.URL), Signer: sb},
		SignerA:     sa,
		SignerB:     sb,
		Concurrency: 20,
	})
}

// TestClientSuiteArlocal runs the suite against a private arlocal started from e2e/node_modules (see
// internal/arlocaltest), or against one already running, e.g.
//
//	npx arlocal 4142 --dbpath arlocal-db & AONODE_TEST_ARLOCAL_URL=http://localhost:4142 go test ./gateway -run Arlocal
func TestClientSuiteArlocal(t *testing.T) {
	base := os.Getenv("AONODE_TEST_ARLOCAL_URL")
	if base == "" {
		base = arlocaltest.Start(t).URL()
	}
	sa, sb := testSigners(t)
	get := func(path string) (int, error) {
		res, err := http.Get(strings.TrimRight(base, "/") + path)
		if err != nil {
			return 0, err
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res.StatusCode, nil
	}
	RunClientSuite(t, SuiteTarget{
		BaseURL:     base,
		Poster:      &goar.Wallet{Client: goar.NewClient(base), Signer: sb},
		SignerA:     sa,
		SignerB:     sb,
		Concurrency: 1, // arlocal 1.1.66 corrupts concurrently uploaded chunks
		BeforePost: func(t *testing.T) {
			if code, err := get("/mint/" + sb.Address + "/1000000000000000"); err != nil || code != 200 {
				t.Fatalf("mint: %d %v", code, err)
			}
		},
		AfterPost: func(t *testing.T, last string) {
			for i := 0; i < 20; i++ {
				time.Sleep(time.Duration(250*(i+1)) * time.Millisecond)
				if code, err := get("/mine"); err == nil && code == 200 {
					if code, _ := get("/" + last); code == 200 {
						return
					}
				}
			}
			t.Fatal("arlocal did not mine the bundle")
		},
		Quirks: Quirks{NoUnicodeTagFilter: true, NoBundledIn: true, NoAnchor: true, NoStrictOrder: true},
	})
}

// --- helpers ---

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func randBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return b
}

func randHex(n int) string { return hex.EncodeToString(randBytes(n)) }

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
}
