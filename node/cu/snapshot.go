package cu

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync/atomic"
	"time"

	"github.com/aonode/aonode/bundler"
	"github.com/aonode/aonode/node/runtime"
	"github.com/aonode/aonode/node/store"
)

// SnapshotOptions say when the CU snapshots a process's state (kept in the local store and the cache, so a
// restarted or another CU starts from it instead of replaying every message) and when it also publishes the
// snapshot to Arweave as a checkpoint (so a node that lost everything starts from it after a recovery).
// A trigger is reached when either its message count or its evaluation time since the last one is; zero
// disables that half, and both zero disable the kind.
type SnapshotOptions struct {
	Messages           int64
	EvalTime           time.Duration
	CheckpointMessages int64
	CheckpointEvalTime time.Duration
	// CheckpointOwners are the wallets (besides this CU's) whose checkpoints this CU trusts to start from.
	CheckpointOwners []string
	// CheckpointMinNonce: a process shorter than this is replayed without asking the gateway for a checkpoint.
	CheckpointMinNonce int64
	// CostRatio, when positive, delays a due snapshot until the process evaluated at least CostRatio times as
	// long as its last snapshot took: a large state (a 100,000-key store takes ~70 ms to encode) is then
	// snapshotted less often than its message count asks, and snapshots stay a bounded share of the work.
	CostRatio float64
}

// DefaultSnapshotOptions snapshot every 1,000 messages or 2 s of evaluation and checkpoint every 10,000 or
// 1 min, spending at most about a twentieth of the evaluation time on snapshots (a tenth before: on the Eval
// benchmark that was the largest share of the CU's cost outside the VM; a restart still replays at most about
// twenty snapshot-times of evaluation).
var DefaultSnapshotOptions = SnapshotOptions{
	Messages: 1000, EvalTime: 2 * time.Second,
	CheckpointMessages: 10000, CheckpointEvalTime: time.Minute, CheckpointMinNonce: 1000, CostRatio: 20,
}

// snapshotsOn says whether the CU takes and uses snapshots (either trigger set).
func (s *Service) snapshotsOn() bool { return s.snapOpts.Messages > 0 || s.snapOpts.EvalTime > 0 }

// CheckpointRef is a checkpoint a gateway holds for a process.
type CheckpointRef struct {
	ID    string
	Nonce int64
	Owner string
}

// CheckpointSource finds and fetches checkpoints on a gateway. Checkpoints lists those of pid signed by one
// of owners; Fetch returns a checkpoint's data item with its signature verified. The CU checks the rest (owner,
// process, digest, schedule), so a lying gateway cannot make it start from a forged state.
type CheckpointSource interface {
	Checkpoints(ctx context.Context, pid string, owners []string) ([]CheckpointRef, error)
	Fetch(ctx context.Context, ref CheckpointRef) (*bundler.Item, error)
}

// Stats count the CU's evaluations and how processes were started.
type Stats struct {
	Evaluated          int64 // messages (and cron ticks) evaluated
	SnapshotsTaken     int64
	SnapshotRestores   int64 // processes started from a local or cached snapshot
	SnapshotFailures   int64 // snapshots that could not be taken or used (the CU replayed instead)
	SnapshotsRefused   int64 // snapshots and checkpoints not used because another runtime or build made them
	ForkFailures       int64 // dry-runs whose process VM could not be copied (rebuilt by a replay instead)
	CheckpointsQueued  int64 // checkpoints handed to the upload queue
	CheckpointRestores int64 // processes started from a gateway checkpoint
	Evictions          int64 // idle processes unloaded to stay within the loaded-process bound
	DryRunsRefused     int64 // dry-runs answered 429 because cu.max_dry_runs were running
	Reverts            int64 // VMs rebuilt to drop the state of an evaluation whose result was an Error
	FollowFailures     int64 // reads answered from the copy held here because the process's SU could not be read
	HandedOff          int64 // results the MU took as evaluated, without reading the stored copy (handoff.go)
}

type stats struct {
	evaluated, taken, restores, failures, refused, forkFailures, ckptQueued, ckptRestores, evictions, dryRunsRefused, reverts, followFailures, handedOff atomic.Int64
}

