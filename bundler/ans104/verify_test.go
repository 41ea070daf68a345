package ans104

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"fmt"
	"math/big"
	"sync"
	"testing"
)

// VerifyPSS is judged by crypto/rsa: on every input both must accept or both refuse.

var (
	keysMu sync.Mutex
	keys   = map[int]*rsa.PrivateKey{}
)

// testKey is an RSA key of the given size with e = 65537, made once per test binary.
func testKey(t testing.TB, bits int) *rsa.PrivateKey {
	keysMu.Lock()
	defer keysMu.Unlock()
	if keys[bits] == nil {
		k, err := rsa.GenerateKey(rand.Reader, bits)
		if err != nil {
			t.Fatal(err)
		}
		keys[bits] = k
	}
	return keys[bits]
}

// keySizes: emLen is the modulus's length (1024, 2048, 4096), one byte shorter (1025: emBits is a multiple of
// 8), or the modulus has a partial top byte (1031).
var keySizes = []int{1024, 1025, 1031, 2048, 4096}

// stdlib is crypto/rsa's verdict, with the options goar verifies item signatures with.
func stdlib(n *big.Int, digest, sig []byte) bool {
	pub := &rsa.PublicKey{N: n, E: arweaveExponent}
	return rsa.VerifyPSS(pub, crypto.SHA256, digest, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto, Hash: crypto.SHA256}) == nil
}

// craftKey is an RSA modulus of two primes of the given sizes and the private exponent for 65537, for the
// moduli rsa.GenerateKey will not make.
func craftKey(t *testing.T, pBits, qBits int) (n, d *big.Int) {
	e := big.NewInt(arweaveExponent)
	one := big.NewInt(1)
	for {
		p, err := rand.Prime(rand.Reader, pBits)
		if err != nil {
			t.Fatal(err)
		}
		q, err := rand.Prime(rand.Reader, qBits)
		if err != nil {
			t.Fatal(err)
		}
		pm, qm := new(big.Int).Sub(p, one), new(big.Int).Sub(q, one)
		gcd := new(big.Int).GCD(nil, nil, pm, qm)
		lambda := new(big.Int).Div(new(big.Int).Mul(pm, qm), gcd)
		if d = new(big.Int).ModInverse(e, lambda); d != nil && p.Cmp(q) != 0 {
			return new(big.Int).Mul(p, q), d
		}
	}
}

// rawSign is the RSA private operation on em, as a signature of the modulus's length (nil when em is not
// below the modulus).
func rawSign(k *rsa.PrivateKey, em []byte) []byte {
	m := new(big.Int).SetBytes(em)
	if m.Cmp(k.N) >= 0 {
		return nil
	}
	return new(big.Int).Exp(m, k.D, k.N).FillBytes(make([]byte, k.Size()))
}

