// Package ans104 decodes and encodes ANS-104 data items as goar does, without goar's per-call Avro schema
// compilation. The node's bundler and the embedded gateway both use it.
package ans104

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"math"

	"github.com/everFinance/goar/types"
	"github.com/everFinance/goar/utils"
)

// goar's DecodeBundleItem and NewBundleItem compile the Avro schema of the tags (goavro.NewCodec) on every
// call: about three quarters of decoding an item, and every message is decoded several times (the MU, the CU
// reading its schedule, the crank). Decode and EncodeTags do the same work without it. Decode gives
// exactly what utils.DecodeBundleItem gives for every input it accepts (ans104_test.go compares them), and
// refuses what it refuses.

var ErrItemLayout = errors.New("itemBinary incorrect")

// Decode decodes an ANS-104 item binary as utils.DecodeBundleItem does.
func Decode(raw []byte) (*types.BundleItem, error) {
	if len(raw) < 2 {
		return nil, ErrItemLayout
	}
	sigType := leInt(raw[:2])
	meta, ok := types.SigConfigMap[sigType]
	if !ok {
		return nil, fmt.Errorf("not support sigType:%d", sigType)
	}
	sigEnd := 2 + meta.SigLength
	ownerEnd := sigEnd + meta.PubLength
	if len(raw) < ownerEnd+1 {
		return nil, ErrItemLayout
	}
	sig := raw[2:sigEnd]
	id := sha256.Sum256(sig)
	target, anchor := "", ""
	pos := ownerEnd
	tagsStart, anchorByte := pos+2, pos+1
	if raw[pos] == 1 {
		tagsStart += 32
		anchorByte += 32
		if len(raw) < pos+1+32 {
			return nil, ErrItemLayout
		}
		target = b64(raw[pos+1 : pos+1+32])
	}
	if len(raw) < anchorByte+1 {
		return nil, ErrItemLayout
	}
	if raw[anchorByte] == 1 {
		tagsStart += 32
		if len(raw) < anchorByte+1+32 {
			return nil, ErrItemLayout
		}
		anchor = b64(raw[anchorByte+1 : anchorByte+1+32])
	}
	if len(raw) < tagsStart+16 {
		return nil, ErrItemLayout
	}
	numTags := leInt(raw[tagsStart : tagsStart+8])
	tags := []types.Tag{}
	var tagBytes []byte
	dataStart := tagsStart + 16
	if numTags > 0 {
		n := leInt(raw[tagsStart+8 : tagsStart+16])
		if n < 0 || n > len(raw)-dataStart {
			return nil, ErrItemLayout
		}
		tagBytes = raw[dataStart : dataStart+n]
		var err error
		if tags, err = decodeTags(tagBytes); err != nil {
			return nil, err
		}
		dataStart += n
	}
	return &types.BundleItem{
		SignatureType: sigType,
		Signature:     b64(sig),
		Owner:         b64(raw[sigEnd:ownerEnd]),
		Target:        target,
		Anchor:        anchor,
		Tags:          tags,
		Data:          b64(raw[dataStart:]),
		Id:            b64(id[:]),
		TagsBy:        b64(tagBytes),
		ItemBinary:    raw,
	}, nil
}

// leInt reads a little-endian integer as goar's ByteArrayToLong does (wrapping as it wraps).
func leInt(b []byte) int {
	v := 0
	for i := len(b) - 1; i >= 0; i-- {
		v = v*256 + int(b[i])
	}
	return v
}

// decodeTags reads the Avro array of {name: bytes, value: bytes} records ANS-104 tags are, as goavro reads it:
// blocks of items (a negative count is followed by the block's size in bytes), ended by a zero count; bytes
// after the end are ignored.
func decodeTags(b []byte) ([]types.Tag, error) {
	tags := []types.Tag{}
	for {
		count, rest, err := avroLong(b)
		if err != nil {
			return nil, fmt.Errorf("tags: block count: %w", err)
		}
		b = rest
		if count == 0 {
			return tags, nil
		}
		if count < 0 {
			if count == math.MinInt64 {
				return nil, fmt.Errorf("tags: block count %d", count)
			}
			count = -count
			if _, b, err = avroLong(b); err != nil {
				return nil, fmt.Errorf("tags: block size: %w", err)
			}
		}
		if count > math.MaxInt32 {
			return nil, fmt.Errorf("tags: block count %d too large", count)
		}
		for range count {
			var name, value []byte
			if name, b, err = avroBytes(b); err != nil {
				return nil, fmt.Errorf("tags: name: %w", err)
			}
			if value, b, err = avroBytes(b); err != nil {
				return nil, fmt.Errorf("tags: value: %w", err)
			}
			tags = append(tags, types.Tag{Name: string(name), Value: string(value)})
		}
	}
}

var errShort = errors.New("short buffer")

// avroLong reads a zig-zag varint long (goavro's decoding: bits past 64 are dropped).
func avroLong(b []byte) (int64, []byte, error) {
	var v uint64
	var shift uint
	for i, c := range b {
		v |= uint64(c&0x7f) << shift
		if c&0x80 == 0 {
			return int64(v>>1) ^ -int64(v&1), b[i+1:], nil
		}
		shift += 7
	}
	return 0, nil, errShort
}

func avroBytes(b []byte) ([]byte, []byte, error) {
	if len(b) < 1 {
		return nil, nil, errShort
	}
	n, rest, err := avroLong(b)
	if err != nil {
		return nil, nil, err
	}
	if n < 0 || n > int64(len(rest)) {
		return nil, nil, fmt.Errorf("bytes of size %d in %d", n, len(rest))
	}
	return rest[:n], rest[n:], nil
}

// EncodeTags writes tags as goavro writes them for goar (one block, then the zero count); no tags is no bytes.
func EncodeTags(tags []types.Tag) []byte {
	if len(tags) == 0 {
		return []byte{}
	}
	n := 2
	for _, t := range tags {
		n += len(t.Name) + len(t.Value) + 20
	}
	b := make([]byte, 0, n)
	b = appendAvroLong(b, int64(len(tags)))
	for _, t := range tags {
		b = appendAvroLong(b, int64(len(t.Name)))
		b = append(b, t.Name...)
		b = appendAvroLong(b, int64(len(t.Value)))
		b = append(b, t.Value...)
	}
	return appendAvroLong(b, 0)
}

func appendAvroLong(b []byte, v int64) []byte {
	u := uint64(v<<1) ^ uint64(v>>63)
	for u >= 0x80 {
		b = append(b, byte(u)|0x80)
		u >>= 7
	}
	return append(b, byte(u))
}

// NewItem is utils.NewBundleItem for a byte payload, with the tags encoded here.
func NewItem(owner string, sigType int, target, anchor string, data []byte, tags []types.Tag) (*types.BundleItem, error) {
	for _, f := range []struct{ name, v string }{{"target", target}, {"anchor", anchor}} {
		if f.v == "" {
			continue
		}
		b, err := utils.Base64Decode(f.v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.name, err)
		}
		if len(b) != 32 {
			return nil, fmt.Errorf("%s length must be 32", f.name)
		}
	}
	return &types.BundleItem{
		SignatureType: sigType, Owner: owner, Target: target, Anchor: anchor, Tags: tags,
		TagsBy: base64.RawURLEncoding.EncodeToString(EncodeTags(tags)), ItemBinary: []byte{}, Data: base64.RawURLEncoding.EncodeToString(data),
	}, nil
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