// Stats returns the counters so far.
func (s *Service) Stats() Stats {
	return Stats{
		Evaluated: s.stats.evaluated.Load(), SnapshotsTaken: s.stats.taken.Load(), SnapshotRestores: s.stats.restores.Load(),
		SnapshotFailures: s.stats.failures.Load(), SnapshotsRefused: s.stats.refused.Load(), ForkFailures: s.stats.forkFailures.Load(),
		CheckpointsQueued:  s.stats.ckptQueued.Load(),
		CheckpointRestores: s.stats.ckptRestores.Load(), Evictions: s.stats.evictions.Load(), DryRunsRefused: s.stats.dryRunsRefused.Load(),
		Reverts: s.stats.reverts.Load(), FollowFailures: s.stats.followFailures.Load(), HandedOff: s.stats.handedOff.Load(),
	}
}

// State snapshot format: magic, version, then uvarint-length strings (the stamp: runtime, its digest, the
// gopher-lua module and the bytecode format; then process and hash chain) and varints (nonce, timestamp,
// block height, cron watermark), then the runtime's snapshot of the process (opaque here; it carries its own
// stamp and checksum).
const (
	stateMagic   = "AOCUSTATE"
	stateVersion = 3 // 3: the stamp; the memory accounting moved into the runtime's snapshot
)

// procState is a process's state after Nonce: what the CU needs to go on evaluating from there.
type procState struct {
	Stamp       runtime.Stamp // what made it: only a runtime with the same stamp restores it
	Process     string
	HashChain   string // the Hash-Chain of the assignment at Nonce: binds the state to one schedule
	Nonce       int64
	Timestamp   int64
	BlockHeight int64
	CronUntil   int64  // every cron tick at or before this time (ms) is in the state
	VM          []byte // the runtime's snapshot
}

var errBadState = errors.New("not a process state snapshot")

// appendHeader appends everything of the encoded state but the VM snapshot, which follows it.
func (st *procState) appendHeader(b []byte) []byte {
	b = append(b, stateMagic...)
	b = append(b, stateVersion)
	for _, s := range []string{st.Stamp.Runtime, st.Stamp.Digest, st.Stamp.LuaVM, st.Stamp.Bytecode, st.Process, st.HashChain} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	for _, n := range []int64{st.Nonce, st.Timestamp, st.BlockHeight, st.CronUntil} {
		b = binary.AppendVarint(b, n)
	}
	return b
}

// errOldState is a state snapshot of an earlier format: made by an earlier aonode.
var errOldState = fmt.Errorf("%w: an earlier state format", runtime.ErrStale)

func decodeState(b []byte) (*procState, error) {
	if !bytes.HasPrefix(b, []byte(stateMagic)) || len(b) < len(stateMagic)+1 {
		return nil, errBadState
	}
	if v := b[len(stateMagic)]; v != stateVersion {
		if v < stateVersion {
			return nil, fmt.Errorf("%w (version %d)", errOldState, v)
		}
		return nil, fmt.Errorf("%w: version %d", errBadState, v)
	}
	r := b[len(stateMagic)+1:]
	str := func() (string, error) {
		n, k := binary.Uvarint(r)
		if k <= 0 || n > uint64(len(r)-k) {
			return "", errBadState
		}
		s := string(r[k : k+int(n)])
		r = r[k+int(n):]
		return s, nil
	}
	num := func() (int64, error) {
		n, k := binary.Varint(r)
		if k <= 0 {
			return 0, errBadState
		}
		r = r[k:]
		return n, nil
	}
	st := &procState{}
	var err error
	for _, p := range []*string{&st.Stamp.Runtime, &st.Stamp.Digest, &st.Stamp.LuaVM, &st.Stamp.Bytecode, &st.Process, &st.HashChain} {
		if *p, err = str(); err != nil {
			return nil, err
		}
	}
	for _, p := range []*int64{&st.Nonce, &st.Timestamp, &st.BlockHeight, &st.CronUntil} {
		if *p, err = num(); err != nil {
			return nil, err
		}
	}
	st.VM = r
	return st, nil
}

// snapCandidate is a snapshot the CU could start a process from.
type snapCandidate struct {
	source string
	nonce  int64
	data   []byte
}

