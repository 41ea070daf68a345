package aos

import "fmt"

// Bounds on what one message may send. Every outgoing message is signed, scheduled and uploaded at the
// node's expense, so a result past these bounds fails like any failed message (it sends nothing). The
// bounds are constants of the runtime, not node settings: every CU must reach the same result.
const (
	// MaxOutboxItems is how many messages, spawns and assignments one result may carry.
	MaxOutboxItems = 1000
	// MaxOutboxItemSize is the largest outgoing message or spawn (its Data and tags): what an SU accepts
	// by default (max_item_size).
	MaxOutboxItemSize = 10 << 20
	// MaxOutboxSize is the most Data and tags one result may send in all.
	MaxOutboxSize = 32 << 20
)

// checkOutbox turns a result whose outbox is past the bounds into an error result.
func checkOutbox(res Result) Result {
	fail := func(format string, args ...any) Result {
		return Result{Messages: []OutMessage{}, Spawns: []OutSpawn{}, Assignments: []OutAssignment{}, Output: res.Output,
			Error: "outbox limit exceeded: " + fmt.Sprintf(format, args...), GasUsed: res.GasUsed}
	}
	if n := len(res.Messages) + len(res.Spawns) + len(res.Assignments); n > MaxOutboxItems {
		return fail("%d messages, spawns and assignments (limit %d)", n, MaxOutboxItems)
	}
	size := func(data string, tags []OutTag) int {
		n := len(data)
		for _, t := range tags {
			n += len(t.Name) + len(t.Value) + len(t.Raw)
		}
		return n
	}
	total := 0
	for _, m := range res.Messages {
		n := size(m.Data, m.Tags) + len(m.Target) + len(m.Anchor)
		if n > MaxOutboxItemSize {
			return fail("a message to %s of %d bytes (limit %d)", m.Target, n, MaxOutboxItemSize)
		}
		total += n
	}
	for _, s := range res.Spawns {
		n := size(s.Data, s.Tags) + len(s.Anchor)
		if n > MaxOutboxItemSize {
			return fail("a spawn of %d bytes (limit %d)", n, MaxOutboxItemSize)
		}
		total += n
	}
	if total > MaxOutboxSize {
		return fail("%d bytes sent in all (limit %d)", total, MaxOutboxSize)
	}
	return res
}
