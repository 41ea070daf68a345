package bundler

import (
	"bytes"
	"errors"
	"os"
	"testing"
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
