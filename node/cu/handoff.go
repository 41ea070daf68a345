package cu

import (
	"context"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/aonode/aonode/node/runtime"
	"github.com/aonode/aonode/node/su"
)

// The node's MU reads the result of every message it scheduled (to send what it emitted), most of them right
// after the CU evaluated them for that very read. Reading the stored copy meant finding the message's nonce
// and its schedule entry again and decoding the JSON just encoded: about 6% of the node's CPU under load.
// The CU therefore hands the MU what it has in hand: the result as evaluated and the message as scheduled,
// once each, kept for a while in case the MU is slow to come for them. Only results that read back as
// themselves are handed (aos.Result.DecodesToItself), so the MU sends the same bytes either way.

const (
	handoffEntries = 1024     // results waiting for the MU; past that, the least recent go (the MU reads them stored)
	handoffMaxSize = 32 << 10 // a larger result or message is not kept in memory for it
)

type handed struct {
	res *runtime.Result
	sc  su.Scheduled // a copy: the batch it was loaded in can go
}

type handoff struct{ c *lru.Cache[string, handed] }

func newHandoff() *handoff {
	c, err := lru.New[string, handed](handoffEntries)
	if err != nil {
		panic(err) // only for a size <= 0
	}
	return &handoff{c: c}
}

func handoffKey(pid, messageID string) string { return pid + "/" + messageID }

// offer keeps a stored result for the MU when it qualifies; raw is its stored encoding.
func (h *handoff) offer(pid string, sc *su.Scheduled, res *runtime.Result, raw []byte) {
	if h == nil || len(raw) > handoffMaxSize || sc.Message == nil || len(sc.Message.Raw) > handoffMaxSize || !res.DecodesToItself() {
		return
	}
	h.c.Add(handoffKey(pid, sc.MessageID), handed{res: res, sc: *sc})
}

// take returns (and forgets) the result handed over for message id of pid.
func (h *handoff) take(pid, id string) (*runtime.Result, *su.Scheduled, bool) {
	if h == nil {
		return nil, nil, false
	}
	k := handoffKey(pid, id)
	// Remove answers true to one caller only, so two readers at once never both take it.
	v, ok := h.c.Peek(k)
	if !ok || !h.c.Remove(k) {
		return nil, nil, false
	}
	return v.res, &v.sc, true
}

// HandOff makes the CU keep the results it evaluates for Evaluated, which the node's MU reads; a CU without an
// MU in the same process must not, or it would hold results nobody takes.
func (s *Service) HandOff() { s.handoff = newHandoff() }

// Evaluated is the result of message id of pid, decoded, as the MU reads it, with the message as scheduled
// when the CU has it at hand (else nil: the caller looks it up).
func (s *Service) Evaluated(ctx context.Context, pid, id string) (*runtime.Result, *su.Scheduled, error) {
	if res, sc, ok := s.handoff.take(pid, id); ok {
		s.stats.handedOff.Add(1)
		return res, sc, nil
	}
	raw, err := s.Result(ctx, pid, id)
	if err != nil {
		return nil, nil, err
	}
	// Result may have just evaluated it (and the messages after it), for this very read.
	if res, sc, ok := s.handoff.take(pid, id); ok {
		s.stats.handedOff.Add(1)
		return res, sc, nil
	}
	res, err := DecodeResult(raw)
	return res, nil, err
}
