package bundler

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/everFinance/goar/utils"

	"github.com/aonode/aonode/bundler/ans104"
)

var (
	testWalletOnce sync.Once
	testWallet     *Wallet
)

func wallet(t testing.TB) *Wallet {
	t.Helper()
	testWalletOnce.Do(func() {
		jwk, err := GenerateJWK()
		if err != nil {
			t.Fatal(err)
		}
		if testWallet, err = NewWallet(jwk); err != nil {
			t.Fatal(err)
		}
	})
	return testWallet
}

func TestSignParseRoundTrip(t *testing.T) {
	w := wallet(t)
	target := B64(bytes.Repeat([]byte{7}, 32))
	cases := []struct {
		name           string
		data           []byte
		target, anchor string
		tags           []Tag
	}{
		{"plain", []byte("hello"), "", "", []Tag{{"Data-Protocol", "ao"}, {"Type", "Message"}}},
		{"target and anchor", []byte("x"), target, "00000000000000000000000000000001", []Tag{{"Action", "Set"}}},
		{"duplicate tags keep order", []byte(" "), target, "", []Tag{{"Variant", "ao.TN.2"}, {"Type", "Process"}, {"Variant", "ao.TN.1"}}},
		{"unicode and empty value", []byte("ü"), "", "", []Tag{{"Note", "héllo ✓ 世界"}, {"Empty", ""}}},
		{"no tags, empty data", nil, "", "", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			it, err := w.Sign(tc.data, tc.target, tc.anchor, tc.tags)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Parse(it.Raw)
			if err != nil {
				t.Fatalf("parse own item: %v", err)
			}
			stored, err := ParseStored(it.Raw)
			if err != nil || !reflect.DeepEqual(stored, got) {
				t.Fatalf("ParseStored differs from Parse: %+v %v", stored, err)
			}
			if got.ID != it.ID || got.Target != tc.target || got.Anchor != tc.anchor || !bytes.Equal(got.Data, tc.data) {
				t.Fatalf("round trip mismatch: %+v", got)
			}
			if len(got.Tags) != len(tc.tags) {
				t.Fatalf("tags %v, want %v", got.Tags, tc.tags)
			}
			for i := range tc.tags {
				if got.Tags[i] != tc.tags[i] {
					t.Fatalf("tag %d = %v, want %v", i, got.Tags[i], tc.tags[i])
				}
			}
			if got.OwnerAddress() != w.Address() {
				t.Fatalf("owner address %s, want %s", got.OwnerAddress(), w.Address())
			}
		})
	}
	if v, _ := FirstTag([]Tag{{"Variant", "a"}, {"Variant", "b"}}, "Variant"); v != "a" {
		t.Fatalf("first occurrence must win, got %q", v)
	}
}

func TestParseRejectsBadInput(t *testing.T) {
	w := wallet(t)
	good, err := w.Sign([]byte("payload"), "", "", []Tag{{"A", "b"}})
	if err != nil {
		t.Fatal(err)
	}
	flip := func(i int) []byte {
		b := bytes.Clone(good.Raw)
		b[i] ^= 1
		return b
	}
	cases := map[string][]byte{
		"empty":            nil,
		"one byte":         {1},
		"unknown sig type": append([]byte{9, 0}, good.Raw[2:]...),
		"truncated sig":    good.Raw[:100],
		"truncated header": good.Raw[:2+512+512+1],
		"tampered data":    flip(len(good.Raw) - 1),
		"tampered tag":     flip(2 + 512 + 512 + 2 + 16 + 1),
		"tampered sig":     flip(10),
	}
	for name, raw := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := Parse(raw); !errors.Is(err, ErrInvalidItem) {
				t.Fatalf("want ErrInvalidItem, got %v", err)
			}
		})
	}
	// ParseStored skips only the RSA check: malformed bytes are still refused, and a changed signature
	// changes the id, so a damaged stored item cannot pass for the one it replaced.
	for _, name := range []string{"empty", "one byte", "unknown sig type", "truncated sig", "truncated header"} {
		if _, err := ParseStored(cases[name]); !errors.Is(err, ErrInvalidItem) {
			t.Fatalf("ParseStored %s: want ErrInvalidItem, got %v", name, err)
		}
	}
	if it, err := ParseStored(cases["tampered sig"]); err == nil && it.ID == good.ID {
		t.Fatal("ParseStored kept the id of an item whose signature changed")
	}
	if _, err := w.Sign(nil, "", "short", nil); err == nil {
		t.Fatal("an anchor that is not 32 bytes must be refused")
	}
}

func TestLoadOrCreateWallet(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "wallet.json")
	w1, created, err := LoadOrCreateWallet(path)
	if err != nil || !created {
		t.Fatalf("create: %v created=%v", err, created)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("wallet file mode %v, err %v", st.Mode().Perm(), err)
	}
	w2, created, err := LoadOrCreateWallet(path)
	if err != nil || created {
		t.Fatalf("load: %v created=%v", err, created)
	}
	if w1.Address() != w2.Address() || len(w1.Address()) != 43 {
		t.Fatalf("addresses differ: %s %s", w1.Address(), w2.Address())
	}
	if err := os.WriteFile(path, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadOrCreateWallet(path); err == nil {
		t.Fatal("a corrupt wallet must be an error, never silently replaced")
	}
}

