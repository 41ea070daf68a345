package bundler

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/everFinance/goar"
	"github.com/everFinance/goar/utils"
	"github.com/everFinance/goether"

	"github.com/aonode/aonode/bundler/ans104"
)

// ethSigner signs type-3 items with goar's own Ethereum item signer: the node does not sign with such keys,
// but it must parse and verify items clients sign with them.
type ethSigner struct {
	is   *goar.ItemSigner
	s    *goether.Signer
	addr string
}

func newEthSigner(t testing.TB) *ethSigner {
	t.Helper()
	s, err := goether.NewSigner("1f2e3d4c5b6a79881f2e3d4c5b6a79881f2e3d4c5b6a79881f2e3d4c5b6a7988")
	if err != nil {
		t.Fatal(err)
	}
	is, err := goar.NewItemSigner(s)
	if err != nil {
		t.Fatal(err)
	}
	return &ethSigner{is: is, s: s, addr: s.Address.String()}
}

func (e *ethSigner) Sign(data []byte, target, anchor string, tags []Tag) (*Item, error) {
	gt, a, err := goarFields(anchor, tags)
	if err != nil {
		return nil, err
	}
	bi, err := e.is.CreateAndSignItem(data, target, a, gt)
	if err != nil {
		return nil, err
	}
	return fromGoar(&bi)
}
func (e *ethSigner) Address() string    { return e.addr }
func (e *ethSigner) Owner() string      { return B64(e.s.GetPublicKey()) }
func (e *ethSigner) SignatureType() int { return SigEthereum }

