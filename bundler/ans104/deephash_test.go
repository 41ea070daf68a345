package ans104

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"math/rand/v2"
	"testing"

	"github.com/everFinance/goar/types"
	"github.com/everFinance/goar/utils"
)

// SignData and EncodeItem give what goar's BundleItemSignData and GenerateItemBinary give for the same item,
// whatever its fields: every signature type's lengths, with and without target, anchor, tags and data.
func TestSignDataAndEncodeItemMatchGoar(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	bytesOf := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		return b
	}
	var raws, ids [][]byte
	for i := range 3000 {
		sigType := []int{types.ArweaveSignType, types.ED25519SignType, types.EthereumSignType, types.SolanaSignType}[i%4]
		meta := types.SigConfigMap[sigType]
		owner, sig := bytesOf(meta.PubLength), bytesOf(meta.SigLength)
		var target, anchor []byte
		if rng.IntN(2) == 0 {
			target = bytesOf(32)
		}
		if rng.IntN(2) == 0 {
			anchor = bytesOf(32)
		}
		var tags []types.Tag
		for range rng.IntN(4) {
			tags = append(tags, types.Tag{Name: string(bytesOf(rng.IntN(20))), Value: string(bytesOf(rng.IntN(40)))})
		}
		data := bytesOf([]int{0, 1, 55, 1000, 70000}[rng.IntN(5)])
		tagBytes := EncodeTags(tags)
		b := base64.RawURLEncoding.EncodeToString
		bi := types.BundleItem{SignatureType: sigType, Signature: b(sig), Owner: b(owner), Target: b(target), Anchor: b(anchor),
			Tags: tags, TagsBy: b(tagBytes), Data: b(data)}
		want, err := utils.BundleItemSignData(bi)
		if err != nil {
			t.Fatal(err)
		}
		if got := SignData(sigType, owner, target, anchor, tagBytes, data); !bytes.Equal(got[:], want) {
			t.Fatalf("case %d: SignData differs from goar's", i)
		}
		wantRaw, err := utils.GenerateItemBinary(&bi)
		if err != nil {
			t.Fatal(err)
		}
		if got := EncodeItem(sigType, sig, owner, target, anchor, len(tags), tagBytes, data); !bytes.Equal(got, wantRaw) {
			t.Fatalf("case %d: EncodeItem differs from goar's\n got %x\nwant %x", i, got[:min(len(got), 200)], wantRaw[:min(len(wantRaw), 200)])
		}
		// What it lays out decodes back to the same fields.
		back, err := Decode(wantRaw)
		if err != nil || back.Owner != bi.Owner || back.Target != bi.Target || back.Anchor != bi.Anchor || back.Data != bi.Data || back.TagsBy != bi.TagsBy {
			t.Fatalf("case %d: decoding the layout: %v", i, err)
		}
		id := sha256.Sum256(sig)
		raws, ids = append(raws, wantRaw), append(ids, id[:])
	}
	// EncodeBundle lays those items out as goar's NewBundle does, in bundles of every size.
	for start, n := 0, 1; start < len(raws); start, n = start+n, n*3 {
		end := min(start+n, len(raws))
		items := make([]types.BundleItem, 0, end-start)
		for i := start; i < end; i++ {
			items = append(items, types.BundleItem{Id: base64.RawURLEncoding.EncodeToString(ids[i]), ItemBinary: raws[i]})
		}
		want, err := utils.NewBundle(items...)
		if err != nil {
			t.Fatal(err)
		}
		got, err := EncodeBundle(raws[start:end], ids[start:end])
		if err != nil || !bytes.Equal(got, want.BundleBinary) {
			t.Fatalf("bundle of items %d to %d differs from goar's (%v)", start, end, err)
		}
	}
	if _, err := EncodeBundle(raws[:2], ids[:1]); err == nil {
		t.Error("a bundle with an id missing was laid out")
	}
	if _, err := EncodeBundle(raws[:1], [][]byte{ids[0][:31]}); err == nil {
		t.Error("a bundle with a short id was laid out")
	}
}

func BenchmarkSignData(b *testing.B) {
	owner, tags, data := make([]byte, 32), EncodeTags([]types.Tag{{Name: "Action", Value: "Set"}, {Name: "Key", Value: "k1"}}), make([]byte, 200)
	bi := types.BundleItem{SignatureType: types.ED25519SignType, Owner: base64.RawURLEncoding.EncodeToString(owner),
		TagsBy: base64.RawURLEncoding.EncodeToString(tags), Data: base64.RawURLEncoding.EncodeToString(data)}
	b.Run("goar", func(b *testing.B) {
		for b.Loop() {
			_, _ = utils.BundleItemSignData(bi)
		}
	})
	b.Run("ans104", func(b *testing.B) {
		for b.Loop() {
			SignData(types.ED25519SignType, owner, nil, nil, tags, data)
		}
	})
}
