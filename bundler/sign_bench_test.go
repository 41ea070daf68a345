package bundler

import (
	"testing"

	"github.com/everFinance/goar"
	"github.com/everFinance/goar/utils"

	"github.com/aonode/aonode/bundler/ans104"
)

// BenchmarkSignItem compares signing with the full CRT key (what NewWallet builds) against the n/e/d-only key
// goar's JWK decoder gives, the baseline. Every SU assignment is one such signature.
func BenchmarkSignItem(b *testing.B) {
	w := wallet(b)
	slow, err := goar.NewSigner(w.jwk)
	if err != nil {
		b.Fatal(err)
	}
	slowItems, err := goar.NewItemSigner(slow)
	if err != nil {
		b.Fatal(err)
	}
	baseline := &Wallet{signer: slow, items: slowItems, jwk: w.jwk}
	for _, c := range []struct {
		name string
		w    *Wallet
	}{{"crt", w}, {"goar-jwk-baseline", baseline}} {
		b.Run(c.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, err := c.w.Sign(nil, "", "", []Tag{{Name: "Type", Value: "Assignment"}}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestWalletUsesCRT(t *testing.T) {
	w := wallet(t)
	if len(w.signer.PrvKey.Primes) != 2 || w.signer.PrvKey.Precomputed.Dp == nil {
		t.Fatal("wallet key lacks its CRT values")
	}
	// Bundle transactions are signed with the same CRT key.
	gw, err := w.GoarWallet("http://127.0.0.1:1")
	if err != nil || gw.Signer.PrvKey != w.signer.PrvKey || gw.Signer.Address != w.Address() {
		t.Fatalf("the L1 wallet does not sign with the CRT key: %v", err)
	}
	// The rebuilt key signs items the old one verifies the same way.
	it, err := w.Sign([]byte("x"), "", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Parse(it.Raw); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkVerifyItem compares the check of an RSA-signed item (what the MU does to every message of an
// aoconnect user) against goar's VerifyBundleItem, the baseline.
func BenchmarkVerifyItem(b *testing.B) {
	it, err := wallet(b).Sign([]byte("payload"), "", "", []Tag{{Name: "Action", Value: "Set"}, {Name: "Key", Value: "k"}})
	if err != nil {
		b.Fatal(err)
	}
	bi, err := ans104.Decode(it.Raw)
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		verify func() error
	}{{"ans104", func() error { return ans104.Verify(bi) }}, {"goar-baseline", func() error { return utils.VerifyBundleItem(*bi) }}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if err := c.verify(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
