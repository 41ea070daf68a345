package store

import (
	"errors"
	"slices"
	"testing"
)

func TestRecordEncoding(t *testing.T) {
	for _, r := range []record{
		{},
		{held: true, raw: []byte{}},
		{held: true, raw: []byte("item bytes"), upload: 1 << 40},
		{slots: []slot{{"P1", 0}}},
		{held: true, raw: []byte{0, 1, 2}, upload: 7, slots: []slot{{"P1", 3}, {"P2", 1 << 50}, {"", 0}}},
	} {
		enc := r.encode()
		got, err := decodeRecord(enc)
		if err != nil || got.held != r.held || string(got.raw) != string(r.raw) || got.upload != r.upload || !slices.Equal(got.slots, r.slots) {
			t.Fatalf("%+v came back as %+v (%v)", r, got, err)
		}
		// Every cut short header is refused, not misread (a held record's bytes can be cut anywhere: they
		// are the rest of the value).
		header := len(enc) - len(r.raw)
		for n := range header {
			if _, err := decodeRecord(enc[:n]); !errors.Is(err, errRecord) {
				t.Fatalf("%+v cut to %d bytes: %v", r, n, err)
			}
		}
	}
	for name, v := range map[string][]byte{
		"unknown format":         {2, 0, 0, 0},
		"bytes after a not-held": {recordFormat, 0, 0, 0, 'x'},
		"slot count too large":   {recordFormat, 0, 0, 200},
		"pid longer than value":  {recordFormat, 0, 0, 1, 9, 'a'},
	} {
		if _, err := decodeRecord(v); !errors.Is(err, errRecord) {
			t.Errorf("%s: %v", name, err)
		}
	}
}
