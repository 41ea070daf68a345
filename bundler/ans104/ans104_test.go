package ans104

import (
	"bytes"
	"encoding/binary"
	"reflect"
	"testing"

	"github.com/everFinance/goar/utils"
)

// Tags goavro would write in other block layouts (a negative count with a size, several blocks) and hostile
// ones read the same as goar reads them.
func TestDecodeTagsMatchesGoar(t *testing.T) {
	long := func(v int64) []byte { return binary.AppendVarint(nil, v) }
	rec := func(n, v string) []byte {
		return append(append(append(long(int64(len(n))), n...), long(int64(len(v)))...), v...)
	}
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	cases := map[string][]byte{
		"one block":           cat(long(2), rec("a", "1"), rec("b", "2"), long(0)),
		"negative count":      cat(long(-2), long(8), rec("a", "1"), rec("b", "2"), long(0)),
		"two blocks":          cat(long(1), rec("a", "1"), long(1), rec("b", ""), long(0)),
		"trailing bytes":      cat(long(1), rec("a", "1"), long(0), []byte{7, 7}),
		"no end":              cat(long(1), rec("a", "1")),
		"short value":         cat(long(1), long(1), []byte("a"), long(5), []byte("ab")),
		"negative size":       cat(long(1), long(-1), long(0)),
		"huge count":          cat(long(1<<40), rec("a", "1"), long(0)),
		"min int count":       cat([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}),
		"overlong varint":     cat([]byte{0x82, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00}, rec("a", "1"), long(0)),
		"empty":               {},
		"zero count only":     long(0),
		"unterminated varint": {0x80},
	}
	for name, tb := range cases {
		t.Run(name, func(t *testing.T) {
			want, werr := utils.DeserializeTags(tb)
			got, gerr := decodeTags(tb)
			if (werr == nil) != (gerr == nil) || werr == nil && !reflect.DeepEqual(got, want) {
				t.Fatalf("goar %v %v, ours %v %v", want, werr, got, gerr)
			}
		})
	}
}
