package embedded_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aonode/aonode/gateway"
	"github.com/aonode/aonode/gateway/embedded"
	"github.com/everFinance/goar"
	"github.com/everFinance/goar/types"
	"github.com/everFinance/goar/utils"
)

// signBundleTx signs the L1 transaction of a bundle as goar's SendBundleTx does (same tags, reward and anchor
// sources), without sending it: the same signed transaction can then reach several gateways.
func (e *env) signBundleTx(data []byte, tags ...types.Tag) types.Transaction {
	e.t.Helper()
	reward, err := e.w.Client.GetTransactionPrice(len(data), nil)
	must(e.t, err)
	anchor, err := e.w.Client.GetTransactionAnchor()
	must(e.t, err)
	tx := types.Transaction{
		Format: 2, Quantity: "0", LastTx: anchor, Owner: e.w.Owner(), Reward: strconv.FormatInt(reward, 10),
		Tags:     utils.TagsEncode(append([]types.Tag{tag("Bundle-Format", "binary"), tag("Bundle-Version", "2.0.0")}, tags...)),
		Data:     utils.Base64Encode(data),
		DataSize: strconv.Itoa(len(data)),
	}
	must(e.t, e.w.Signer.SignTx(&tx))
	return tx
}

// uploadTx posts a signed transaction over HTTP as goar does: the header, then every chunk.
func (e *env) uploadTx(tx types.Transaction) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	up, err := goar.CreateUploader(goar.NewClient(e.url), &tx, nil)
	must(e.t, err)
	must(e.t, up.ConcurrentOnce(ctx, 2))
	if ctx.Err() != nil {
		e.t.Fatalf("upload of %s did not finish", tx.ID)
	}
}

// submitForm is tx as Submit takes it: no inline data, no precomputed chunks; the payload apart.
func submitForm(tx types.Transaction) (*types.Transaction, []byte) {
	data, err := utils.Base64Decode(tx.Data)
	if err != nil {
		panic(err)
	}
	tx.Data, tx.Chunks = "", nil
	return &tx, data
}

const fullNodeQuery = `query($tags: [TagFilter!]) {
  transactions(tags: $tags, sort: HEIGHT_ASC, first: 100) {
    pageInfo { hasNextPage }
    edges { cursor node {
      id anchor signature recipient
      owner { address key } fee { winston ar } quantity { winston ar }
      data { size type } tags { name value }
      block { height } parent { id } bundledIn { id }
    } }
  }
}`

// TestSubmitMatchesHTTP: a bundle handed over with Submit is stored exactly as the same signed transaction
// uploaded over HTTP in chunks: the same records, GraphQL answers, L1 endpoints and data.
func TestSubmitMatchesHTTP(t *testing.T) {
	sa, _ := signers(t)
	run := tag("Run", "submit-vs-http")
	its := []types.BundleItem{
		mkItem(t, sa, []byte("one"), "", "", aoTags("Message", run, tag("Content-Type", "text/plain"))...),
		mkItem(t, sa, randBytes(300<<10), utils.Base64Encode(randBytes(32)), utils.Base64Encode(randBytes(32)), aoTags("Message", run)...),
		mkItem(t, sa, nil, "", "", aoTags("Assignment", run)...),
	}
	b := bundle(t, its...)
	for _, opts := range []embedded.Options{{}, {ManualMine: true}} {
		viaHTTP, viaSubmit := newEnv(t, opts), newEnv(t, opts)
		tx := viaHTTP.signBundleTx(b.BundleBinary, tag("App-Name", "aonode"))
		if len(b.BundleBinary) <= 256<<10 {
			t.Fatal("the bundle must take several chunks")
		}
		viaHTTP.uploadTx(tx)
		if st := viaHTTP.g.Stats(); st.Chunks < 2 || st.Submits != 0 {
			t.Fatalf("HTTP upload stats %+v", st)
		}
		st, data := submitForm(tx)
		dup, err := viaSubmit.g.Submit(context.Background(), st, data, embedded.SubmitOptions{TrustedItems: true})
		if err != nil || dup {
			t.Fatalf("Submit = %v, %v", dup, err)
		}
		if st := viaSubmit.g.Stats(); st.Chunks != 0 || st.Submits != 1 {
			t.Fatalf("Submit stats %+v", st)
		}
		if opts.ManualMine {
			must(t, viaHTTP.g.Mine(1))
			must(t, viaSubmit.g.Mine(1))
		}

		want, err := viaHTTP.g.Records()
		must(t, err)
		got, err := viaSubmit.g.Records()
		must(t, err)
		if len(want) != len(its)+1 {
			t.Fatalf("%d records over HTTP, want %d", len(want), len(its)+1)
		}
		if !maps.Equal(got, want) {
			t.Errorf("records differ (ManualMine %v):\n got %v\nwant %v", opts.ManualMine, got, want)
		}
		vars := map[string]any{"tags": []map[string]any{{"name": "Run", "values": []string{"submit-vs-http"}}}}
		if g, w := viaSubmit.gql(fullNodeQuery, vars, nil), viaHTTP.gql(fullNodeQuery, vars, nil); g.status != 200 || !bytes.Equal(g.body, w.body) {
			t.Errorf("GraphQL differs:\n got %d %s\nwant %d %s", g.status, g.body, w.status, w.body)
		}
		if !strings.Contains(string(viaHTTP.gql(fullNodeQuery, vars, nil).body), its[1].Id) {
			t.Error("GraphQL lacks the items")
		}
		paths := []string{"/tx/" + tx.ID, "/tx/" + tx.ID + "/offset", "/tx/" + tx.ID + "/data", "/raw/" + tx.ID, "/chunk/0", "/chunk/300000"}
		for _, it := range its {
			paths = append(paths, "/raw/"+it.Id, "/"+it.Id)
		}
		for _, p := range paths {
			g, w := viaSubmit.get(p), viaHTTP.get(p)
			if g.status != 200 || g.status != w.status || !bytes.Equal(g.body, w.body) {
				t.Errorf("GET %s: got %d (%d bytes), over HTTP %d (%d bytes)", p, g.status, len(g.body), w.status, len(w.body))
			}
		}
		for _, e := range []*env{viaHTTP, viaSubmit} {
			s, err := e.g.TxStatus(tx.ID)
			if err != nil || !s.Known || s.Height != 1 || s.BlockID == "" {
				t.Errorf("TxStatus = %+v, %v", s, err)
			}
		}
		// A second Submit of the same transaction is a duplicate and changes nothing.
		dup, err = viaSubmit.g.Submit(context.Background(), st, data, embedded.SubmitOptions{})
		if err != nil || !dup {
			t.Errorf("second Submit = %v, %v; want a duplicate", dup, err)
		}
		if again, _ := viaSubmit.g.Records(); !maps.Equal(again, got) {
			t.Error("a duplicate Submit changed the records")
		}
	}
}

