package recovery

import (
	"strconv"
	"strings"
	"testing"

	"github.com/aonode/aonode/bundler"
	"github.com/aonode/aonode/gateway"
	"github.com/aonode/aonode/node/store"
	"github.com/aonode/aonode/node/su"
)

// chain signs n assignments for pid the way the SU does; mutate may alter the tags of nonce i before signing.
func chain(t *testing.T, w *bundler.Wallet, pid string, n int, mutate func(i int, tags []bundler.Tag) []bundler.Tag) ([]gateway.Tx, map[string]*bundler.Item) {
	t.Helper()
	var head *store.Head
	var txs []gateway.Tx
	items := map[string]*bundler.Item{}
	for i := range n {
		hc, err := su.HashChain(pid, head)
		if err != nil {
			t.Fatal(err)
		}
		msg := pid
		if i > 0 {
			msg = bundler.B64([]byte(strings.Repeat(strconv.Itoa(i%10), 32)))
		}
		tags := []bundler.Tag{
			{Name: "Process", Value: pid}, {Name: "Epoch", Value: "0"}, {Name: "Nonce", Value: strconv.Itoa(i)},
			{Name: "Hash-Chain", Value: hc}, {Name: "Block-Height", Value: "000000000007"},
			{Name: "Timestamp", Value: strconv.Itoa(1000 + i)}, {Name: "Data-Protocol", Value: "ao"},
			{Name: "Type", Value: "Assignment"}, {Name: "Variant", Value: "ao.TN.1"}, {Name: "Message", Value: msg},
		}
		if mutate != nil {
			tags = mutate(i, tags)
		}
		it, err := w.Sign(nil, "", "", tags)
		if err != nil {
			t.Fatal(err)
		}
		items[it.ID] = it
		txs = append(txs, gateway.Tx{ID: it.ID})
		head = &store.Head{Nonce: int64(i), HashChain: hc, AssignmentID: it.ID, Timestamp: int64(1000 + i)}
	}
	return txs, items
}

func setTag(tags []bundler.Tag, name, value string) []bundler.Tag {
	for i := range tags {
		if tags[i].Name == name {
			tags[i].Value = value
		}
	}
	return tags
}

func TestVerifyChain(t *testing.T) {
	jwk, err := bundler.GenerateJWK()
	if err != nil {
		t.Fatal(err)
	}
	w, _ := bundler.NewWallet(jwk)
	jwk2, _ := bundler.GenerateJWK()
	other, _ := bundler.NewWallet(jwk2)
	pid := bundler.B64([]byte(strings.Repeat("p", 32)))
	sched := w.Address()

	cases := []struct {
		name   string
		build  func() ([]gateway.Tx, map[string]*bundler.Item)
		reject string // "" = valid
	}{
		{"valid, shuffled by the gateway", func() ([]gateway.Tx, map[string]*bundler.Item) {
			txs, items := chain(t, w, pid, 5, nil)
			txs[0], txs[3] = txs[3], txs[0]
			return txs, items
		}, ""},
		{"same item twice (two bundles)", func() ([]gateway.Tx, map[string]*bundler.Item) {
			txs, items := chain(t, w, pid, 3, nil)
			return append(txs, txs[1]), items
		}, ""},
		{"gap", func() ([]gateway.Tx, map[string]*bundler.Item) {
			txs, items := chain(t, w, pid, 4, nil)
			return append(txs[:2], txs[3]), items
		}, "nonce 2 is missing"},
		{"broken hash chain", func() ([]gateway.Tx, map[string]*bundler.Item) {
			return chain(t, w, pid, 3, func(i int, tags []bundler.Tag) []bundler.Tag {
				if i == 2 {
					return setTag(tags, "Hash-Chain", bundler.B64(make([]byte, 32)))
				}
				return tags
			})
		}, "does not link"},
		{"signed by someone else", func() ([]gateway.Tx, map[string]*bundler.Item) {
			return chain(t, other, pid, 2, nil)
		}, "not the scheduler"},
		{"another process", func() ([]gateway.Tx, map[string]*bundler.Item) {
			return chain(t, w, pid, 2, func(i int, tags []bundler.Tag) []bundler.Tag {
				return setTag(tags, "Process", bundler.B64([]byte(strings.Repeat("q", 32))))
			})
		}, "is for process"},
		{"nonce 0 not the spawn", func() ([]gateway.Tx, map[string]*bundler.Item) {
			return chain(t, w, pid, 2, func(i int, tags []bundler.Tag) []bundler.Tag {
				if i == 0 {
					return setTag(tags, "Message", bundler.B64(make([]byte, 32)))
				}
				return tags
			})
		}, "not the process"},
		{"non-numeric nonce", func() ([]gateway.Tx, map[string]*bundler.Item) {
			return chain(t, w, pid, 2, func(i int, tags []bundler.Tag) []bundler.Tag {
				return setTag(tags, "Nonce", "x1")
			})
		}, "not a number"},
		{"item not restored", func() ([]gateway.Tx, map[string]*bundler.Item) {
			txs, _ := chain(t, w, pid, 2, nil)
			return txs, map[string]*bundler.Item{}
		}, "could not be restored"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			txs, items := c.build()
			got, err := verifyChain(pid, sched, txs, items)
			if c.reject != "" {
				if err == nil || !strings.Contains(err.Error(), c.reject) {
					t.Fatalf("want error containing %q, got %v", c.reject, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for i, a := range got {
				if a.entry.Nonce != int64(i) || a.entry.Timestamp != int64(1000+i) || a.entry.BlockHeight != 7 {
					t.Fatalf("entry %d: %+v", i, a.entry)
				}
			}
		})
	}
}
