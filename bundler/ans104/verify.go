package ans104

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"

	"github.com/everFinance/goar/types"
	"github.com/everFinance/goar/utils"
)

// Every message an aoconnect user sends is signed with an Arweave wallet: RSA-4096 PSS (signature type 1), and
// the MU checks each one. crypto/rsa.VerifyPSS rebuilds the modulus's Montgomery constants on every call and
// exponentiates in constant time, which a public operation does not need: together about 190 µs a check, a
// quarter of the node's CPU per message in the one-process benchmark. math/big's exponentiation by 65537 takes
// about 80. Verify does the RSA check that way and leaves the PSS decoding as RFC 8017 9.1.2 gives it;
// verify_test.go holds it to crypto/rsa's answer on valid, mutated and hand-built encodings, and a fuzz target
// keeps comparing the two. Ed25519 (and Solana) items are checked with crypto/ed25519 over SignData
// (deephash.go); Ethereum items go to goar.

// ErrSignature is an item whose signature does not verify.
var ErrSignature = errors.New("signature does not verify")

// arweaveExponent is the public exponent of every Arweave key: an owner holds only the modulus.
const arweaveExponent = 65537

// Verify checks an item's id (the SHA-256 of its signature) and its signature, accepting exactly what
// utils.VerifyBundleItem accepts.
func Verify(it *types.BundleItem) error {
	switch it.SignatureType {
	case types.ArweaveSignType, types.ED25519SignType, types.SolanaSignType:
	default:
		return utils.VerifyBundleItem(*it)
	}
	msg, sig, owner, err := signed(it)
	if err != nil {
		return err
	}
	if it.SignatureType != types.ArweaveSignType {
		// As goar, with crypto/ed25519 (which panics on a key of the wrong length; Decode never gives one).
		if len(owner) != ed25519.PublicKeySize || !ed25519.Verify(owner, msg, sig) {
			return fmt.Errorf("%w: ed25519", ErrSignature)
		}
		return nil
	}
	digest := sha256.Sum256(msg)
	return VerifyPSS(new(big.Int).SetBytes(owner), digest[:], sig)
}

// signed is what an item's signature signs, the signature and the owner's key, once the item's id is checked
// to be the hash of the signature.
func signed(it *types.BundleItem) (msg, sig, owner []byte, err error) {
	if msg, err = signData(it); err != nil {
		return nil, nil, nil, fmt.Errorf("signature data: %w", err)
	}
	if sig, err = base64.RawURLEncoding.DecodeString(it.Signature); err != nil {
		return nil, nil, nil, fmt.Errorf("signature: %w", err)
	}
	id := sha256.Sum256(sig)
	if base64.RawURLEncoding.EncodeToString(id[:]) != it.Id {
		return nil, nil, nil, fmt.Errorf("id %s is not the hash of the signature", it.Id)
	}
	if owner, err = base64.RawURLEncoding.DecodeString(it.Owner); err != nil {
		return nil, nil, nil, fmt.Errorf("owner: %w", err)
	}
	return msg, sig, owner, nil
}

// VerifyPSS checks an RSASSA-PSS signature with SHA-256 and MGF1-SHA-256, of any salt length, over a SHA-256
// digest under the modulus n and exponent 65537. It accepts what crypto/rsa.VerifyPSS with
// PSSSaltLengthAuto accepts: an odd modulus of at least 1,024 bits, a signature as long as the modulus and
// below it.
func VerifyPSS(n *big.Int, digest, sig []byte) error {
	bits := n.BitLen()
	if bits < 1024 || n.Bit(0) == 0 {
		return fmt.Errorf("%w: %d-bit or even modulus", ErrSignature, bits)
	}
	if len(sig) != (bits+7)/8 || len(digest) != sha256.Size {
		return ErrSignature
	}
	s := new(big.Int).SetBytes(sig)
	if s.Cmp(n) >= 0 {
		return ErrSignature
	}
	m := s.Exp(s, big.NewInt(arweaveExponent), n)
	emBits := bits - 1
	// m must fit in emBits (RSAVP1 then I2OSP to emLen octets, and step 6's zero high bits).
	if m.BitLen() > emBits {
		return ErrSignature
	}
	em := m.FillBytes(make([]byte, (emBits+7)/8))
	return pssVerify(digest, em, emBits)
}

// pssVerify is EMSA-PSS-VERIFY (RFC 8017 9.1.2) with SHA-256, finding the salt length from the encoding.
func pssVerify(mHash, em []byte, emBits int) error {
	const hLen = sha256.Size
	emLen := len(em)
	if emLen < hLen+2 || em[emLen-1] != 0xbc {
		return ErrSignature
	}
	db, h := em[:emLen-hLen-1], em[emLen-hLen-1:emLen-1]
	mgf1XOR(db, h)
	db[0] &= 0xff >> (8*emLen - emBits)
	// DB is zeros, 0x01, then the salt.
	ps := bytes.IndexByte(db, 0x01)
	if ps < 0 {
		return ErrSignature
	}
	for _, b := range db[:ps] {
		if b != 0 {
			return ErrSignature
		}
	}
	hh := sha256.New()
	hh.Write(make([]byte, 8))
	hh.Write(mHash)
	hh.Write(db[ps+1:])
	if !bytes.Equal(hh.Sum(nil), h) {
		return ErrSignature
	}
	return nil
}

// mgf1XOR XORs out with MGF1-SHA-256 of seed.
func mgf1XOR(out, seed []byte) {
	var ctr [4]byte
	hh := sha256.New()
	for done := 0; done < len(out); {
		hh.Reset()
		hh.Write(seed)
		hh.Write(ctr[:])
		sum := hh.Sum(nil)
		for i := 0; i < len(sum) && done < len(out); i++ {
			out[done] ^= sum[i]
			done++
		}
		binary.BigEndian.PutUint32(ctr[:], binary.BigEndian.Uint32(ctr[:])+1)
	}
}

// signData is what the item's signature signs. Its fields are base64 as Decode gives them; a field that does not
// decode, or tags without their bytes, go to goar's BundleItemSignData, whose answer for those is its own.
func signData(it *types.BundleItem) ([]byte, error) {
	if it.DataReader != nil || (it.TagsBy == "" && len(it.Tags) > 0) {
		return utils.BundleItemSignData(*it)
	}
	var f [5][]byte
	for i, s := range []string{it.Owner, it.Target, it.Anchor, it.TagsBy, it.Data} {
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil {
			return utils.BundleItemSignData(*it)
		}
		f[i] = b
	}
	h := SignData(it.SignatureType, f[0], f[1], f[2], f[3], f[4])
	return h[:], nil
}
