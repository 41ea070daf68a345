package cu

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
)

// An evaluation whose result is an Error leaves no state: the reference CU keeps the process memory from
// before such a message (its worker replaces the memory of a result with an Error by the previous one), so
// every AO process behaves as if a failed message, or cron tick, had never run, apart from its result.
// gopher-lua cannot undo what a message did, so the CU rebuilds the VM instead: from the newest snapshot
// at or before the failed evaluation, replaying what followed and skipping every evaluation whose stored
// result is an Error. Failed messages are rare; when a rebuild had a long way to replay, it is followed by
// a snapshot so that the next one is short.

// revertReplayLimit is the replay length past which a rebuild is followed by a snapshot.
const revertReplayLimit = 100

// resultFailed reports whether a stored result has an Error.
func resultFailed(raw []byte) bool {
	var r struct {
		Error json.RawMessage
	}
	if json.Unmarshal(raw, &r) != nil {
		return false
	}
	e := bytes.TrimSpace(r.Error)
	return len(e) > 0 && !bytes.Equal(e, []byte("null")) && !bytes.Equal(e, []byte(`""`))
}

// revert rebuilds p's VM to the state before the evaluation that just failed: the message at p.nonce
// (its result already stored), or the cron tick at p.cronUntil. Called with p.mu held.
func (s *Service) revert(ctx context.Context, p *proc) error {
	nonce, cronUntil := p.nonce, p.cronUntil
	// The snapshot cadence goes on as if nothing was rebuilt.
	snapNonce, sinceSnap, sinceCkpt, evalSinceSnap, evalSinceCkpt, snapCost := p.snapNonce, p.sinceSnap, p.sinceCkpt, p.evalSinceSnap, p.evalSinceCkpt, p.snapCost
	old := p.vm
	p.vm = nil
	before := s.stats.evaluated.Load()
	// A throwaway VM (a replay filling missing results) may start from a snapshot too: without one, every
	// failed message of a long replay would replay it from the spawn again.
	mayRestore := p.mayRestore
	p.mayRestore = true
	err := s.boot(ctx, p, nonce)
	p.mayRestore = mayRestore
	if err == nil {
		err = s.evaluate(ctx, p, nonce)
	}
	if err == nil {
		err = s.runCrons(ctx, p, cronUntil)
	}
	old.Close()
	if err != nil {
		if p.vm != nil {
			p.vm.Close()
			p.vm = nil // the next request boots the process again
		}
		return fmt.Errorf("revert %s to before nonce %d: %w", p.id, nonce, err)
	}
	s.stats.reverts.Add(1)
	p.snapNonce, p.sinceSnap, p.sinceCkpt, p.evalSinceSnap, p.evalSinceCkpt, p.snapCost = snapNonce, sinceSnap, sinceCkpt, evalSinceSnap, evalSinceCkpt, snapCost
	if replayed := s.stats.evaluated.Load() - before; replayed > revertReplayLimit && !p.scratch && s.snapshotsOn() {
		if _, err := s.takeSnapshot(ctx, p); err != nil {
			s.log.Debug("snapshot after a revert skipped", "process", p.id, "err", err)
		}
	}
	return nil
}
