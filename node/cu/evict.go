package cu

import (
	"context"
	"fmt"
	"sort"
	"time"
)

// touch records a use of p (called with s.mu held).
func (p *proc) touch() { p.lastUsed = time.Now() }

// evictIdle unloads least recently used processes until at most maxLoaded have a VM. A process in use (its
// lock taken) is never unloaded; one whose state cannot be snapshotted (a pending Receive) is unloaded only
// when no other candidate is left, since it must be replayed to come back.
func (s *Service) evictIdle(ctx context.Context) {
	if s.maxLoaded <= 0 {
		return
	}
	type cand struct {
		p    *proc
		used time.Time
	}
	s.mu.Lock()
	all := make([]cand, 0, len(s.procs))
	for _, p := range s.procs {
		all = append(all, cand{p, p.lastUsed})
	}
	s.mu.Unlock()
	var loaded []cand
	busy := 0
	for _, c := range all {
		if !c.p.mu.TryLock() {
			busy++ // in use: loaded (or about to be), never a candidate
			continue
		}
		if c.p.vm != nil {
			loaded = append(loaded, c)
		}
		c.p.mu.Unlock()
	}
	excess := len(loaded) + busy - s.maxLoaded
	if excess <= 0 {
		return
	}
	sort.Slice(loaded, func(i, j int) bool { return loaded[i].used.Before(loaded[j].used) })
	var stuck []*proc
	for _, c := range loaded {
		if excess == 0 {
			return
		}
		if s.unload(ctx, c.p, false) {
			excess--
		} else {
			stuck = append(stuck, c.p)
		}
	}
	for _, p := range stuck {
		if excess == 0 {
			return
		}
		if s.unload(ctx, p, true) {
			excess--
		}
	}
}

// unload snapshots p (when it evaluated past its last snapshot) and drops its VM. Without force, a process
// that cannot be snapshotted stays loaded.
func (s *Service) unload(ctx context.Context, p *proc, force bool) bool {
	if !p.mu.TryLock() {
		return false
	}
	defer p.mu.Unlock()
	if p.vm == nil {
		return false
	}
	if p.nonce > p.snapNonce && s.snapshotsOn() {
		if _, err := s.takeSnapshot(ctx, p); err != nil && !force {
			return false
		}
	}
	p.vm.Close()
	p.vm = nil
	p.nonce = -1
	s.stats.evictions.Add(1)
	s.log.Debug("process unloaded", "process", p.id)
	return true
}

// Close stops the CU's background work and snapshots every process evaluated since its last snapshot, so
// the next start replays nothing. Calling it again snapshots what was evaluated since.
func (s *Service) Close(ctx context.Context) error {
	s.stopBg()
	done := make(chan struct{})
	go func() { s.bg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		return fmt.Errorf("cu: background work did not stop: %w", ctx.Err())
	}
	s.SnapshotAll(ctx)
	return ctx.Err()
}