func TestVerifyPSSMatchesCryptoRSA(t *testing.T) {
	digest := sha256.Sum256([]byte("deep hash of an item"))
	other := sha256.Sum256([]byte("another item"))
	type tc struct {
		name   string
		n      *big.Int
		digest []byte
		sig    []byte
		valid  bool // what both must say
	}
	var cases []tc
	for _, bits := range keySizes {
		k := testKey(t, bits)
		emBits := bits - 1
		sign := func(salt int) []byte {
			sig, err := rsa.SignPSS(rand.Reader, k, crypto.SHA256, digest[:], &rsa.PSSOptions{SaltLength: salt})
			if err != nil {
				t.Fatal(err)
			}
			return sig
		}
		good := sign(rsa.PSSSaltLengthAuto)
		flip := func(b []byte, i int) []byte { b = bytes.Clone(b); b[i] ^= 0x10; return b }
		em := pssEncode(digest[:], []byte("0123456789abcdef"), emBits)
		edit := func(f func(em []byte)) []byte { e := bytes.Clone(em); f(e); return rawSign(k, e) }
		name := func(s string) string { return fmt.Sprintf("%d/%s", bits, s) }
		cases = append(cases,
			tc{name("max salt"), k.N, digest[:], good, true},
			tc{name("no salt"), k.N, digest[:], sign(0), true},
			tc{name("hash-length salt"), k.N, digest[:], sign(rsa.PSSSaltLengthEqualsHash), true},
			tc{name("hand-built encoding"), k.N, digest[:], rawSign(k, em), true},
			tc{name("other digest"), k.N, other[:], good, false},
			tc{name("short digest"), k.N, digest[:31], good, false},
			tc{name("first byte flipped"), k.N, digest[:], flip(good, 0), false},
			tc{name("middle byte flipped"), k.N, digest[:], flip(good, len(good)/2), false},
			tc{name("last byte flipped"), k.N, digest[:], flip(good, len(good)-1), false},
			tc{name("one byte short"), k.N, digest[:], good[1:], false},
			tc{name("one byte long"), k.N, digest[:], append([]byte{0}, good...), false},
			tc{name("zero"), k.N, digest[:], make([]byte, len(good)), false},
			tc{name("the modulus"), k.N, digest[:], k.N.FillBytes(make([]byte, len(good))), false},
			tc{name("above the modulus"), k.N, digest[:], bytes.Repeat([]byte{0xff}, len(good)), false},
			tc{name("even modulus"), new(big.Int).Add(k.N, big.NewInt(1)), digest[:], good, false},
			tc{name("no 0xbc"), k.N, digest[:], edit(func(em []byte) { em[len(em)-1] = 0xbd }), false},
			tc{name("hash changed"), k.N, digest[:], edit(func(em []byte) { em[len(em)-2] ^= 1 }), false},
			tc{name("padding not zero"), k.N, digest[:], edit(func(em []byte) { em[1] ^= 1 }), false},
			tc{name("no delimiter"), k.N, digest[:], edit(func(em []byte) { em[len(em)-sha256.Size-1-16-1] ^= 1 }), false},
			tc{name("salt changed"), k.N, digest[:], edit(func(em []byte) { em[len(em)-sha256.Size-2] ^= 1 }), false},
		)
		// The signature plus the modulus, where that still fits in the signature's length: the same residue.
		if plus := new(big.Int).Add(new(big.Int).SetBytes(good), k.N); (plus.BitLen()+7)/8 == len(good) {
			cases = append(cases, tc{name("signature plus modulus"), k.N, digest[:], plus.FillBytes(make([]byte, len(good))), false})
		}
		// A message with a bit set above emBits (below the modulus, which is odd and one bit longer): for 1025
		// bits that is an em one byte longer than emLen.
		top := new(big.Int).Lsh(big.NewInt(1), uint(emBits))
		cases = append(cases, tc{name("bit above emBits"), k.N, digest[:], rawSign(k, top.Bytes()), false})
	}
	// Moduli crypto/rsa refuses, with signatures that are right for them: 1,023 bits (below its minimum), and
	// even (2pq: the exponents still invert modulo 2).
	for _, c := range []struct {
		name      string
		pBits, qB int
		two       bool
	}{{"1023-bit modulus", 512, 511, false}, {"even modulus, right signature", 512, 512, true}} {
		n, d := craftKey(t, c.pBits, c.qB)
		if c.two {
			n.Lsh(n, 1)
		}
		emBits := n.BitLen() - 1
		em := pssEncode(digest[:], []byte("salt"), emBits)
		sig := new(big.Int).Exp(new(big.Int).SetBytes(em), d, n).FillBytes(make([]byte, (n.BitLen()+7)/8))
		cases = append(cases, tc{c.name, n, digest[:], sig, false})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.sig == nil {
				t.Fatal("the case built no signature")
			}
			got := VerifyPSS(c.n, c.digest, c.sig) == nil
			if want := stdlib(c.n, c.digest, c.sig); got != want || got != c.valid {
				t.Fatalf("VerifyPSS says %v, crypto/rsa %v, the case %v", got, want, c.valid)
			}
		})
	}
}

// FuzzVerifyPSS edits a valid encoding (its salt and any of its bytes), signs it with the private key and asks
// both verifiers: they must agree. Raw signature bytes are compared too.
func FuzzVerifyPSS(f *testing.F) {
	k := testKey(f, 1031)
	emBits := k.N.BitLen() - 1
	f.Add([]byte("salt"), []byte{}, uint16(0), []byte{})
	f.Add([]byte{}, []byte{1}, uint16(0), []byte{})
	f.Add([]byte("0123456789abcdef0123456789abcdef"), []byte{0, 0, 4}, uint16(100), []byte{})
	f.Add([]byte("s"), []byte{0x80}, uint16(0), []byte{7, 7})
	f.Fuzz(func(t *testing.T, salt, xor []byte, at uint16, sig []byte) {
		digest := sha256.Sum256(salt)
		if len(sig) > 0 {
			if got, want := VerifyPSS(k.N, digest[:], sig) == nil, stdlib(k.N, digest[:], sig); got != want {
				t.Fatalf("raw signature: VerifyPSS says %v, crypto/rsa %v", got, want)
			}
		}
		em := pssEncode(digest[:], salt, emBits)
		if em == nil {
			return
		}
		for i, x := range xor {
			em[(int(at)+i)%len(em)] ^= x
		}
		s := rawSign(k, em)
		if s == nil {
			return
		}
		got, want := VerifyPSS(k.N, digest[:], s) == nil, stdlib(k.N, digest[:], s)
		if got != want {
			t.Fatalf("VerifyPSS says %v, crypto/rsa %v (em %x)", got, want, em)
		}
		if len(xor) == 0 && !got {
			t.Fatal("an unedited encoding must verify")
		}
	})
}
