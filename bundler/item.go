// Package bundler builds, parses and verifies ANS-104 data items and bundles, and uploads them to Arweave.
package bundler

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/everFinance/goar/types"
	"github.com/everFinance/goar/utils"

	"github.com/aonode/aonode/bundler/ans104"
)

// Tag is one ANS-104 tag. Tags are kept as an ordered list: names repeat, and the first occurrence wins.
type Tag struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Item is a parsed, signature-checked ANS-104 data item.
type Item struct {
	ID            string // base64url(sha256(signature))
	SignatureType int
	Signature     string // base64url
	Owner         string // base64url public key
	Target        string // base64url of 32 bytes, or ""
	Anchor        string // the 32 raw anchor bytes as a string (AO anchors are ASCII), or ""
	Tags          []Tag
	Data          []byte
	Raw           []byte // the exact signed binary
}

// ANS-104 limits on tags; items beyond them are invalid everywhere on Arweave.
const (
	MaxTags        = 128
	MaxTagNameLen  = 1024
	MaxTagValueLen = 3072
)

// ErrInvalidItem marks input that is not a valid signed data item (the HTTP layer answers 400).
var ErrInvalidItem = errors.New("invalid data item")

// Parse decodes raw ANS-104 bytes and verifies the id and the signature.
func Parse(raw []byte) (it *Item, err error) {
	bi, err := decode(raw)
	if err != nil {
		return nil, err
	}
	if err := ans104.Verify(bi); err != nil {
		return nil, fmt.Errorf("%w: signature does not verify: %v", ErrInvalidItem, err)
	}
	return fromGoar(bi)
}

// ParseStored decodes an item this node verified when it accepted it and has kept since in its own store: the
// signature check, most of Parse's cost (a CU replaying a schedule reads two items per message), is not
// done again. Items from anywhere else go through Parse.
func ParseStored(raw []byte) (*Item, error) {
	bi, err := decode(raw)
	if err != nil {
		return nil, err
	}
	return fromGoar(bi)
}

// decode wraps the item decoder (goar's, without its per-call schema compilation: ans104.go); a panic on a
// hostile body would become an ordinary error here.
func decode(raw []byte) (bi *types.BundleItem, err error) {
	defer func() {
		if r := recover(); r != nil {
			bi, err = nil, fmt.Errorf("%w: malformed binary", ErrInvalidItem)
		}
	}()
	if len(raw) == 0 {
		return nil, fmt.Errorf("%w: empty body", ErrInvalidItem)
	}
	bi, err = ans104.Decode(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidItem, err)
	}
	if len(bi.Tags) > MaxTags {
		return nil, fmt.Errorf("%w: %d tags, at most %d allowed", ErrInvalidItem, len(bi.Tags), MaxTags)
	}
	for _, t := range bi.Tags {
		if len(t.Name) == 0 || len(t.Name) > MaxTagNameLen || len(t.Value) > MaxTagValueLen {
			return nil, fmt.Errorf("%w: tag %.40q has an empty or oversized name or value", ErrInvalidItem, t.Name)
		}
	}
	return bi, nil
}

func fromGoar(bi *types.BundleItem) (*Item, error) {
	data, err := utils.Base64Decode(bi.Data)
	if err != nil {
		return nil, fmt.Errorf("%w: data: %v", ErrInvalidItem, err)
	}
	anchor := ""
	if bi.Anchor != "" {
		a, err := utils.Base64Decode(bi.Anchor)
		if err != nil {
			return nil, fmt.Errorf("%w: anchor: %v", ErrInvalidItem, err)
		}
		anchor = string(a)
	}
	tags := make([]Tag, len(bi.Tags))
	for i, t := range bi.Tags {
		tags[i] = Tag{Name: t.Name, Value: t.Value}
	}
	raw := bi.ItemBinary
	return &Item{
		ID: bi.Id, SignatureType: bi.SignatureType, Signature: bi.Signature, Owner: bi.Owner,
		Target: bi.Target, Anchor: anchor, Tags: tags, Data: data, Raw: raw,
	}, nil
}

// OwnerAddress is the signer's address: base64url sha256 of the public key (the RSA modulus, the ed25519
// key), as Arweave gateways and AO address them; an Ethereum signer's is its 0x address, as AO's units show it.
func (it *Item) OwnerAddress() string { return SignerAddress(it.SignatureType, it.Owner) }

// SignerAddress is the address of a base64url public key of the given signature type ("" when it is not one).
func SignerAddress(sigType int, owner string) string {
	if sigType == types.EthereumSignType {
		addr, err := utils.ItemSignerAddr(types.BundleItem{SignatureType: sigType, Owner: owner})
		if err != nil {
			return ""
		}
		return addr
	}
	return OwnerToAddress(owner)
}