// localSnapshots are the snapshots of pid held by the store and the cache, newest first.
func (s *Service) localSnapshots(ctx context.Context, pid string) []snapCandidate {
	var out []snapCandidate
	if n, data, err := s.db.Snapshot(ctx, pid); err == nil {
		out = append(out, snapCandidate{"store", n, data})
	} else if !errors.Is(err, store.ErrNotFound) {
		s.log.Warn("snapshot unreadable in the store", "process", pid, "err", err)
	}
	if s.cache != nil {
		if n, data, ok, err := s.cache.Snapshot(ctx, pid); err != nil {
			s.log.Warn("snapshot cache unavailable", "process", pid, "err", err)
		} else if ok {
			out = append(out, snapCandidate{"cache", n, data})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].nonce > out[j].nonce })
	return out
}

// restore starts the freshly booted p from the newest usable snapshot at or before toNonce (toNonce < 0: any):
// the store's or the cache's, else a gateway checkpoint. Nothing usable leaves p at its spawn, to be replayed.
// Called with p.mu held.
func (s *Service) restore(ctx context.Context, p *proc, toNonce int64) error {
	if !s.snapshotsOn() && s.ckptSource == nil {
		return nil
	}
	for _, c := range s.localSnapshots(ctx, p.id) {
		if toNonce >= 0 && c.nonce > toNonce {
			continue
		}
		err := s.apply(ctx, p, c.data)
		if err == nil {
			s.stats.restores.Add(1)
			s.log.Debug("process started from a snapshot", "process", p.id, "source", c.source, "nonce", p.nonce)
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		s.countUnused(err)
		s.log.Warn("snapshot not used", "process", p.id, "source", c.source, "nonce", c.nonce, "err", err)
	}
	if s.ckptSource == nil {
		return nil
	}
	return s.restoreCheckpoint(ctx, p, toNonce)
}

// How long a CU waits for the gateway's checkpoint list and for one checkpoint before it replays instead.
const (
	checkpointLookupTimeout = 15 * time.Second
	checkpointFetchTimeout  = 2 * time.Minute
)

// restoreCheckpoint starts p from the newest valid checkpoint on the gateway, when the process is long enough
// for one to exist. A checkpoint that fails any check is skipped for the next older one.
func (s *Service) restoreCheckpoint(ctx context.Context, p *proc, toNonce int64) error {
	head, err := s.sched.Latest(ctx, p.id)
	if err != nil || head.Nonce < s.snapOpts.CheckpointMinNonce {
		return nil
	}
	owners := append([]string{s.wallet.Address()}, s.snapOpts.CheckpointOwners...)
	// A gateway outage must not hold a process up longer than a replay would: bounded look-up.
	lctx, cancel := context.WithTimeout(ctx, checkpointLookupTimeout)
	refs, err := s.ckptSource.Checkpoints(lctx, p.id, owners)
	cancel()
	if err != nil {
		s.log.Warn("checkpoints unavailable, replaying", "process", p.id, "err", err)
		return nil
	}
	sort.SliceStable(refs, func(i, j int) bool { return refs[i].Nonce > refs[j].Nonce })
	for _, ref := range refs {
		if ref.Nonce > head.Nonce || toNonce >= 0 && ref.Nonce > toNonce {
			continue
		}
		fctx, cancel := context.WithTimeout(ctx, checkpointFetchTimeout)
		data, err := s.fetchCheckpoint(fctx, p.id, ref, owners)
		cancel()
		if err == nil {
			err = s.apply(ctx, p, data)
		}
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			s.countUnused(err)
			s.log.Warn("checkpoint not used", "process", p.id, "checkpoint", ref.ID, "nonce", ref.Nonce, "err", err)
			continue
		}
		s.stats.ckptRestores.Add(1)
		s.log.Info("process started from a checkpoint", "process", p.id, "checkpoint", ref.ID, "nonce", p.nonce)
		// Kept locally, so the next start of this process does not ask the gateway again.
		if err := s.db.PutSnapshot(ctx, p.id, p.nonce, data); err != nil {
			s.log.Warn("checkpoint not kept locally", "process", p.id, "err", err)
		}
		return nil
	}
	return nil
}

