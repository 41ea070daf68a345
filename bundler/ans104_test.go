package bundler

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/everFinance/goar/types"
	"github.com/everFinance/goar/utils"

	"github.com/aonode/aonode/bundler/ans104"
)

// goarDecode is goar's own decoder, the reference decodeItem must match; a panic is a refusal.
func goarDecode(raw []byte) (bi *types.BundleItem, err error) {
	defer func() {
		if r := recover(); r != nil {
			bi, err = nil, ans104.ErrItemLayout
		}
	}()
	return utils.DecodeBundleItem(raw)
}

// sameAsGoar fails unless decodeItem accepts exactly what goar accepts, with the same result.
func sameAsGoar(t *testing.T, name string, raw []byte) {
	t.Helper()
	want, werr := goarDecode(raw)
	got, gerr := ans104.Decode(raw)
	if (werr == nil) != (gerr == nil) {
		t.Fatalf("%s: goar err %v, ours %v", name, werr, gerr)
	}
	if werr == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("%s: decoded\n%+v\nwant\n%+v", name, got, want)
	}
}

func TestDecodeItemMatchesGoar(t *testing.T) {
	target, anchor := B64(bytes.Repeat([]byte{9}, 32)), "0123456789abcdef0123456789abcdef"
	tagSets := [][]Tag{nil, {{"A", ""}}, {{"Data-Protocol", "ao"}, {"Type", "Message"}, {"Note", "héllo ✓ 世界"}},
		{{"Long", string(bytes.Repeat([]byte("x"), 3000))}, {"B", "c"}}}
	signers := map[string]Signer{"rsa": wallet(t), "ed25519": ed25519Key(t), "ethereum": newEthSigner(t)}
	for name, s := range signers {
		for i, tags := range tagSets {
			for _, ta := range [][2]string{{"", ""}, {target, ""}, {"", anchor}, {target, anchor}} {
				for _, data := range [][]byte{nil, []byte("payload"), bytes.Repeat([]byte{0, 1, 2}, 1000)} {
					it, err := s.Sign(data, ta[0], ta[1], tags)
					if err != nil {
						t.Fatal(err)
					}
					sameAsGoar(t, name, it.Raw)
					if i == 2 && len(data) == 7 {
						// Every truncation and a flipped byte in the header are refused or read alike.
						for n := range len(it.Raw) {
							sameAsGoar(t, name+" truncated", it.Raw[:n])
						}
						for j := range min(len(it.Raw), 1200) {
							b := bytes.Clone(it.Raw)
							b[j] ^= 0xff
							sameAsGoar(t, name+" flipped", b)
						}
					}
				}
			}
		}
	}
}

// encodeTags writes what goar's SerializeTags writes.
func TestEncodeTagsMatchesGoar(t *testing.T) {
	for _, tags := range [][]types.Tag{nil, {{Name: "A", Value: ""}}, {{Name: "Note", Value: "héllo ✓"}, {Name: "Long", Value: string(bytes.Repeat([]byte("y"), 300))}}} {
		want, err := utils.SerializeTags(tags)
		if err != nil {
			t.Fatal(err)
		}
		if got := ans104.EncodeTags(tags); !bytes.Equal(got, want) {
			t.Fatalf("%v: %x, want %x", tags, got, want)
		}
	}
}

func BenchmarkDecodeItem(b *testing.B) {
	it, err := ed25519Key(b).Sign([]byte("x"), "", "", []Tag{{"Data-Protocol", "ao"}, {"Type", "Message"}, {"Action", "Set"}, {"Key", "k"}, {"Value", "v"}})
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		fn   func([]byte) (*types.BundleItem, error)
	}{{"aonode", ans104.Decode}, {"goar-baseline", utils.DecodeBundleItem}} {
		b.Run(c.name, func(b *testing.B) {
			for range b.N {
				if _, err := c.fn(it.Raw); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