// TestSubmitRefusesBadTransactions: a transaction whose signature, data root or data do not hold is refused
// with an error saying which, and nothing of it is stored.
func TestSubmitRefusesBadTransactions(t *testing.T) {
	sa, _ := signers(t)
	e := newEnv(t, embedded.Options{})
	it := mkItem(t, sa, randBytes(1000), "", "", aoTags("Message", tag("Run", "refused"))...)
	b := bundle(t, it)
	good := e.signBundleTx(b.BundleBinary)
	other := bytes.Clone(b.BundleBinary)
	other[len(other)-1] ^= 1
	otherRoot := func() string {
		c, err := utils.GenerateChunks(other)
		must(t, err)
		return utils.Base64Encode(c.DataRoot)
	}()

	cases := []struct {
		name string
		edit func(tx *types.Transaction, data []byte) []byte
		want string
	}{
		{"signature byte flipped", func(tx *types.Transaction, data []byte) []byte {
			sig, _ := utils.Base64Decode(tx.Signature)
			sig[10] ^= 1
			tx.Signature = utils.Base64Encode(sig)
			return data
		}, "invalid transaction signature"},
		{"signature flipped and id to match", func(tx *types.Transaction, data []byte) []byte {
			sig, _ := utils.Base64Decode(tx.Signature)
			sig[10] ^= 1
			tx.Signature, tx.ID = utils.Base64Encode(sig), idOf(sig)
			return data
		}, "invalid transaction signature"},
		{"signed by another key", func(tx *types.Transaction, data []byte) []byte {
			tx.Owner = sa.Owner() // e.w signs with the other key
			return data
		}, "invalid transaction signature"},
		{"tag changed after signing", func(tx *types.Transaction, data []byte) []byte {
			tx.Tags = utils.TagsEncode([]types.Tag{tag("Bundle-Format", "binary"), tag("Bundle-Version", "2.0.0"), tag("App-Name", "x")})
			return data
		}, "invalid transaction signature"},
		{"other data of the same size", func(tx *types.Transaction, data []byte) []byte {
			return other
		}, "data_root does not match the data"},
		{"other data and its root", func(tx *types.Transaction, data []byte) []byte {
			tx.DataRoot = otherRoot
			return other
		}, "invalid transaction signature"},
		{"data cut short", func(tx *types.Transaction, data []byte) []byte {
			return data[:len(data)-1]
		}, "does not match the data"},
		{"no data", func(tx *types.Transaction, data []byte) []byte {
			return nil
		}, "does not match the data"},
		{"inline data as well", func(tx *types.Transaction, data []byte) []byte {
			tx.Data = utils.Base64Encode(data)
			return data
		}, "inline data"},
		{"format 1", func(tx *types.Transaction, data []byte) []byte {
			tx.Format = 1
			return data
		}, "unsupported format"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tx, data := submitForm(good)
			data = c.edit(tx, bytes.Clone(data))
			dup, err := e.g.Submit(context.Background(), tx, data, embedded.SubmitOptions{TrustedItems: true})
			if err == nil || dup || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Submit = %v, %v; want an error with %q", dup, err, c.want)
			}
			recs, err := e.g.Records()
			must(t, err)
			if len(recs) != 0 {
				t.Fatalf("a refused transaction stored %d records: %v", len(recs), slices.Collect(maps.Keys(recs)))
			}
			if s, err := e.g.TxStatus(tx.ID); err != nil || s.Known {
				t.Errorf("TxStatus of the refused tx = %+v, %v", s, err)
			}
			if _, _, ok, _ := e.g.Data(it.Id); ok {
				t.Error("the item of a refused bundle is served")
			}
		})
	}
	// The untouched transaction is accepted, so the refusals above were for what each case changed.
	tx, data := submitForm(good)
	if _, err := e.g.Submit(context.Background(), tx, data, embedded.SubmitOptions{}); err != nil {
		t.Fatal(err)
	}
	if got, _, ok, _ := e.g.Data(it.Id); !ok || len(got) != 1000 {
		t.Errorf("item of the good bundle: %d bytes, %v", len(got), ok)
	}
}

