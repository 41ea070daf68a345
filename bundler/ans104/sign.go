package ans104

import (
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"

	"filippo.io/bigmod"
)

// An RSA node signs every assignment of a process one after another: each names the previous one's id, the
// hash of its signature. A signature's latency, not the node's cores, therefore caps how fast one process is
// scheduled. crypto/rsa computes the two CRT halves (m^dP mod p, m^dQ mod q) in turn; RSAKey computes them at
// once on two goroutines, with the same constant-time arithmetic (filippo.io/bigmod is crypto/rsa's own
// bigmod, published), so one signature takes about half as long on a machine with a core to spare and the
// same CPU. As crypto/rsa, it checks the result with the public key before it is released, so a fault in
// either half never leaks a prime. sign_test.go holds it to crypto/rsa, byte for byte, given the same salt.

// RSAKey is an RSA private key of two primes prepared for SignPSS.
type RSAKey struct {
	n, p, q *bigmod.Modulus
	dP, dQ  []byte
	qInv    *bigmod.Nat // q⁻¹ mod p
	qModN   *bigmod.Nat // q as a residue mod n, for the recombination
	e       uint
	emBits  int
}

// NewRSAKey prepares k, which must have exactly two primes and pass crypto/rsa's validation.
func NewRSAKey(k *rsa.PrivateKey) (*RSAKey, error) {
	if len(k.Primes) != 2 {
		return nil, fmt.Errorf("rsa key: %d primes, want 2", len(k.Primes))
	}
	if err := k.Validate(); err != nil {
		return nil, fmt.Errorf("rsa key: %w", err)
	}
	if k.Precomputed.Dp == nil || k.Precomputed.Qinv == nil {
		k.Precompute()
	}
	n, err := bigmod.NewModulus(k.N.Bytes())
	if err != nil {
		return nil, fmt.Errorf("rsa key: modulus: %w", err)
	}
	p, err := bigmod.NewModulus(k.Primes[0].Bytes())
	if err != nil {
		return nil, fmt.Errorf("rsa key: p: %w", err)
	}
	q, err := bigmod.NewModulus(k.Primes[1].Bytes())
	if err != nil {
		return nil, fmt.Errorf("rsa key: q: %w", err)
	}
	qInv, err := bigmod.NewNat().SetBytes(k.Precomputed.Qinv.Bytes(), p)
	if err != nil {
		return nil, fmt.Errorf("rsa key: qinv: %w", err)
	}
	return &RSAKey{
		n: n, p: p, q: q, dP: k.Precomputed.Dp.Bytes(), dQ: k.Precomputed.Dq.Bytes(), qInv: qInv,
		qModN: bigmod.NewNat().Mod(q.Nat(), n), e: uint(k.E), emBits: k.N.BitLen() - 1,
	}, nil
}

// SignPSS signs a SHA-256 digest with RSASSA-PSS and MGF1-SHA-256, with the longest salt the modulus allows,
// read from random: what crypto/rsa.SignPSS does with PSSSaltLengthAuto (and goar with it). It computes the
// two CRT halves at once.
func (k *RSAKey) SignPSS(random io.Reader, digest []byte) ([]byte, error) {
	return k.sign(random, digest, true)
}

// SignPSSInTurn is SignPSS computing the halves one after the other on the calling goroutine: for signatures
// that are not on a chain and are made many at once, where splitting them only takes a core from one that is.
func (k *RSAKey) SignPSSInTurn(random io.Reader, digest []byte) ([]byte, error) {
	return k.sign(random, digest, false)
}

func (k *RSAKey) sign(random io.Reader, digest []byte, split bool) ([]byte, error) {
	if len(digest) != sha256.Size {
		return nil, errors.New("rsa sign: digest must be a SHA-256 hash")
	}
	salt := make([]byte, (k.emBits+7)/8-sha256.Size-2)
	if _, err := io.ReadFull(random, salt); err != nil {
		return nil, fmt.Errorf("rsa sign: salt: %w", err)
	}
	return k.signPSS(digest, salt, split)
}

func (k *RSAKey) signPSS(digest, salt []byte, split bool) ([]byte, error) {
	em := pssEncode(digest, salt, k.emBits)
	if em == nil {
		return nil, errors.New("rsa sign: salt too long for the modulus")
	}
	if pad := k.n.Size() - len(em); pad > 0 { // emBits a multiple of 8: EM is a byte shorter than n
		em = append(make([]byte, pad), em...)
	}
	c, err := bigmod.NewNat().SetBytes(em, k.n)
	if err != nil {
		return nil, fmt.Errorf("rsa sign: %w", err)
	}
	// m2 = c^dQ mod q (on another goroutine when split), m = c^dP mod p on this one.
	m2 := bigmod.NewNat()
	half := func() { m2.Exp(bigmod.NewNat().Mod(c, k.q), k.dQ, k.q) }
	done := make(chan struct{})
	if split {
		go func() {
			defer close(done)
			half()
		}()
	} else {
		half()
		close(done)
	}
	t := bigmod.NewNat()
	m := bigmod.NewNat().Exp(t.Mod(c, k.p), k.dP, k.p)
	<-done
	// Garner: m = m2 + q·((m - m2)·q⁻¹ mod p) mod n.
	m.Sub(t.Mod(m2, k.p), k.p)
	m.Mul(k.qInv, k.p)
	m.ExpandFor(k.n).Mul(k.qModN, k.n)
	m.Add(m2.ExpandFor(k.n), k.n)
	if bigmod.NewNat().ExpShortVarTime(m, k.e, k.n).Equal(c) != 1 {
		return nil, errors.New("rsa sign: the signature does not verify (a fault in the computation)")
	}
	return m.Bytes(k.n), nil
}

// pssEncode is EMSA-PSS-ENCODE (RFC 8017 9.1.1) of a SHA-256 digest with salt, emLen octets for emBits; nil
// when the salt does not fit.
func pssEncode(digest, salt []byte, emBits int) []byte {
	emLen := (emBits + 7) / 8
	if emLen < len(salt)+sha256.Size+2 {
		return nil
	}
	hh := sha256.New()
	hh.Write(make([]byte, 8))
	hh.Write(digest)
	hh.Write(salt)
	h := hh.Sum(nil)
	em := make([]byte, emLen)
	db := em[:emLen-sha256.Size-1]
	db[len(db)-len(salt)-1] = 0x01
	copy(db[len(db)-len(salt):], salt)
	mgf1XOR(db, h)
	db[0] &= 0xff >> (8*emLen - emBits)
	copy(em[len(db):], h)
	em[emLen-1] = 0xbc
	return em
}
