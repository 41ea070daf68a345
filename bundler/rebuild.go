package bundler

import (
	"crypto/sha256"
	"fmt"

	"github.com/everFinance/goar/types"
	"github.com/everFinance/goar/utils"
)

// Fields are a data item as a gateway describes it (GraphQL metadata plus the payload): enough to rebuild the
// exact signed binary, because the signature covers every one of them.
type Fields struct {
	Signature string // base64url
	Owner     string // base64url public key (its length tells the signature types to try)
	Target    string // base64url id or ""
	Anchor    string // base64url of 32 bytes or "" (gateways show item anchors encoded)
	Tags      []Tag
	Data      []byte
}

// Rebuild reassembles a signed data item from its fields and verifies it, so a node can restore items from a
// gateway, which serves metadata and payload but not the signed binary (nor the signature type: every type
// whose key has the owner's length is tried). It fails with ErrInvalidItem when the fields do not reproduce a
// valid signature (for example a gateway that dropped the anchor).
func Rebuild(f Fields) (*Item, error) {
	sigTypes := SigTypesForOwner(f.Owner)
	if len(sigTypes) == 0 {
		return nil, fmt.Errorf("%w: rebuild: owner is not a public key of a supported signature type", ErrInvalidItem)
	}
	var it *Item
	var err error
	for _, st := range sigTypes {
		if it, err = rebuildAs(st, f); err == nil {
			return it, nil
		}
	}
	return nil, err
}

func rebuildAs(sigType int, f Fields) (*Item, error) {
	gt := make([]types.Tag, len(f.Tags))
	for i, t := range f.Tags {
		gt[i] = types.Tag{Name: t.Name, Value: t.Value}
	}
	bi, err := utils.NewBundleItem(f.Owner, sigType, f.Target, f.Anchor, f.Data, gt)
	if err != nil {
		return nil, fmt.Errorf("%w: rebuild: %v", ErrInvalidItem, err)
	}
	bi.Signature = f.Signature
	sig, err := DecodeB64(f.Signature)
	if err != nil {
		return nil, fmt.Errorf("%w: rebuild: signature: %v", ErrInvalidItem, err)
	}
	bi.Id = idOf(sig)
	raw, err := utils.GenerateItemBinary(bi)
	if err != nil {
		return nil, fmt.Errorf("%w: rebuild: %v", ErrInvalidItem, err)
	}
	return Parse(raw)
}

func idOf(sig []byte) string {
	h := sha256.Sum256(sig)
	return B64(h[:])
}

// Unbundle splits an ANS-104 bundle into its items' binaries (decoded, not yet verified: Parse each).
func Unbundle(bundle []byte) (raws [][]byte, err error) {
	defer func() {
		// goar trusts the length fields it reads; a corrupt bundle must be an error, not a crash.
		if r := recover(); r != nil {
			raws, err = nil, fmt.Errorf("%w: malformed bundle", ErrInvalidItem)
		}
	}()
	b, err := utils.DecodeBundle(bundle)
	if err != nil {
		return nil, fmt.Errorf("%w: bundle: %v", ErrInvalidItem, err)
	}
	for _, it := range b.Items {
		raws = append(raws, it.ItemBinary)
	}
	return raws, nil
}