// Nodes sharing one MU wallet may all create it at once: one key wins and every node loads that one.
func TestLoadOrCreateWalletRace(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shared.json")
	const n = 3
	addrs, created := make([]string, n), make([]bool, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w, c, err := LoadOrCreateWallet(path)
			if err != nil {
				t.Error(err)
				return
			}
			addrs[i], created[i] = w.Address(), c
		}()
	}
	wg.Wait()
	w, _, err := LoadOrCreateWallet(path)
	if err != nil {
		t.Fatal(err)
	}
	winners := 0
	for i := range n {
		if addrs[i] != w.Address() {
			t.Fatalf("creator %d holds %s, the file holds %s", i, addrs[i], w.Address())
		}
		if created[i] {
			winners++
		}
	}
	if winners != 1 {
		t.Fatalf("%d creators say they created the wallet", winners)
	}
	if left, _ := filepath.Glob(path + ".tmp*"); len(left) != 0 {
		t.Fatalf("temporary files left: %v", left)
	}
}

func TestRebuild(t *testing.T) {
	w := wallet(t)
	anchor := "0123456789abcdef0123456789abcdef"
	target := B64(make([]byte, 32))
	it, err := w.Sign([]byte("payload"), target, anchor, []Tag{{Name: "Action", Value: "Eval"}, {Name: "Unicode", Value: "héllo ✓"}})
	if err != nil {
		t.Fatal(err)
	}
	good := Fields{Signature: it.Signature, Owner: it.Owner, Target: it.Target, Anchor: B64([]byte(anchor)), Tags: it.Tags, Data: it.Data}
	cases := []struct {
		name   string
		mutate func(f *Fields)
		ok     bool
	}{
		{"exact fields", func(f *Fields) {}, true},
		{"anchor lost", func(f *Fields) { f.Anchor = "" }, false},
		{"tag changed", func(f *Fields) { f.Tags = []Tag{{Name: "Action", Value: "Set"}, f.Tags[1]} }, false},
		{"data changed", func(f *Fields) { f.Data = []byte("payloaD") }, false},
		{"bad signature encoding", func(f *Fields) { f.Signature = "%%%" }, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := good
			c.mutate(&f)
			got, err := Rebuild(f)
			if !c.ok {
				if !errors.Is(err, ErrInvalidItem) {
					t.Fatalf("want ErrInvalidItem, got %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.ID != it.ID || !bytes.Equal(got.Raw, it.Raw) {
				t.Fatalf("rebuilt item differs: id %s vs %s", got.ID, it.ID)
			}
		})
	}
}

func TestCheckUTF8(t *testing.T) {
	for _, tc := range []struct {
		name string
		tags []Tag
		ok   bool
	}{
		{"ascii", []Tag{{"Action", "Eval"}}, true},
		{"multibyte", []Tag{{"Name", "héllo ✓ 🚀"}}, true},
		{"no tags", nil, true},
		{"bad value", []Tag{{"A", "b"}, {"K", "a\xffb"}}, false},
		{"bad name", []Tag{{"K\xc3", "v"}}, false},
		{"surrogate", []Tag{{"K", "\xed\xa0\x80"}}, false},
		{"truncated", []Tag{{"K", "\xe2\x9c"}}, false},
	} {
		err := (&Item{Tags: tc.tags}).CheckUTF8()
		if (err == nil) != tc.ok || err != nil && !errors.Is(err, ErrInvalidItem) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

// The owner-address cache gives what the hash gives, and stays bounded.
func TestOwnerToAddressCache(t *testing.T) {
	direct := func(owner string) string {
		b, _ := base64.RawURLEncoding.DecodeString(owner)
		h := sha256.Sum256(b)
		return base64.RawURLEncoding.EncodeToString(h[:])
	}
	for i := range maxOwnerAddrs + 10 {
		key := make([]byte, 32)
		binary.BigEndian.PutUint64(key, uint64(i))
		owner := base64.RawURLEncoding.EncodeToString(key)
		for range 2 { // computed, then cached
			if got, want := OwnerToAddress(owner), direct(owner); got != want {
				t.Fatalf("key %d: %s, want %s", i, got, want)
			}
		}
	}
	ownerAddrs.Lock()
	n := len(ownerAddrs.m)
	ownerAddrs.Unlock()
	if n > maxOwnerAddrs {
		t.Fatalf("cache holds %d addresses, bound %d", n, maxOwnerAddrs)
	}
	if OwnerToAddress("not base64!") != "" {
		t.Fatal("a bad key has an address")
	}
}

// ans104.Verify (which Parse uses) accepts exactly the items goar's VerifyBundleItem accepts: RSA items take
// its own RSA check, the others goar's. Every byte of each item is flipped in turn.
func TestVerifyMatchesGoar(t *testing.T) {
	accepted := 0
	for name, key := range map[string]Signer{"rsa": wallet(t), "ed25519": ed25519Key(t)} {
		it, err := key.Sign([]byte("payload"), strings.Repeat("t", 43), strings.Repeat("a", 32), []Tag{{"Action", "Set"}})
		if err != nil {
			t.Fatal(err)
		}
		for i := -1; i < len(it.Raw); i++ {
			raw := bytes.Clone(it.Raw)
			if i >= 0 {
				raw[i] ^= 0x04
			}
			bi, err := ans104.Decode(raw)
			if err != nil {
				continue
			}
			got, want := ans104.Verify(bi), utils.VerifyBundleItem(*bi)
			if (got == nil) != (want == nil) {
				t.Fatalf("%s, byte %d flipped: ans104.Verify says %v, goar %v", name, i, got, want)
			}
			if got == nil {
				accepted++
			}
			if i == -1 {
				if got != nil {
					t.Fatalf("%s: a good item is refused: %v", name, got)
				}
				bi.Id = strings.Repeat("A", 43) // an id that is not the signature's hash
				if ans104.Verify(bi) == nil {
					t.Fatalf("%s: an item whose id is not its signature's hash passed", name)
				}
			}
		}
	}
	if accepted < 2 {
		t.Fatalf("%d items accepted; the two unchanged ones must be", accepted)
	}
}
