package ans104

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"fmt"
	"io"
	"math/big"
	"sync"
	"testing"
	"testing/iotest"
)

// RSAKey is judged by crypto/rsa: given the salt crypto/rsa drew, it must give crypto/rsa's signature byte for
// byte (RSA signing is deterministic once the encoding is fixed), and what it signs must verify there.

// saltOf recovers the salt of a PSS signature made with the longest salt the modulus allows.
func saltOf(t *testing.T, k *rsa.PrivateKey, sig []byte) []byte {
	t.Helper()
	emBits := k.N.BitLen() - 1
	emLen := (emBits + 7) / 8
	em := new(big.Int).Exp(new(big.Int).SetBytes(sig), big.NewInt(int64(k.E)), k.N).FillBytes(make([]byte, emLen))
	db, h := em[:emLen-sha256.Size-1], em[emLen-sha256.Size-1:emLen-1]
	mgf1XOR(db, h)
	db[0] &= 0xff >> (8*emLen - emBits)
	i := bytes.IndexByte(db, 0x01)
	if i < 0 || len(db)-i-1 != emLen-sha256.Size-2 {
		t.Fatalf("crypto/rsa's signature has a salt of %d bytes, want the longest (%d)", len(db)-i-1, emLen-sha256.Size-2)
	}
	return db[i+1:]
}

func TestRSAKeyMatchesCryptoRSA(t *testing.T) {
	auto := &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto, Hash: crypto.SHA256}
	for _, bits := range keySizes {
		t.Run(fmt.Sprint(bits), func(t *testing.T) {
			std := testKey(t, bits)
			k, err := NewRSAKey(std)
			if err != nil {
				t.Fatal(err)
			}
			for i := range 20 {
				digest := sha256.Sum256([]byte(fmt.Sprint("message ", i)))
				want, err := rsa.SignPSS(rand.Reader, std, crypto.SHA256, digest[:], auto)
				if err != nil {
					t.Fatal(err)
				}
				for _, split := range []bool{true, false} {
					got, err := k.signPSS(digest[:], saltOf(t, std, want), split)
					if err != nil {
						t.Fatal(err)
					}
					if !bytes.Equal(got, want) {
						t.Fatalf("split %v: with crypto/rsa's salt the signature differs\ngot  %x\nwant %x", split, got, want)
					}
				}
				// With its own salt: accepted by crypto/rsa, with the salt length found or given, and by VerifyPSS.
				sign := k.SignPSS
				if i%2 == 1 {
					sign = k.SignPSSInTurn
				}
				sig, err := sign(rand.Reader, digest[:])
				if err != nil {
					t.Fatal(err)
				}
				exact := &rsa.PSSOptions{SaltLength: (bits-1+7)/8 - sha256.Size - 2, Hash: crypto.SHA256}
				for _, o := range []*rsa.PSSOptions{auto, exact} {
					if err := rsa.VerifyPSS(&std.PublicKey, crypto.SHA256, digest[:], sig, o); err != nil {
						t.Fatalf("crypto/rsa refuses the signature (salt length %d): %v", o.SaltLength, err)
					}
				}
				if err := VerifyPSS(std.N, digest[:], sig); err != nil {
					t.Fatal(err)
				}
				if bytes.Equal(sig, want) {
					t.Fatal("two signatures with fresh salts are equal: the salt is not read")
				}
			}
		})
	}
}

func TestRSAKeyConcurrent(t *testing.T) {
	std := testKey(t, 2048)
	k, err := NewRSAKey(std)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			for i := range 10 {
				digest := sha256.Sum256([]byte(fmt.Sprint(g, "/", i)))
				sig, err := k.SignPSS(rand.Reader, digest[:])
				if err == nil {
					err = VerifyPSS(std.N, digest[:], sig)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func TestRSAKeyRefuses(t *testing.T) {
	std := testKey(t, 1024)
	k, err := NewRSAKey(std)
	if err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256([]byte("m"))
	if _, err := k.SignPSS(rand.Reader, digest[:20]); err == nil {
		t.Error("signed a digest that is not SHA-256")
	}
	if _, err := k.SignPSS(iotest.ErrReader(fmt.Errorf("no entropy")), digest[:]); err == nil {
		t.Error("signed without a salt")
	}
	if _, err := k.SignPSS(bytes.NewReader(make([]byte, 10)), digest[:]); err == nil {
		t.Error("signed with a short salt")
	}
	// A fault in one CRT half (here a wrong dP) gives an error, never the faulty signature, which would reveal q.
	bad := *k
	bad.dP = append([]byte(nil), k.dP...)
	bad.dP[len(bad.dP)-1] ^= 2
	for _, sign := range []func(io.Reader, []byte) ([]byte, error){bad.SignPSS, bad.SignPSSInTurn} {
		if sig, err := sign(rand.Reader, digest[:]); err == nil {
			t.Fatalf("a faulty half gave a signature: %x", sig)
		}
	}
	// Keys NewRSAKey cannot use.
	//lint:ignore SA1019 a three-prime key is the case refused here
	three, err := rsa.GenerateMultiPrimeKey(rand.Reader, 3, 1024)
	if err != nil {
		t.Fatal(err)
	}
	broken := *std
	broken.Primes = []*big.Int{std.Primes[0], new(big.Int).Add(std.Primes[1], big.NewInt(2))}
	for name, key := range map[string]*rsa.PrivateKey{"three primes": three, "wrong prime": &broken} {
		if _, err := NewRSAKey(key); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// BenchmarkSignPSS compares RSAKey against crypto/rsa.SignPSS (the baseline), RSA-4096 as Arweave wallets are.
func BenchmarkSignPSS(b *testing.B) {
	std := testKey(b, 4096)
	k, err := NewRSAKey(std)
	if err != nil {
		b.Fatal(err)
	}
	digest := sha256.Sum256([]byte("assignment"))
	b.Run("crypto-rsa-baseline", func(b *testing.B) {
		for b.Loop() {
			if _, err := rsa.SignPSS(rand.Reader, std, crypto.SHA256, digest[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("rsakey", func(b *testing.B) {
		for b.Loop() {
			if _, err := k.SignPSS(rand.Reader, digest[:]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("rsakey-in-turn", func(b *testing.B) {
		for b.Loop() {
			if _, err := k.SignPSSInTurn(rand.Reader, digest[:]); err != nil {
				b.Fatal(err)
			}
		}
	})
}
