package ans104

import (
	"crypto/sha512"
	"encoding/binary"
	"fmt"
	"strconv"
	"sync"

	"github.com/everFinance/goar/types"
)

// An item's signature signs the deep hash of its fields. goar's utils.BundleItemSignData takes them as base64
// strings, decodes each, and walks the list by reflection, building its tags with fmt: about 15 µs an item, a
// third of an ed25519 signature's cost, and the node signs two or three items per message. SignData hashes the
// bytes directly; deephash_test.go holds it to goar's answer.

// SignData is the deep hash (SHA-384) an ANS-104 item's signature signs: that of the list ["dataitem", "1",
// signature type, owner, target, anchor, tags, data], each a blob (an absent target or anchor is empty).
func SignData(sigType int, owner, target, anchor, tags, data []byte) [48]byte {
	acc, ok := prefixes()[sigType]
	if !ok {
		acc = listPrefix(sigType)
	}
	for _, b := range [][]byte{owner, target, anchor, tags, data} {
		acc = pairHash(acc, blobHash(b))
	}
	return acc
}

// listPrefix is the deep hash's accumulator after the list's first three elements, which only the signature type
// changes.
func listPrefix(sigType int) [48]byte {
	var typ [20]byte
	acc := sha512.Sum384([]byte("list8"))
	for _, b := range [][]byte{[]byte("dataitem"), []byte("1"), strconv.AppendInt(typ[:0], int64(sigType), 10)} {
		acc = pairHash(acc, blobHash(b))
	}
	return acc
}

// prefixes holds listPrefix of every signature type ANS-104 defines.
var prefixes = sync.OnceValue(func() map[int][48]byte {
	m := make(map[int][48]byte, len(types.SigConfigMap))
	for t := range types.SigConfigMap {
		m[t] = listPrefix(t)
	}
	return m
})

// blobHash is a blob's deep hash: SHA-384 of SHA-384("blob" + its length in decimal) and SHA-384 of it.
func blobHash(b []byte) [48]byte {
	var tag [24]byte
	return pairHash(sha512.Sum384(strconv.AppendInt(append(tag[:0], "blob"...), int64(len(b)), 10)), sha512.Sum384(b))
}

// pairHash is SHA-384 of a and b one after the other, the step every level of the deep hash takes.
func pairHash(a, b [48]byte) [48]byte {
	var pair [96]byte
	copy(pair[:48], a[:])
	copy(pair[48:], b[:])
	return sha512.Sum384(pair[:])
}

// EncodeItem lays out a signed item's binary as goar's utils.GenerateItemBinary does: signature type, signature,
// owner, target and anchor each after a presence byte, the tag count and the tags' length (8 bytes each, little
// endian), the tags, the data. numTags is the number of tags the tags bytes hold (no tags: no bytes).
func EncodeItem(sigType int, sig, owner, target, anchor []byte, numTags int, tags, data []byte) []byte {
	b := make([]byte, 0, 2+len(sig)+len(owner)+2+len(target)+len(anchor)+16+len(tags)+len(data))
	b = binary.LittleEndian.AppendUint16(b, uint16(sigType))
	b = append(b, sig...)
	b = append(b, owner...)
	for _, f := range [][]byte{target, anchor} {
		if len(f) == 0 {
			b = append(b, 0)
			continue
		}
		b = append(append(b, 1), f...)
	}
	b = binary.LittleEndian.AppendUint64(b, uint64(numTags))
	if numTags == 0 {
		tags = nil
	}
	b = binary.LittleEndian.AppendUint64(b, uint64(len(tags)))
	b = append(b, tags...)
	return append(b, data...)
}

// EncodeBundle lays out an ANS-104 bundle as goar's utils.NewBundle does: the item count, then each item's
// size and id (32 bytes each, little endian for the numbers), then the items. ids are the items' raw 32-byte
// ids, in the items' order. It sizes the bundle once, where NewBundle grows it item by item.
func EncodeBundle(raws, ids [][]byte) ([]byte, error) {
	if len(ids) != len(raws) {
		return nil, fmt.Errorf("bundle: %d ids for %d items", len(ids), len(raws))
	}
	size := 32 + 64*len(raws)
	for _, r := range raws {
		size += len(r)
	}
	b := make([]byte, 32, size)
	binary.LittleEndian.PutUint64(b, uint64(len(raws)))
	for i, r := range raws {
		if len(ids[i]) != 32 {
			return nil, fmt.Errorf("bundle: item %d: id of %d bytes, want 32", i, len(ids[i]))
		}
		b = binary.LittleEndian.AppendUint64(b, uint64(len(r)))
		b = append(b, make([]byte, 24)...)
		b = append(b, ids[i]...)
	}
	for _, r := range raws {
		b = append(b, r...)
	}
	return b, nil
}