// fetchCheckpoint fetches a checkpoint and checks it is one of pid signed by a trusted owner.
func (s *Service) fetchCheckpoint(ctx context.Context, pid string, ref CheckpointRef, owners []string) ([]byte, error) {
	it, err := s.ckptSource.Fetch(ctx, ref)
	if err != nil {
		return nil, err
	}
	if it.ID != ref.ID {
		return nil, fmt.Errorf("gateway gave item %s for checkpoint %s", it.ID, ref.ID)
	}
	if !slices.Contains(owners, it.OwnerAddress()) {
		return nil, fmt.Errorf("checkpoint %s is signed by %s, not a trusted CU", it.ID, it.OwnerAddress())
	}
	return CheckpointData(pid, it)
}

// countUnused counts a snapshot or checkpoint that could not be used: refused as made by another runtime
// build, or failed.
func (s *Service) countUnused(err error) {
	s.stats.failures.Add(1)
	if errors.Is(err, runtime.ErrStale) {
		s.stats.refused.Add(1)
	}
}

// apply checks that data is a state of p's schedule made by p's runtime and loads it into p's VM. On failure
// p is back at a fresh VM (a failed restore may have touched the old one).
func (s *Service) apply(ctx context.Context, p *proc, data []byte) (err error) {
	defer func() {
		if err != nil {
			if vm, verr := p.rt.New(p.env, p.limits); verr == nil {
				p.vm.Close()
				p.vm, p.nonce, p.cronUntil = vm, -1, -1
				s.resetCrons(p, -1)
			} else {
				err = errors.Join(err, verr)
			}
		}
	}()
	st, err := decodeState(data)
	if err != nil {
		return err
	}
	if st.Process != p.id {
		return fmt.Errorf("snapshot is of process %s", st.Process)
	}
	if diff := st.Stamp.Differs(p.rt.Stamp()); diff != "" {
		return fmt.Errorf("%w: made by %s", runtime.ErrStale, diff)
	}
	es, err := s.sched.Entries(ctx, p.id, st.Nonce, st.Nonce, 1)
	if err != nil {
		return fmt.Errorf("read assignment %d: %w", st.Nonce, err)
	}
	if len(es) != 1 || es[0].HashChain != st.HashChain || es[0].Timestamp != st.Timestamp {
		return fmt.Errorf("snapshot at nonce %d does not match this schedule", st.Nonce)
	}
	if err := p.vm.Restore(st.VM); err != nil {
		return err
	}
	p.nonce, p.timestamp, p.blockHeight = st.Nonce, st.Timestamp, st.BlockHeight
	s.resetCrons(p, st.CronUntil)
	p.cronUntil = st.CronUntil
	p.snapNonce = st.Nonce
	if _, err := s.db.Result(ctx, p.id, st.Nonce); err != nil {
		p.gapUntil = st.Nonce // made elsewhere: the results before it are not here
	}
	return nil
}

// resetCrons puts p's cron ticks where evaluating up to untilMs left them (untilMs < 0: at the spawn).
func (s *Service) resetCrons(p *proc, untilMs int64) {
	if p.crons == nil {
		return
	}
	p.crons.Reset()
	p.crons.Skip(untilMs)
}

// countEval counts one evaluated message toward the snapshot triggers and says whether one is due.
func (s *Service) countEval(p *proc, took time.Duration) bool {
	s.stats.evaluated.Add(1)
	if p.scratch {
		return false
	}
	p.sinceSnap++
	p.sinceCkpt++
	p.evalSinceSnap += took
	p.evalSinceCkpt += took
	// A due checkpoint rides on a snapshot, which the cost ratio paces like any other: checkpoints do not
	// add snapshots beyond the ratio.
	return (s.ckptDue(p) || due(p.sinceSnap, p.evalSinceSnap, s.snapOpts.Messages, s.snapOpts.EvalTime)) && s.worthIt(p, p.evalSinceSnap)
}

// worthIt says whether evaluating took long enough since the last snapshot to pay for another one.
func (s *Service) worthIt(p *proc, evalSince time.Duration) bool {
	return s.snapOpts.CostRatio <= 0 || float64(evalSince) >= float64(p.snapCost)*s.snapOpts.CostRatio
}

