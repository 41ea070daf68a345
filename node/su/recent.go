package su

import (
	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/aonode/aonode/bundler"
	"github.com/aonode/aonode/node/store"
)

// The CU loads every entry the SU writes, most of them right after the write, and loading one meant reading
// its assignment and its message back from the store and decoding both (2% of the node's CPU under load). The
// SU has both items in hand when it signs the entry, so it keeps them for the CU's Load to take once. An entry
// is kept before it is written: Load reads entries from the store, so it only ever asks for written ones, and
// a kept item is used only when the written entry names it (a failed write's nonce is signed again, with
// another assignment).

const (
	recentEntries = 1024     // entries waiting for the CU; past that, the least recent go (Load reads them stored)
	recentMaxSize = 64 << 10 // a larger message is not kept in memory for it
)

type recentKey struct {
	pid   string
	nonce int64
}

type recentItems struct{ asg, msg *bundler.Item }

type recent struct {
	c *lru.Cache[recentKey, recentItems]
}

func newRecent() *recent {
	c, err := lru.New[recentKey, recentItems](recentEntries)
	if err != nil {
		panic(err) // only for a size <= 0
	}
	return &recent{c: c}
}

// offer keeps the items of entry e, just signed (msg nil: the message is not held here).
func (r *recent) offer(e store.Entry, asg, msg *bundler.Item) {
	if msg == nil || len(msg.Raw) > recentMaxSize || asg.ID != e.AssignmentID || msg.ID != e.MessageID {
		return
	}
	r.c.Add(recentKey{e.Process, e.Nonce}, recentItems{asg: asg, msg: msg})
}

// take returns (and forgets) the items kept for the written entry e, when they are its own.
func (r *recent) take(e store.Entry) (Scheduled, bool) {
	k := recentKey{e.Process, e.Nonce}
	// Remove answers true to one caller only, so two loads at once never both take them.
	v, ok := r.c.Peek(k)
	if !ok || !r.c.Remove(k) {
		return Scheduled{}, false
	}
	if v.asg.ID != e.AssignmentID || v.msg.ID != e.MessageID {
		return Scheduled{}, false
	}
	return Scheduled{Entry: e, Assignment: v.asg, Message: v.msg}, true
}