func ed25519Key(t testing.TB) *Ed25519Key {
	t.Helper()
	b, err := GenerateEd25519JWK()
	if err != nil {
		t.Fatal(err)
	}
	k, err := NewEd25519Key(b)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// Every signature type the node handles: items round-trip through Parse, ParseStored and Rebuild (a gateway's
// fields), carry their signer's address, and any changed byte fails verification.
func TestSignersRoundTripAndVerify(t *testing.T) {
	signers := []struct {
		name    string
		s       Signer
		sigType int
	}{
		{"rsa", wallet(t), SigArweave},
		{"ed25519", ed25519Key(t), SigEd25519},
		{"ethereum", newEthSigner(t), SigEthereum},
	}
	anchor := "0123456789abcdef0123456789abcdef"
	target := B64(bytes.Repeat([]byte{7}, 32))
	tags := []Tag{{"Data-Protocol", "ao"}, {"Action", "Set"}, {"Note", "héllo ✓"}}
	for _, sc := range signers {
		t.Run(sc.name, func(t *testing.T) {
			if sc.s.SignatureType() != sc.sigType {
				t.Fatalf("signature type %d, want %d", sc.s.SignatureType(), sc.sigType)
			}
			it, err := sc.s.Sign([]byte("payload"), target, anchor, tags)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Parse(it.Raw)
			if err != nil {
				t.Fatalf("parse own item: %v", err)
			}
			if got.SignatureType != sc.sigType || got.ID != it.ID || got.Owner != sc.s.Owner() ||
				got.Target != target || got.Anchor != anchor || string(got.Data) != "payload" || len(got.Tags) != 3 {
				t.Fatalf("round trip mismatch: %+v", got)
			}
			if got.OwnerAddress() != sc.s.Address() || got.OwnerAddress() == "" {
				t.Fatalf("owner address %q, signer's %q", got.OwnerAddress(), sc.s.Address())
			}
			if stored, err := ParseStored(it.Raw); err != nil || stored.ID != it.ID {
				t.Fatalf("ParseStored: %v", err)
			}
			rebuilt, err := Rebuild(Fields{Signature: it.Signature, Owner: it.Owner, Target: it.Target, Anchor: B64([]byte(anchor)), Tags: it.Tags, Data: it.Data})
			if err != nil || !bytes.Equal(rebuilt.Raw, it.Raw) || rebuilt.SignatureType != sc.sigType {
				t.Fatalf("rebuild from a gateway's fields: %v", err)
			}
			if _, err := Rebuild(Fields{Signature: it.Signature, Owner: it.Owner, Target: it.Target, Tags: it.Tags, Data: it.Data}); !errors.Is(err, ErrInvalidItem) {
				t.Fatalf("rebuild without the anchor: want ErrInvalidItem, got %v", err)
			}
			sigEnd := 2 + len(mustB64(t, it.Signature))
			for name, i := range map[string]int{
				"signature": 2 + 5,
				"owner":     sigEnd + 3,
				"tag":       len(it.Raw) - len("payload") - 2,
				"data":      len(it.Raw) - 1,
			} {
				b := bytes.Clone(it.Raw)
				b[i] ^= 1
				if _, err := Parse(b); !errors.Is(err, ErrInvalidItem) {
					t.Errorf("tampered %s: want ErrInvalidItem, got %v", name, err)
				}
			}
		})
	}
}

func mustB64(t testing.TB, s string) []byte {
	t.Helper()
	b, err := DecodeB64(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// An ed25519 signer's address is base64url(sha256(its 32-byte public key)), computed here independently.
func TestEd25519Address(t *testing.T) {
	k := ed25519Key(t)
	pub := k.priv.Public().(ed25519.PublicKey)
	h := sha256.Sum256(pub)
	if want := B64(h[:]); k.Address() != want || len(k.Address()) != 43 {
		t.Fatalf("address %s, want %s", k.Address(), want)
	}
	if k.Owner() != B64(pub) || len(mustB64(t, k.Owner())) != 32 {
		t.Fatalf("owner %s is not the 32-byte public key", k.Owner())
	}
	if strings.Contains(k.String(), B64(k.priv.Seed())) {
		t.Fatal("String reveals the seed")
	}
}

func TestLoadOrCreateSigner(t *testing.T) {
	dir := t.TempDir()
	for _, typ := range []string{KeyRSA, KeyEd25519} {
		t.Run(typ, func(t *testing.T) {
			path := filepath.Join(dir, typ, "wallet.json")
			s1, created, err := LoadOrCreateSigner(path, typ)
			if err != nil || !created {
				t.Fatalf("create: %v created=%v", err, created)
			}
			if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
				t.Fatalf("key file mode: %v", err)
			}
			s2, created, err := LoadOrCreateSigner(path, typ)
			if err != nil || created || s2.Address() != s1.Address() || s2.SignatureType() != s1.SignatureType() {
				t.Fatalf("load: %v created=%v %s vs %s", err, created, s2, s1)
			}
			other := map[string]string{KeyRSA: KeyEd25519, KeyEd25519: KeyRSA}[typ]
			if _, _, err := LoadOrCreateSigner(path, other); err == nil || !strings.Contains(err.Error(), "holds an "+typ+" key") {
				t.Fatalf("a %s key loaded as %s: %v", typ, other, err)
			}
		})
	}
	bad := map[string]string{
		"not json":      "{",
		"unknown kty":   `{"kty":"EC","crv":"P-256"}`,
		"short seed":    `{"kty":"OKP","crv":"Ed25519","d":"AAAA"}`,
		"x not d's key": `{"kty":"OKP","crv":"Ed25519","d":"` + B64(make([]byte, 32)) + `","x":"` + B64(bytes.Repeat([]byte{1}, 32)) + `"}`,
	}
	for name, content := range bad {
		path := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".json")
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, _, err := LoadOrCreateSigner(path, KeyEd25519); err == nil {
			t.Errorf("%s: a bad key file must be an error, never replaced", name)
		}
		if b, _ := os.ReadFile(path); string(b) != content {
			t.Errorf("%s: the file was changed", name)
		}
	}
	if _, _, err := LoadOrCreateSigner(filepath.Join(dir, "x.json"), "dsa"); err == nil {
		t.Fatal("an unknown wallet type must be refused")
	}
}

// BenchmarkSignItemByKey is the cost of one assignment's signature with each key type.
func BenchmarkSignItemByKey(b *testing.B) {
	for _, c := range []struct {
		name string
		s    Signer
	}{{"rsa4096", wallet(b)}, {"ed25519", ed25519Key(b)}} {
		b.Run(c.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, err := c.s.Sign(nil, "", "", []Tag{{Name: "Type", Value: "Assignment"}}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// signViaGoar is how Ed25519Key.Sign made items before it laid them out itself: through goar's item and its
// base64 fields. ed25519 signatures are deterministic, so both must give the same item, byte for byte.
func signViaGoar(k *Ed25519Key, data []byte, target, anchor string, tags []Tag) (*Item, error) {
	gt, a, err := goarFields(anchor, tags)
	if err != nil {
		return nil, err
	}
	bi, err := ans104.NewItem(k.owner, SigEd25519, target, a, data, gt)
	if err != nil {
		return nil, err
	}
	msg, err := utils.BundleItemSignData(*bi)
	if err != nil {
		return nil, err
	}
	sig := ed25519.Sign(k.priv, msg)
	bi.Signature, bi.Id = B64(sig), idOf(sig)
	if bi.ItemBinary, err = utils.GenerateItemBinary(bi); err != nil {
		return nil, err
	}
	return fromGoar(bi)
}

// signCases are items with every kind of field the layout has: none, an assignment's tags and anchor, a
// message's target, large binary data and tag bytes that are not UTF-8.
var signCases = []struct {
	name           string
	data           []byte
	target, anchor string
	tags           []Tag
}{
	{"empty", nil, "", "", nil},
	{"assignment", nil, "", strings.Repeat("a", 32), []Tag{{Name: "Type", Value: "Assignment"}, {Name: "Nonce", Value: "7"}}},
	{"message", []byte("hello"), B64(bytes.Repeat([]byte{7}, 32)), "", []Tag{{Name: "Action", Value: "Set"}, {Name: "Key", Value: "k"}}},
	{"anchor", []byte(" "), B64(bytes.Repeat([]byte{9}, 32)), strings.Repeat("a", 32), []Tag{{Name: "Data-Protocol", Value: "ao"}}},
	{"no target, data", bytes.Repeat([]byte{0, 1, 2}, 40000), "", strings.Repeat("z", 32), []Tag{{Name: "n", Value: "\xff\x00 v"}}},
}

// refusesBadFields: a target that is not base64 or not 32 bytes, or an anchor not 32 bytes, is refused.
func refusesBadFields(t *testing.T, s Signer) {
	t.Helper()
	for _, c := range []struct{ target, anchor string }{{"not base64!", ""}, {B64([]byte("short")), ""}, {"", "short anchor"}} {
		if _, err := s.Sign(nil, c.target, c.anchor, nil); err == nil {
			t.Errorf("target %q anchor %q: signed", c.target, c.anchor)
		}
	}
}

func TestEd25519SignMatchesGoar(t *testing.T) {
	k := ed25519Key(t)
	for _, c := range signCases {
		t.Run(c.name, func(t *testing.T) {
			got, err := k.Sign(c.data, c.target, c.anchor, c.tags)
			if err != nil {
				t.Fatal(err)
			}
			want, err := signViaGoar(k, c.data, c.target, c.anchor, c.tags)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("Sign gives\n%+v\ngoar's path gives\n%+v", got, want)
			}
			if _, err := Parse(got.Raw); err != nil {
				t.Fatalf("the item does not verify: %v", err)
			}
		})
	}
	refusesBadFields(t, k)
}

// An RSA wallet with its primes lays its items out itself and signs them with ans104.RSAKey; goar's item
// signer (signViaGoar) is the reference. PSS salts are random, so the two items differ only in the signature
// and the id; everything else, the binary included, must be the same, and both must verify.
func TestRSASignMatchesGoar(t *testing.T) {
	w := wallet(t)
	if w.crt == nil {
		t.Fatal("a generated wallet has its primes, but it signs through goar")
	}
	for _, c := range signCases {
		t.Run(c.name, func(t *testing.T) {
			signer := w
			if len(c.tags)%2 == 0 { // half the cases sign their CRT halves in turn
				if signer = w.InTurn(); !signer.inTurn || w.inTurn || signer.Address() != w.Address() {
					t.Fatal("InTurn is not the same wallet signing in turn")
				}
			}
			got, err := signer.Sign(c.data, c.target, c.anchor, c.tags)
			if err != nil {
				t.Fatal(err)
			}
			want, err := w.signViaGoar(c.data, c.target, c.anchor, c.tags)
			if err != nil {
				t.Fatal(err)
			}
			if got.ID == want.ID || len(got.Raw) != len(want.Raw) {
				t.Fatalf("ids %s %s, lengths %d %d", got.ID, want.ID, len(got.Raw), len(want.Raw))
			}
			const sigEnd = 2 + 512 // signature type, then the RSA-4096 signature
			if !bytes.Equal(got.Raw[:2], want.Raw[:2]) || !bytes.Equal(got.Raw[sigEnd:], want.Raw[sigEnd:]) {
				t.Fatal("the binaries differ outside the signature")
			}
			g, wnt := *got, *want
			g.ID, g.Signature, g.Raw, g.Data, wnt.ID, wnt.Signature, wnt.Raw, wnt.Data = "", "", nil, nil, "", "", nil, nil
			if !reflect.DeepEqual(g, wnt) || !bytes.Equal(got.Data, want.Data) {
				t.Fatalf("Sign gives\n%+v\ngoar's path gives\n%+v", g, wnt)
			}
			for _, it := range []*Item{got, want} {
				if p, err := Parse(it.Raw); err != nil || p.ID != it.ID {
					t.Fatalf("the item does not verify: %v", err)
				}
			}
		})
	}
	refusesBadFields(t, w)
}

// A JWK with only n, e and d (no primes) still signs, through goar.
func TestWalletWithoutPrimesSigns(t *testing.T) {
	var j map[string]string
	if err := json.Unmarshal(wallet(t).jwk, &j); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"p", "q", "dp", "dq", "qi"} {
		delete(j, f)
	}
	b, _ := json.Marshal(j)
	w, err := NewWallet(b)
	if err != nil {
		t.Fatal(err)
	}
	if w.crt != nil || w.Address() != wallet(t).Address() {
		t.Fatalf("crt %v, address %s", w.crt, w.Address())
	}
	it, err := w.Sign([]byte("x"), "", "", []Tag{{Name: "a", Value: "b"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Parse(it.Raw); err != nil {
		t.Fatal(err)
	}
}