// idOf is the transaction id a signature gives.
func idOf(sig []byte) string {
	h := sha256.Sum256(sig)
	return utils.Base64Encode(h[:])
}

// TestSubmitTrustedItems: TrustedItems skips the signature check of the bundle's own items, and only then;
// items must still match the bundle header, and the items of a nested bundle are verified either way.
func TestSubmitTrustedItems(t *testing.T) {
	sa, sb := signers(t)
	run := tag("Run", "trusted")
	good1 := mkItem(t, sa, []byte("good 1"), "", "", aoTags("Message", run)...)
	broken := mkItem(t, sa, []byte("will be changed"), "", "", aoTags("Message", run)...)
	broken.ItemBinary = bytes.Clone(broken.ItemBinary)
	broken.ItemBinary[len(broken.ItemBinary)-1] ^= 0x01 // the signature no longer holds; the id stays
	misnamed := mkItem(t, sa, []byte("misnamed"), "", "", aoTags("Message", run)...)
	realID := misnamed.Id
	misnamed.Id = utils.Base64Encode(randBytes(32)) // the bundle header names another id
	innerBroken := mkItem(t, sa, []byte("inner, will be changed"), "", "", aoTags("Message", run)...)
	innerBroken.ItemBinary = bytes.Clone(innerBroken.ItemBinary)
	innerBroken.ItemBinary[len(innerBroken.ItemBinary)-1] ^= 0x01
	innerGood := mkItem(t, sa, []byte("inner good"), "", "", aoTags("Message", run)...)
	is, err := goar.NewItemSigner(sb)
	must(t, err)
	nested, err := is.CreateAndSignNestedItem("", "", []types.Tag{run}, innerGood, innerBroken)
	must(t, err)
	good2 := mkItem(t, sa, []byte("good 2"), "", "", aoTags("Message", run)...)
	b := bundle(t, good1, broken, misnamed, nested, good2)

	for _, c := range []struct {
		trusted bool
		want    []string
	}{
		{false, itemIDs(good1, nested, innerGood, good2)},
		{true, itemIDs(good1, broken, nested, innerGood, good2)},
	} {
		e := newEnv(t, embedded.Options{})
		tx, data := submitForm(e.signBundleTx(b.BundleBinary))
		if _, err := e.g.Submit(context.Background(), tx, data, embedded.SubmitOptions{TrustedItems: c.trusted}); err != nil {
			t.Fatal(err)
		}
		got := ids(all(t, e.c, gateway.TxQuery{Tags: []gateway.TagFilter{{Name: "Run", Values: []string{"trusted"}}}, Sort: gateway.SortHeightAsc}))
		if !slices.Equal(got, c.want) {
			t.Errorf("TrustedItems %v: indexed %v, want %v", c.trusted, got, c.want)
		}
		data, _, ok, err := e.g.Data(broken.Id)
		must(t, err)
		if ok != c.trusted || (ok && string(data) != "will be change"+string('d'^1)) {
			t.Errorf("TrustedItems %v: broken item served %v (%q)", c.trusted, ok, data)
		}
		for _, id := range []string{realID, misnamed.Id, innerBroken.Id} {
			if _, _, ok, _ := e.g.Data(id); ok {
				t.Errorf("TrustedItems %v: %s indexed", c.trusted, id)
			}
		}
	}
}