func due(n int64, d time.Duration, maxN int64, maxD time.Duration) bool {
	return maxN > 0 && n >= maxN || maxD > 0 && d >= maxD
}

func (s *Service) ckptDue(p *proc) bool {
	return due(p.sinceCkpt, p.evalSinceCkpt, s.snapOpts.CheckpointMessages, s.snapOpts.CheckpointEvalTime) &&
		s.worthIt(p, p.evalSinceCkpt)
}

// snapshotDue takes the snapshot (and the checkpoint) countEval said is due. Called with p.mu held, between
// messages, when the VM is idle.
func (s *Service) snapshotDue(ctx context.Context, p *proc) {
	start := time.Now()
	ckpt := s.ckptDue(p)
	data, err := s.takeSnapshot(ctx, p)
	if err != nil {
		// Typically a handler suspended in Receive: try again after as many messages more.
		s.stats.failures.Add(1)
		s.log.Debug("snapshot skipped", "process", p.id, "nonce", p.nonce, "err", err)
		p.sinceSnap, p.evalSinceSnap = 0, 0
		if ckpt {
			p.sinceCkpt, p.evalSinceCkpt = 0, 0
		}
		return
	}
	if ckpt {
		if err := s.queueCheckpoint(ctx, p, data); err != nil {
			s.log.Warn("checkpoint not queued", "process", p.id, "nonce", p.nonce, "err", err)
		} else {
			s.stats.ckptQueued.Add(1)
		}
		p.sinceCkpt, p.evalSinceCkpt = 0, 0
		// What the cost ratio weighs is all this pause cost: the checkpoint (compression, signature, queueing)
		// with the snapshot.
		p.snapCost = time.Since(start)
	}
}

// takeSnapshot encodes p's state and keeps it in the store and the cache.
func (s *Service) takeSnapshot(ctx context.Context, p *proc) ([]byte, error) {
	start := time.Now()
	defer func() { p.snapCost = time.Since(start) }()
	es, err := s.sched.Entries(ctx, p.id, p.nonce, p.nonce, 1)
	if err != nil || len(es) != 1 {
		return nil, fmt.Errorf("read assignment %d: %v", p.nonce, err)
	}
	st := &procState{
		Stamp: p.rt.Stamp(), Process: p.id, HashChain: es[0].HashChain, Nonce: p.nonce, Timestamp: p.timestamp,
		BlockHeight: p.blockHeight, CronUntil: p.cronUntil,
	}
	// The runtime appends the VM's snapshot after the header, into a buffer the size of the last one (a
	// state grows slowly): a large state is written once, not grown by doubling and copied twice.
	data, err := p.vm.Snapshot(st.appendHeader(make([]byte, 0, p.snapSize+p.snapSize/8+4096)))
	if err != nil {
		return nil, err
	}
	p.snapSize = len(data)
	if err := s.db.PutSnapshot(ctx, p.id, p.nonce, data); err != nil {
		return nil, err
	}
	if s.cache != nil {
		if err := s.cache.PutSnapshot(ctx, p.id, p.nonce, data); err != nil {
			s.log.Warn("snapshot not cached", "process", p.id, "nonce", p.nonce, "err", err)
		}
	}
	s.stats.taken.Add(1)
	p.snapNonce, p.sinceSnap, p.evalSinceSnap = p.nonce, 0, 0
	return data, nil
}

// SnapshotAll snapshots every loaded process evaluated past its last snapshot (a node shutting down), so
// the next start does not replay them.
func (s *Service) SnapshotAll(ctx context.Context) {
	if !s.snapshotsOn() {
		return
	}
	s.mu.Lock()
	procs := make([]*proc, 0, len(s.procs))
	for _, p := range s.procs {
		procs = append(procs, p)
	}
	s.mu.Unlock()
	for _, p := range procs {
		if ctx.Err() != nil {
			return
		}
		p.mu.Lock()
		if p.vm != nil && p.nonce > p.snapNonce {
			if _, err := s.takeSnapshot(ctx, p); err != nil {
				s.log.Debug("snapshot skipped", "process", p.id, "err", err)
			}
		}
		p.mu.Unlock()
	}
}
