package embedded_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aonode/aonode/bundler"
	"github.com/aonode/aonode/gateway"
	"github.com/aonode/aonode/gateway/embedded"
	"github.com/everFinance/goar/utils"
)

// The bundler-service contract (Turbo's POST /tx/arweave and its /v1 aliases): a raw signed item in, the
// JSON receipt out, and the item indexed as if a bundler had bundled it.
func TestBundlerServiceRoutes(t *testing.T) {
	sa, _ := signers(t)
	e := newEnv(t, embedded.Options{})
	for _, path := range []string{"/tx/arweave", "/v1/tx", "/v1/tx/arweave"} {
		t.Run(path, func(t *testing.T) {
			data := []byte("posted to " + path)
			it := mkItem(t, sa, data, "", "", aoTags("Message", tag("Bundler-Route", path), tag("Content-Type", "text/plain"))...)
			before := time.Now().UnixMilli()
			r := e.do(http.MethodPost, path, "application/octet-stream", it.ItemBinary)
			after := time.Now().UnixMilli()
			if r.status != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
				t.Fatalf("POST %s = %d %q %s", path, r.status, r.header.Get("Content-Type"), r.body)
			}
			var receipt map[string]any
			r.json(t, &receipt)
			ts, _ := receipt["timestamp"].(float64)
			if receipt["id"] != it.Id || receipt["owner"] != sa.Address || int64(ts) < before || int64(ts) > after {
				t.Errorf("receipt %s, want id %s, owner %s, timestamp in [%d, %d] ms", r.body, it.Id, sa.Address, before, after)
			}

			got := e.get("/" + it.Id)
			if got.status != http.StatusOK || !bytes.Equal(got.body, data) || got.header.Get("Content-Type") != "text/plain" {
				t.Errorf("GET /%s = %d %q %q", it.Id, got.status, got.header.Get("Content-Type"), got.body)
			}
			q := gateway.TxQuery{Tags: []gateway.TagFilter{{Name: "Bundler-Route", Values: []string{path}}}}
			txs := all(t, e.c, q)
			if !slices.Equal(ids(txs), []string{it.Id}) || txs[0].Block == nil || txs[0].Owner.Address != sa.Address {
				t.Fatalf("GraphQL by tag = %+v, want the one item, mined", txs)
			}

			again := e.do(http.MethodPost, path, "application/octet-stream", it.ItemBinary)
			if again.status != http.StatusOK || !bytes.Equal(again.body, r.body) {
				t.Errorf("re-POST = %d %s, want 200 %s", again.status, again.body, r.body)
			}
			if n := len(all(t, e.c, q)); n != 1 {
				t.Errorf("after a duplicate POST the item is indexed %d times", n)
			}
		})
	}
}

func TestBundlerServiceRejects(t *testing.T) {
	sa, _ := signers(t)
	tampered := mkItem(t, sa, []byte("tampered"), "", "", aoTags("Message", tag("Reject", "tampered"))...)
	tampered.ItemBinary = bytes.Clone(tampered.ItemBinary)
	tampered.ItemBinary[len(tampered.ItemBinary)-1] ^= 1 // the id (hash of the signature) is unchanged
	oversize := mkItem(t, sa, randBytes(8000), "", "", aoTags("Message", tag("Reject", "oversize"))...)
	truncated := mkItem(t, sa, []byte("truncated"), "", "", aoTags("Message", tag("Reject", "truncated"))...)
	cases := []struct {
		name    string
		maxBody int64
		id      string
		body    []byte
		status  int
		errHas  string
	}{
		{"bad signature", 0, tampered.Id, tampered.ItemBinary, http.StatusBadRequest, "signature"},
		{"truncated", 0, truncated.Id, truncated.ItemBinary[:len(truncated.ItemBinary)/2], http.StatusBadRequest, "data item"},
		{"empty", 0, "", nil, http.StatusBadRequest, "empty"},
		{"oversize", 4096, oversize.Id, oversize.ItemBinary, http.StatusRequestEntityTooLarge, "larger than 4096"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, embedded.Options{MaxBodyBytes: tc.maxBody})
			r := e.do(http.MethodPost, "/tx/arweave", "application/octet-stream", tc.body)
			var ans struct{ Error string }
			r.json(t, &ans)
			if r.status != tc.status || !strings.Contains(ans.Error, tc.errHas) {
				t.Errorf("= %d %s, want %d with an error naming %q", r.status, r.body, tc.status, tc.errHas)
			}
			if tc.id != "" {
				if got := e.get("/" + tc.id); got.status != http.StatusNotFound {
					t.Errorf("rejected item is served: GET = %d", got.status)
				}
			}
			if txs := all(t, e.c, gateway.TxQuery{Tags: []gateway.TagFilter{{Name: "Reject", Values: []string{tc.name}}}}); len(txs) != 0 {
				t.Errorf("rejected item is indexed: %v", ids(txs))
			}
		})
	}
}

