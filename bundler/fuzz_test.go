package bundler

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"testing"

	"github.com/aonode/aonode/bundler/ans104"
)

// FuzzParse: any body either parses into a verified item that re-parses identically, or is refused with
// ErrInvalidItem; it never panics.
func FuzzParse(f *testing.F) {
	w := fuzzWallet(f)
	it, err := w.Sign([]byte("hello"), B64(make([]byte, 32)), "0123456789abcdef0123456789abcdef", []Tag{{Name: "Action", Value: "Eval"}})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(it.Raw)
	f.Add(it.Raw[:len(it.Raw)/2])
	f.Add([]byte{})
	f.Add([]byte{1, 0})
	f.Fuzz(func(t *testing.T, raw []byte) {
		got, err := Parse(raw)
		if err != nil {
			if !errors.Is(err, ErrInvalidItem) {
				t.Fatalf("error is not ErrInvalidItem: %v", err)
			}
			return
		}
		again, err := Parse(got.Raw)
		if err != nil || again.ID != got.ID || !bytes.Equal(again.Raw, got.Raw) {
			t.Fatalf("re-parse differs: %v", err)
		}
	})
}

// FuzzUnbundle: any bytes either unbundle or are refused; never a panic.
func FuzzUnbundle(f *testing.F) {
	f.Add([]byte{})
	f.Add(make([]byte, 32))
	f.Add(append([]byte{1}, make([]byte, 95)...))
	f.Fuzz(func(t *testing.T, raw []byte) {
		if _, err := Unbundle(raw); err != nil && !errors.Is(err, ErrInvalidItem) {
			t.Fatalf("error is not ErrInvalidItem: %v", err)
		}
	})
}

// fuzzWallet is a fixed test key: every fuzzing worker process runs the target's setup, and generating an
// RSA-4096 key there takes seconds (randomly), enough to stall a short -fuzztime run at its deadline.
func fuzzWallet(f *testing.F) *Wallet {
	f.Helper()
	b, err := os.ReadFile("testdata/fuzz-wallet.json")
	if err != nil {
		f.Fatal(err)
	}
	w, err := NewWallet(b)
	if err != nil {
		f.Fatal(err)
	}
	return w
}

// FuzzDecodeItem: aonode's item decoder accepts exactly what goar's accepts, with the same result.
func FuzzDecodeItem(f *testing.F) {
	w := fuzzWallet(f)
	it, err := w.Sign([]byte("hello"), B64(make([]byte, 32)), "0123456789abcdef0123456789abcdef", []Tag{{Name: "Action", Value: "Eval"}, {Name: "K", Value: ""}})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(it.Raw)
	f.Add(it.Raw[:len(it.Raw)-3])
	f.Add([]byte{2, 0})
	f.Fuzz(func(t *testing.T, raw []byte) {
		// goar allocates a tag block's declared count before reading it: a count beyond what the input could
		// hold (up to 2^31) would take the fuzzer's memory, so such inputs are checked on our side only.
		if _, err := ans104.Decode(raw); err == nil || !hugeTagCount(raw) {
			sameAsGoar(t, "fuzz", raw)
		}
	})
}

// hugeTagCount reports whether any varint in raw reads as a count above len(raw) (a cheap over-approximation
// of a tag block count goar would allocate for).
func hugeTagCount(raw []byte) bool {
	for i := range raw {
		if v, n := binary.Varint(raw[i:]); n > 0 && (v > int64(len(raw)) || -v > int64(len(raw))) {
			return true
		}
	}
	return false
}
