package bundler

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"strings"

	"github.com/everFinance/goar"

	"github.com/aonode/aonode/bundler/ans104"
)

// Wallet is an Arweave RSA wallet (JWK) that signs ANS-104 data items and L1 transactions.
type Wallet struct {
	signer *goar.Signer
	items  *goar.ItemSigner
	jwk    []byte
	path   string
	// crt signs items with the key's two CRT halves at once (ans104.RSAKey); nil for a JWK without its primes,
	// whose items goar signs.
	crt    *ans104.RSAKey
	inTurn bool   // sign the CRT halves one after the other (InTurn)
	owner  []byte // the modulus, as items carry it
}

// InTurn is the wallet signing each item's two CRT halves one after the other, for a signer whose signatures
// are not on a chain: the MU's pushes are many at once, each on its own goroutine, and splitting them would
// only take the second core from the SU, whose assignments of a process are signed one after another.
func (w *Wallet) InTurn() *Wallet {
	c := *w
	c.inTurn = true
	return &c
}

// jwk is the full RFC 7518 RSA private key, as Arweave tools (arweave-js, aoconnect) read and write it.
// gojwk (goar's dependency) drops the CRT fields, which Node's crypto needs, so the file is written here.
type jwk struct {
	Kty string `json:"kty"`
	E   string `json:"e"`
	N   string `json:"n"`
	D   string `json:"d"`
	P   string `json:"p"`
	Q   string `json:"q"`
	Dp  string `json:"dp"`
	Dq  string `json:"dq"`
	Qi  string `json:"qi"`
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// MarshalJWK encodes an RSA private key as an Arweave JWK.
func MarshalJWK(k *rsa.PrivateKey) ([]byte, error) {
	if len(k.Primes) != 2 {
		return nil, errors.New("jwk: only two-prime RSA keys are supported")
	}
	k.Precompute()
	return json.Marshal(jwk{
		Kty: "RSA",
		E:   b64(big.NewInt(int64(k.E)).Bytes()),
		N:   b64(k.N.Bytes()),
		D:   b64(k.D.Bytes()),
		P:   b64(k.Primes[0].Bytes()),
		Q:   b64(k.Primes[1].Bytes()),
		Dp:  b64(k.Precomputed.Dp.Bytes()),
		Dq:  b64(k.Precomputed.Dq.Bytes()),
		Qi:  b64(k.Precomputed.Qinv.Bytes()),
	})
}

// GenerateJWK creates a new 4096-bit Arweave wallet key (the size every Arweave wallet uses).
func GenerateJWK() ([]byte, error) {
	k, err := rsa.GenerateKey(rand.Reader, 4096)
	if err != nil {
		return nil, fmt.Errorf("generate rsa key: %w", err)
	}
	return MarshalJWK(k)
}

// NewWallet builds a wallet from JWK bytes.
func NewWallet(jwkBytes []byte) (*Wallet, error) {
	s, err := goar.NewSigner(jwkBytes)
	if err != nil {
		return nil, fmt.Errorf("parse wallet jwk: %w", err)
	}
	// goar's JWK decoder keeps only n, e and d, so every RSA-4096 signature (one per assignment) would skip the
	// CRT and cost ~10x more. Rebuild the key with its primes when the JWK has them (Arweave wallets do).
	var crt *ans104.RSAKey
	if k, err := crtKey(jwkBytes, s.PrvKey); err == nil {
		s = goar.NewSignerByPrivateKey(k)
		if crt, err = ans104.NewRSAKey(k); err != nil {
			return nil, fmt.Errorf("parse wallet jwk: %w", err)
		}
	}
	is, err := goar.NewItemSigner(s)
	if err != nil {
		return nil, fmt.Errorf("item signer: %w", err)
	}
	return &Wallet{signer: s, items: is, jwk: jwkBytes, crt: crt, owner: s.PubKey.N.Bytes()}, nil
}

// LoadOrCreateWallet reads the JWK at path, creating a new wallet there (mode 0600) when the file does not exist.
// Several processes may create the same file at once (nodes sharing one MU wallet): exactly one key wins and
// every one of them loads it.
func LoadOrCreateWallet(path string) (w *Wallet, created bool, err error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		b, created, err = createKeyFile(path, GenerateJWK)
	}
	if err != nil {
		return nil, false, fmt.Errorf("read wallet %s: %w", path, err)
	}
	w, err = NewWallet(b)
	if err != nil {
		return nil, false, fmt.Errorf("wallet %s: %w", path, err)
	}
	w.path = path
	return w, created, nil
}

// createKeyFile writes a new key to a temporary file and links it into place, so a crash never leaves a
// half-written key and a racing creator's key is never replaced: the loser reads the winner's.
func createKeyFile(path string, generate func() ([]byte, error)) ([]byte, bool, error) {
	b, err := generate()
	if err != nil {
		return nil, false, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, false, fmt.Errorf("create wallet dir: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return nil, false, fmt.Errorf("write wallet: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(b)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, false, fmt.Errorf("write wallet: %w", err)
	}
	if err := os.Link(tmp.Name(), path); errors.Is(err, fs.ErrExist) {
		b, err := os.ReadFile(path)
		return b, false, err
	} else if err != nil {
		return nil, false, fmt.Errorf("write wallet: %w", err)
	}
	return b, true, nil
}

// Address is the Arweave address: base64url(sha256(n)).
func (w *Wallet) Address() string { return w.signer.Address }

// Owner is the base64url public modulus.
func (w *Wallet) Owner() string { return w.signer.Owner() }

// GoarWallet is a goar wallet bound to a gateway, for L1 transactions (bundle uploads). It signs with the
// wallet's CRT key: goar.NewWallet would decode the JWK again without the primes, and every bundle's
// signature would cost about ten times more.
func (w *Wallet) GoarWallet(gatewayURL string) (*goar.Wallet, error) {
	return &goar.Wallet{Client: goar.NewClient(gatewayURL), Signer: w.signer}, nil
}

// String never reveals key material, so a wallet can be logged safely.
func (w *Wallet) String() string { return "wallet(" + w.Address() + ")" }

// crtKey reads the primes of a JWK and returns the full, validated and precomputed private key.
func crtKey(jwkBytes []byte, base *rsa.PrivateKey) (*rsa.PrivateKey, error) {
	var j struct {
		P string `json:"p"`
		Q string `json:"q"`
	}
	if err := json.Unmarshal(jwkBytes, &j); err != nil {
		return nil, err
	}
	if j.P == "" || j.Q == "" {
		return nil, errors.New("jwk has no primes")
	}
	p, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(j.P, "="))
	if err != nil {
		return nil, err
	}
	q, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(j.Q, "="))
	if err != nil {
		return nil, err
	}
	k := &rsa.PrivateKey{PublicKey: base.PublicKey, D: base.D, Primes: []*big.Int{new(big.Int).SetBytes(p), new(big.Int).SetBytes(q)}}
	if err := k.Validate(); err != nil {
		return nil, err
	}
	k.Precompute()
	return k, nil
}
