package bundler

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/everFinance/goar/types"
	"github.com/everFinance/goar/utils"

	"github.com/aonode/aonode/bundler/ans104"
)

// ANS-104 signature types this node parses and verifies (goar verifies all four).
const (
	SigArweave  = types.ArweaveSignType  // 1: RSA-PSS 4096, the Arweave wallet
	SigEd25519  = types.ED25519SignType  // 2
	SigEthereum = types.EthereumSignType // 3: secp256k1, EIP-191 message hash
	SigSolana   = types.SolanaSignType   // 4: ed25519 as Solana wallets use it
)

// Key types a node can sign with (config wallet.type).
const (
	KeyRSA     = "rsa"
	KeyEd25519 = "ed25519"
)

// Signer is the node's signing key: it signs ANS-104 data items (assignments, pushed messages, checkpoints,
// module and Scheduler-Location records). RSA (*Wallet) is the default; *Ed25519Key signs about a hundred
// times faster, which lifts the one-process scheduling rate (each assignment names the previous one's id, so a
// process's assignments are signed one after another).
type Signer interface {
	// Sign creates and signs a data item. anchor is the raw anchor (32 bytes or empty); target is a base64url
	// id or "".
	Sign(data []byte, target, anchor string, tags []Tag) (*Item, error)
	Address() string    // the owner address of the items it signs
	Owner() string      // base64url public key, as the items carry it
	SignatureType() int // the ANS-104 signature type of its items
}

// SignatureType of an RSA wallet's items: Arweave.
func (w *Wallet) SignatureType() int { return SigArweave }

// Ed25519Key signs data items with ANS-104 signature type 2. goar v1.6.3 verifies type 2 but cannot sign it
// (its ItemSigner knows only RSA and Ethereum keys), so the item is laid out here (layOut) and signed with the
// standard library.
type Ed25519Key struct {
	priv  ed25519.PrivateKey
	pub   ed25519.PublicKey
	owner string
	addr  string
}

// okpJWK is an Ed25519 private key as a JSON Web Key (RFC 8037): d is the 32-byte seed, x the public key.
type okpJWK struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	D   string `json:"d"`
	X   string `json:"x"`
}

// GenerateEd25519JWK creates a new Ed25519 key as an RFC 8037 JWK.
func GenerateEd25519JWK() ([]byte, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate ed25519 key: %w", err)
	}
	return json.Marshal(okpJWK{Kty: "OKP", Crv: "Ed25519", D: B64(priv.Seed()), X: B64(pub)})
}

// NewEd25519Key reads an RFC 8037 Ed25519 JWK; x, when present, must match the key d derives.
func NewEd25519Key(jwkBytes []byte) (*Ed25519Key, error) {
	var j okpJWK
	if err := json.Unmarshal(jwkBytes, &j); err != nil {
		return nil, fmt.Errorf("parse ed25519 jwk: %w", err)
	}
	if j.Kty != "OKP" || j.Crv != "Ed25519" {
		return nil, fmt.Errorf("parse ed25519 jwk: kty %q crv %q, want OKP Ed25519", j.Kty, j.Crv)
	}
	seed, err := DecodeB64(j.D)
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("parse ed25519 jwk: d must be %d base64url bytes", ed25519.SeedSize)
	}
	priv := ed25519.NewKeyFromSeed(seed)
	pub := priv.Public().(ed25519.PublicKey)
	if j.X != "" && j.X != B64(pub) {
		return nil, errors.New("parse ed25519 jwk: x is not the public key of d")
	}
	return &Ed25519Key{priv: priv, pub: pub, owner: B64(pub), addr: addressOf(pub)}, nil
}

// Address is base64url(sha256(public key)), as Arweave gateways and AO address ed25519 signers.
func (k *Ed25519Key) Address() string { return k.addr }

// Owner is the base64url 32-byte public key.
func (k *Ed25519Key) Owner() string { return k.owner }

// SignatureType is ANS-104 type 2.
func (k *Ed25519Key) SignatureType() int { return SigEd25519 }

// String never reveals key material.
func (k *Ed25519Key) String() string { return "ed25519(" + k.addr + ")" }

// Sign creates and signs a type-2 data item.
func (k *Ed25519Key) Sign(data []byte, target, anchor string, tags []Tag) (*Item, error) {
	return layOut(SigEd25519, k.pub, k.owner, data, target, anchor, tags, func(msg [48]byte) ([]byte, error) {
		return ed25519.Sign(k.priv, msg[:]), nil
	})
}

// layOut creates a data item and signs what ANS-104 signs (the deep hash of its fields) with sign. It lays the
// item out itself (ans104.SignData, EncodeItem) rather than through goar, which encodes every field to base64
// and decodes it again twice; the item is the same (signer_test.go compares them).
func layOut(sigType int, owner []byte, ownerB64 string, data []byte, target, anchor string, tags []Tag, sign func([48]byte) ([]byte, error)) (*Item, error) {
	gt, _, err := goarFields(anchor, tags) // the layout takes the anchor's bytes, not goar's base64 of them
	if err != nil {
		return nil, err
	}
	var tb []byte
	if target != "" {
		if tb, err = DecodeB64(target); err != nil {
			return nil, fmt.Errorf("sign item: target: %w", err)
		}
		if len(tb) != 32 {
			return nil, errors.New("sign item: target length must be 32")
		}
	}
	tagBytes := ans104.EncodeTags(gt)
	sig, err := sign(ans104.SignData(sigType, owner, tb, []byte(anchor), tagBytes, data))
	if err != nil {
		return nil, fmt.Errorf("sign item: %w", err)
	}
	raw := ans104.EncodeItem(sigType, sig, owner, tb, []byte(anchor), len(tags), tagBytes, data)
	return &Item{
		ID: idOf(sig), SignatureType: sigType, Signature: B64(sig), Owner: ownerB64, Target: target, Anchor: anchor,
		Tags: append(make([]Tag, 0, len(tags)), tags...), Data: raw[len(raw)-len(data):], Raw: raw,
	}, nil
}

// goarFields converts tags and the raw anchor to goar's forms.
func goarFields(anchor string, tags []Tag) ([]types.Tag, string, error) {
	if anchor != "" && len(anchor) != 32 {
		return nil, "", fmt.Errorf("sign item: anchor must be 32 bytes, got %d", len(anchor))
	}
	gt := make([]types.Tag, len(tags))
	for i, t := range tags {
		gt[i] = types.Tag{Name: t.Name, Value: t.Value}
	}
	a := ""
	if anchor != "" {
		a = utils.Base64Encode([]byte(anchor))
	}
	return gt, a, nil
}

func addressOf(pub []byte) string {
	h := sha256.Sum256(pub)
	return B64(h[:])
}

// keyKind reads which kind of key a JWK file holds ("rsa" or "ed25519").
func keyKind(jwkBytes []byte) (string, error) {
	var j struct {
		Kty string `json:"kty"`
		Crv string `json:"crv"`
	}
	if err := json.Unmarshal(jwkBytes, &j); err != nil {
		return "", fmt.Errorf("parse jwk: %w", err)
	}
	switch {
	case j.Kty == "RSA":
		return KeyRSA, nil
	case j.Kty == "OKP" && j.Crv == "Ed25519":
		return KeyEd25519, nil
	}
	return "", fmt.Errorf("parse jwk: unsupported key kty %q crv %q (want an RSA or Ed25519 JWK)", j.Kty, j.Crv)
}

// LoadOrCreateSigner reads the key at path, creating a key of the given type there (mode 0600) when the file
// does not exist. A file holding another type of key is an error, never silently used: the node's address
// would not be the one the operator configured.
func LoadOrCreateSigner(path, keyType string) (s Signer, created bool, err error) {
	gen := map[string]func() ([]byte, error){KeyRSA: GenerateJWK, KeyEd25519: GenerateEd25519JWK}[keyType]
	if gen == nil {
		return nil, false, fmt.Errorf("wallet type %q: want %s or %s", keyType, KeyRSA, KeyEd25519)
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		b, created, err = createKeyFile(path, gen)
	}
	if err != nil {
		return nil, false, fmt.Errorf("read wallet %s: %w", path, err)
	}
	kind, err := keyKind(b)
	if err != nil {
		return nil, false, fmt.Errorf("wallet %s: %w", path, err)
	}
	if kind != keyType {
		return nil, false, fmt.Errorf("wallet %s holds an %s key, but the wallet type is %s", path, kind, keyType)
	}
	if kind == KeyEd25519 {
		k, err := NewEd25519Key(b)
		if err != nil {
			return nil, false, fmt.Errorf("wallet %s: %w", path, err)
		}
		return k, created, nil
	}
	w, err := NewWallet(b)
	if err != nil {
		return nil, false, fmt.Errorf("wallet %s: %w", path, err)
	}
	w.path = path
	return w, created, nil
}