// An item posted bundler-style carries the same GraphQL fields as one unbundled from an L1 bundle.
func TestBundlerServiceIndexesLikeBundledItems(t *testing.T) {
	sa, _ := signers(t)
	e := newEnv(t, embedded.Options{})
	target := mkItem(t, sa, []byte("target"), "", "").Id
	anchor := utils.Base64Encode([]byte("00000000000000000000000000000042"))
	posted := mkItem(t, sa, []byte("p"), target, anchor, aoTags("Message", tag("Way", "posted"))...)
	bundled := mkItem(t, sa, []byte("b"), target, anchor, aoTags("Message", tag("Way", "bundled"))...)
	if r := e.do(http.MethodPost, "/tx/arweave", "application/octet-stream", posted.ItemBinary); r.status != http.StatusOK {
		t.Fatalf("POST = %d %s", r.status, r.body)
	}
	btx := e.postBundle(1, bundle(t, bundled))
	q := func(way string) gateway.Tx {
		txs := all(t, e.c, gateway.TxQuery{Tags: []gateway.TagFilter{{Name: "Way", Values: []string{way}}}, Owners: []string{sa.Address}, Recipients: []string{target}})
		if len(txs) != 1 {
			t.Fatalf("%s: GraphQL found %d items", way, len(txs))
		}
		return txs[0]
	}
	p, b := q("posted"), q("bundled")
	if b.BundledIn != btx.ID || p.BundledIn != "" {
		t.Errorf("bundledIn: posted %q, bundled %q (want \"\" and %s)", p.BundledIn, b.BundledIn, btx.ID)
	}
	if p.Anchor != b.Anchor || p.Recipient != b.Recipient || p.Owner != b.Owner || p.DataSize != b.DataSize ||
		p.Block == nil || b.Block == nil || len(p.Tags) != len(b.Tags) {
		t.Errorf("posted item %+v differs from bundled item %+v", p, b)
	}
	enc, _ := json.Marshal(p.Tags)
	if !strings.Contains(string(enc), `"Way","value":"posted"`) {
		t.Errorf("tags %s", enc)
	}
}

// Items signed with ed25519 keys (ANS-104 type 2) are indexed like RSA ones, posted alone or in a bundle:
// their owner address is base64url(sha256(32-byte key)), the GraphQL owners filter finds them by it, the
// owner key is served as signed, and their data reads back. A tampered one is refused.
func TestEd25519ItemsIndexed(t *testing.T) {
	e := newEnv(t, embedded.Options{})
	ctx := context.Background()
	jwk, err := bundler.GenerateEd25519JWK()
	must(t, err)
	k, err := bundler.NewEd25519Key(jwk)
	must(t, err)
	sign := func(way string) *bundler.Item {
		it, err := k.Sign([]byte("ed "+way), "", "00000000000000000000000000000007", []bundler.Tag{{Name: "Data-Protocol", Value: "ao"}, {Name: "Way", Value: way}})
		must(t, err)
		return it
	}
	posted, bundled := sign("posted"), sign("bundled")
	if r := e.do(http.MethodPost, "/tx/arweave", "application/octet-stream", posted.Raw); r.status != http.StatusOK {
		t.Fatalf("POST = %d %s", r.status, r.body)
	}
	bi, err := utils.DecodeBundleItem(bundled.Raw)
	must(t, err)
	btx := e.postBundle(1, bundle(t, *bi))
	key, _ := bundler.DecodeB64(k.Owner())
	h := sha256.Sum256(key)
	addr := bundler.B64(h[:])
	if addr != k.Address() {
		t.Fatalf("key address %s, want %s", k.Address(), addr)
	}
	got := all(t, e.c, gateway.TxQuery{Owners: []string{addr}, Sort: gateway.SortHeightAsc})
	if want := []string{posted.ID, bundled.ID}; !slices.Equal(ids(got), want) {
		t.Fatalf("owners filter found %v, want %v", ids(got), want)
	}
	for i, it := range []*bundler.Item{posted, bundled} {
		if got[i].Owner.Address != addr || got[i].Owner.Key != k.Owner() || got[i].Signature != it.Signature {
			t.Errorf("%s: owner %+v signature %s", it.ID, got[i].Owner, got[i].Signature)
		}
		data, _, err := e.c.Data(ctx, it.ID)
		if err != nil || string(data) != string(it.Data) {
			t.Errorf("%s: data %q %v", it.ID, data, err)
		}
	}
	if got[1].BundledIn != btx.ID {
		t.Errorf("bundledIn %q, want %s", got[1].BundledIn, btx.ID)
	}
	bad := bytes.Clone(sign("tampered").Raw)
	bad[len(bad)-1] ^= 1
	if r := e.do(http.MethodPost, "/tx/arweave", "application/octet-stream", bad); r.status != http.StatusBadRequest {
		t.Errorf("POST tampered ed25519 item = %d %s", r.status, r.body)
	}
}