// SigTypesForOwner are the signature types whose public keys have owner's length, most likely first: a
// gateway serves an item's owner key but not its signature type (ed25519 and Solana keys are both 32 bytes;
// the signature covers the type, so only the right one verifies).
func SigTypesForOwner(owner string) []int {
	b, err := DecodeB64(owner)
	if err != nil {
		return nil
	}
	var out []int
	for _, t := range []int{SigArweave, SigEd25519, SigEthereum, SigSolana} {
		if types.SigConfigMap[t].PubLength == len(b) {
			out = append(out, t)
		}
	}
	return out
}

// OwnerToAddress turns a base64url public key into its Arweave address, base64url(sha256(key)).
func OwnerToAddress(owner string) string {
	// Every message of a process is read with its signer's address, and a node sees few signers: the
	// decode and hash of a 512-byte key per message showed in the CU's profile.
	ownerAddrs.Lock()
	addr, ok := ownerAddrs.m[owner]
	ownerAddrs.Unlock()
	if ok {
		return addr
	}
	b, err := base64.RawURLEncoding.DecodeString(owner)
	if err != nil {
		return ""
	}
	h := sha256.Sum256(b)
	addr = base64.RawURLEncoding.EncodeToString(h[:])
	ownerAddrs.Lock()
	if len(ownerAddrs.m) >= maxOwnerAddrs {
		clear(ownerAddrs.m) // bounded: a node facing many signers only loses the shortcut
	}
	ownerAddrs.m[owner] = addr
	ownerAddrs.Unlock()
	return addr
}

const maxOwnerAddrs = 4096

var ownerAddrs = struct {
	sync.Mutex
	m map[string]string
}{m: map[string]string{}}

// CheckUTF8 refuses tags whose name or value is not valid UTF-8: every JSON view of the item (the SU's
// message list, the process's msg.Tags) would show replacement characters instead of the signed bytes.
func (it *Item) CheckUTF8() error {
	for i, t := range it.Tags {
		switch {
		case !utf8.ValidString(t.Name):
			return fmt.Errorf("%w: tag %d: name %q is not valid UTF-8", ErrInvalidItem, i, t.Name)
		case !utf8.ValidString(t.Value):
			return fmt.Errorf("%w: tag %d (%q): value is not valid UTF-8", ErrInvalidItem, i, t.Name)
		}
	}
	return nil
}

// Tag returns the first value of the named tag.
func (it *Item) Tag(name string) (string, bool) { return FirstTag(it.Tags, name) }

// FirstTag returns the first value of a tag, matching the name exactly.
func FirstTag(tags []Tag, name string) (string, bool) {
	for _, t := range tags {
		if t.Name == name {
			return t.Value, true
		}
	}
	return "", false
}

// FirstTagFold is FirstTag with a case-insensitive name, as the reference units match protocol tags.
func FirstTagFold(tags []Tag, name string) (string, bool) {
	for _, t := range tags {
		if strings.EqualFold(t.Name, name) {
			return t.Value, true
		}
	}
	return "", false
}

// Sign creates and signs a data item. anchor is the raw anchor (must be 32 bytes or empty); target is a
// base64url id or "".
func (w *Wallet) Sign(data []byte, target, anchor string, tags []Tag) (*Item, error) {
	if w.crt != nil {
		return layOut(SigArweave, w.owner, w.Owner(), data, target, anchor, tags, func(msg [48]byte) ([]byte, error) {
			digest := sha256.Sum256(msg[:]) // what goar's signer signs: the SHA-256 of the deep hash
			if w.inTurn {
				return w.crt.SignPSSInTurn(rand.Reader, digest[:])
			}
			return w.crt.SignPSS(rand.Reader, digest[:])
		})
	}
	return w.signViaGoar(data, target, anchor, tags)
}

// signViaGoar signs through goar's item signer: for a key without its primes, and the reference the tests hold
// the CRT path to.
func (w *Wallet) signViaGoar(data []byte, target, anchor string, tags []Tag) (*Item, error) {
	gt, a, err := goarFields(anchor, tags)
	if err != nil {
		return nil, err
	}
	bi, err := w.items.CreateAndSignItem(data, target, a, gt)
	if err != nil {
		return nil, fmt.Errorf("sign item: %w", err)
	}
	it, err := fromGoar(&bi)
	if err != nil {
		return nil, fmt.Errorf("sign item: %w", err)
	}
	return it, nil
}

// B64 is base64url without padding, Arweave's encoding.
func B64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// DecodeB64 decodes base64url without padding.
func DecodeB64(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }
