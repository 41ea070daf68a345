package cu

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/aonode/aonode/node/progress"
	"github.com/aonode/aonode/node/store"
)

// trackAfter is how many messages an evaluation must have left before it is tracked (0: loadPage): short
// catch-ups (a request after a few new messages) cost nothing extra.
func (s *Service) trackAfter() int {
	if s.trackMin > 0 {
		return s.trackMin
	}
	return loadPage
}

// CheckpointInfo is the last checkpoint this CU queued for a process.
type CheckpointInfo struct {
	Item  string `json:"item"`
	Nonce int64  `json:"nonce"`
}

// ProcessStatus is where the CU stands with a process, as of now.
type ProcessStatus struct {
	Loaded bool `json:"loaded"` // its VM is in memory
	Busy   bool `json:"busy"`   // it is being evaluated now: Nonce and the counts are from before
	// Nonce is the last evaluated message (-1: none), of the loaded VM, else of the stored results.
	Nonce           int64           `json:"nonce"`
	SnapshotNonce   int64           `json:"snapshot_nonce"` // the stored snapshot's (-1: none)
	SinceSnapshot   int64           `json:"since_snapshot"`
	SinceCheckpoint int64           `json:"since_checkpoint"`
	Checkpoint      *CheckpointInfo `json:"checkpoint,omitempty"`
	Snapshots       SnapshotOptions `json:"-"`
}

// Status reads the CU's state of pid without waiting for it: a process being evaluated is reported busy
// with its last known position.
func (s *Service) Status(ctx context.Context, pid string) (ProcessStatus, error) {
	st := ProcessStatus{Nonce: -1, SnapshotNonce: -1, Snapshots: s.snapOpts}
	s.mu.Lock()
	p := s.procs[pid]
	s.mu.Unlock()
	if p != nil {
		if p.mu.TryLock() {
			st.Loaded, st.Nonce, st.SinceSnapshot, st.SinceCheckpoint = p.vm != nil, p.nonce, p.sinceSnap, p.sinceCkpt
			p.mu.Unlock()
		} else {
			st.Busy, st.Loaded = true, true
		}
	}
	if !st.Loaded || st.Busy {
		n, err := s.db.LastResultNonce(ctx, pid)
		if err != nil {
			return st, err
		}
		st.Nonce = n
	}
	n, err := s.db.SnapshotNonce(ctx, pid)
	switch {
	case err == nil:
		st.SnapshotNonce = n
	case !errors.Is(err, store.ErrNotFound):
		return st, err
	}
	ck, err := s.db.Meta(ctx, store.CUCheckpoint(pid))
	switch {
	case err == nil:
		nonce, item, ok := strings.Cut(ck, " ")
		if n, perr := strconv.ParseInt(nonce, 10, 64); ok && perr == nil {
			st.Checkpoint = &CheckpointInfo{Item: item, Nonce: n}
		}
	case !errors.Is(err, store.ErrNotFound):
		return st, err
	}
	return st, nil
}

// noteCheckpoint records the last checkpoint queued for p (what the explorer shows).
func (s *Service) noteCheckpoint(ctx context.Context, pid string, nonce int64, item string) {
	if err := s.db.SetMeta(ctx, store.CUCheckpoint(pid), fmt.Sprintf("%d %s", nonce, item)); err != nil {
		s.log.Warn("checkpoint not recorded", "process", pid, "err", err)
	}
}

// trackEval starts tracking an evaluation of p that has more than trackAfter messages left (nil: not worth
// it, or no tracker). batchLen is the length of the first batch loaded: a short one is all there is.
func (s *Service) trackEval(ctx context.Context, p *proc, toNonce int64, batchLen int) *progress.Job {
	if s.progress == nil || batchLen < s.trackAfter() {
		return nil
	}
	target := toNonce
	if target < 0 {
		e, err := s.sched.Latest(ctx, p.id)
		if err != nil {
			return nil
		}
		target = e.Nonce
	}
	if target-p.nonce < int64(s.trackAfter()) {
		return nil
	}
	phase := "evaluating"
	if p.scratch {
		phase = "replaying"
	}
	return s.progress.Start("evaluate", p.id, phase, "messages", target-p.nonce)
}
