// Package cu is the Compute Unit: it evaluates each process's scheduled messages in nonce order in an AOS
// Lua VM, keeps every result, and answers reads (result, results, dry-run, state).
package cu

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	goruntime "runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aonode/aonode/bundler"
	"github.com/aonode/aonode/cache"
	"github.com/aonode/aonode/node/cron"
	"github.com/aonode/aonode/node/httpx"
	"github.com/aonode/aonode/node/progress"
	"github.com/aonode/aonode/node/runtime"
	"github.com/aonode/aonode/node/runtime/aoslua"
	"github.com/aonode/aonode/node/store"
	"github.com/aonode/aonode/node/su"
)

// Scheduler is what the CU reads from an SU.
type Scheduler interface {
	Load(ctx context.Context, pid string, fromNonce, toNonce int64, limit int) ([]su.Scheduled, error)
	Lookup(ctx context.Context, pid, id string) (*su.Scheduled, error)
	// LookupEntry is Lookup without the items (a result read needs only the nonce).
	LookupEntry(ctx context.Context, pid, id string) (*store.Entry, error)
	Process(ctx context.Context, pid string) (*store.Process, *bundler.Item, error)
	Latest(ctx context.Context, pid string) (*store.Entry, error)
	Entries(ctx context.Context, pid string, fromNonce, toNonce int64, limit int) ([]store.Entry, error)
	FirstNonceAfter(ctx context.Context, pid string, ts int64) (int64, error)
}

// ModuleSource resolves a module id to its metadata.
type ModuleSource interface {
	Module(ctx context.Context, id string) (*bundler.Item, error)
}

// ModuleFormat is the Module-Format this CU evaluates.
const ModuleFormat = aoslua.Format

// Error is a client error (unknown process or message, bad input) or a refusal to try again later
// (RetryAfter > 0): the units' one client error, httpx.ClientError.
type Error = httpx.ClientError

// Service is the compute unit.
type Service struct {
	wallet  bundler.Signer
	sched   Scheduler
	modules ModuleSource
	db      Store
	log     *slog.Logger

	mu         sync.Mutex
	procs      map[string]*proc
	recoverer  func(ctx context.Context, pid string) error
	follower   Follower
	ownProcess func(error) bool // whether a follower error says the process is this node's SU's
	runtimes   *runtime.Set     // the runtimes this CU runs (nil: every aos-lua release of this binary)
	caps       runtime.Limits   // the most compute and memory a module may ask
	cache      cache.Cache      // results and snapshots shared with other CUs (nil: none)
	snapOpts   SnapshotOptions
	ckptSource CheckpointSource
	stats      stats
	maxLoaded  int // process VMs kept in memory (0: all)
	evicting   atomic.Bool
	// Background work (unloading idle VMs) runs under base, which Close cancels, and is counted in bg.
	base     context.Context
	stopBg   context.CancelFunc
	bg       sync.WaitGroup
	dryRuns  chan struct{} // a slot per dry-run being evaluated
	progress *progress.Tracker
	handoff  *handoff // results kept for the node's MU (nil: none; handoff.go)
	trackMin int      // evaluations with fewer messages left are not tracked (0: loadPage; tests lower it)
}

// DefaultMaxDryRuns is how many dry-runs a CU evaluates at once unless told otherwise: two per CPU core, so
// dry-runs can keep every core busy (one may be waiting on a process lock or the store) but not queue up
// without bound.
func DefaultMaxDryRuns() int { return 2 * goruntime.NumCPU() }

// setMaxDryRuns bounds the dry-runs evaluated at once (n <= 0: DefaultMaxDryRuns).
func (s *Service) setMaxDryRuns(n int) {
	if n <= 0 {
		n = DefaultMaxDryRuns()
	}
	s.dryRuns = make(chan struct{}, n)
}

var defaultRuntimes = sync.OnceValues(aoslua.Set)

// Runtimes are the runtimes this CU runs, current first.
func (s *Service) Runtimes() (*runtime.Set, error) {
	if s.runtimes != nil {
		return s.runtimes, nil
	}
	return defaultRuntimes()
}

// resolve is the runtime and limits of module mod, or a 422 naming the module and what this CU runs.
func (s *Service) resolve(mod *bundler.Item) (runtime.Runtime, runtime.Limits, error) {
	set, err := s.Runtimes()
	if err != nil {
		return nil, runtime.Limits{}, fmt.Errorf("runtimes: %w", err)
	}
	rt, lim, err := set.Resolve(mod.ID, runtimeTags(mod.Tags), s.caps)
	if err != nil {
		return nil, runtime.Limits{}, &Error{Status: 422, Msg: err.Error()}
	}
	return rt, lim, nil
}

// CheckModule refuses (with a 422 naming the module and what this CU runs) a module this CU cannot run
// exactly: the SU checks spawns with it, so that a process that could never be evaluated is not scheduled.
func (s *Service) CheckModule(mod *bundler.Item) error {
	_, _, err := s.resolve(mod)
	return err
}

// Follower brings the local copy of a process's schedule up to date when another SU schedules it (see
// package follow); it answers follow.ErrNotFollowed-like errors for this node's own processes, which the CU
// ignores.
type Follower interface {
	// Follow adds what the process's SU scheduled since the local copy ends; unless force is set it may
	// answer at once when it asked a moment ago.
	Follow(ctx context.Context, pid string, force bool) (int, error)
}

// refresh asks the follower for what pid's SU added. Reads go on with what is held when the SU cannot be
// reached (a CU that follows another SU answers from its last copy rather than not at all), so the error is
// only logged and returned for callers that need the newest entries.
func (s *Service) refresh(ctx context.Context, pid string, force bool) error {
	if s.follower == nil {
		return nil
	}
	_, err := s.follower.Follow(ctx, pid, force)
	if err == nil || s.ownProcess != nil && s.ownProcess(err) {
		return nil
	}
	s.stats.followFailures.Add(1)
	s.log.Warn("could not read the process's schedule from its SU; answering from the copy held here", "process", pid, "err", err)
	return err
}

// proc is one process's live VM and how far it has evaluated.
type proc struct {
	mu          sync.Mutex
	id          string
	env         runtime.Env
	rt          runtime.Runtime // the runtime the process's module names
	limits      runtime.Limits  // the limits its module sets
	vm          runtime.Instance
	trusted     map[string]bool // signers whose From-Process tag is believed
	nonce       int64           // last evaluated nonce, -1 before the spawn message
	crons       *cron.State     // nil when the process has no Cron-Interval
	cronUntil   int64           // every cron tick at or before this time (ms) was evaluated
	timestamp   int64
	blockHeight int64
	lastUsed    time.Time // guarded by Service.mu
	scratch     bool      // a throwaway VM: takes no snapshots, and starts from one only when mayRestore
	mayRestore  bool
	gapUntil    int64 // results up to this nonce may be missing (started from a snapshot without them), or -1

	// Snapshot bookkeeping: the nonce of the last snapshot, and the work since the last snapshot and checkpoint.
	snapNonce                    int64
	sinceSnap, sinceCkpt         int64
	evalSinceSnap, evalSinceCkpt time.Duration
	snapCost                     time.Duration // what the last snapshot took to take
	snapSize                     int           // and its size
}

// Config is what a CU is built from. Zero values take the defaults noted.
type Config struct {
	Signer    bundler.Signer // signs checkpoints
	Scheduler Scheduler      // the schedules it evaluates
	Modules   ModuleSource
	Store     Store
	Log       *slog.Logger // nil: slog.Default()
	// Cache: results (and snapshots) shared with other CUs, answered from first (nil: none).
	Cache cache.Cache
	// Runtimes this CU runs (nil: every aos-lua release of this binary).
	Runtimes *runtime.Set
	// Limits are the most compute and memory a module may ask for its processes (zero values: the runtime's
	// defaults). A process runs under the limits its module sets, so every CU stops it at the same point; a
	// module asking more is refused.
	Limits runtime.Limits
	// Snapshots is the snapshot and checkpoint policy (zero: none).
	Snapshots SnapshotOptions
	// Checkpoints is where the CU looks for checkpoints of a long process it holds no snapshot of (nil: none).
	Checkpoints CheckpointSource
	// Recoverer restores a process the CU does not hold (from its SU or the gateway) before it answers for
	// it (nil: unknown processes are 404).
	Recoverer func(ctx context.Context, pid string) error
	// Follower brings processes other SUs schedule up to date before they are evaluated (nil: none);
	// IsOwnProcess tells its "this node's SU schedules it" error apart from failures.
	Follower     Follower
	IsOwnProcess func(error) bool
	// MaxLoaded bounds the process VMs kept in memory (0: no bound). Past it, the least recently used idle
	// processes are snapshotted and unloaded; the next request for one starts it from that snapshot.
	MaxLoaded int
	// MaxDryRuns bounds the dry-runs evaluated at once (0: DefaultMaxDryRuns); past it a dry-run is refused
	// with 429 at once, never queued.
	MaxDryRuns int
	// Progress is told about long evaluations (a process rebuilt from far behind) (nil: not reported).
	Progress *progress.Tracker
}

// New builds the CU.
func New(c Config) *Service {
	if c.Log == nil {
		c.Log = slog.Default()
	}
	s := &Service{
		wallet: c.Signer, sched: c.Scheduler, modules: c.Modules, db: c.Store, log: c.Log, procs: map[string]*proc{},
		cache: c.Cache, runtimes: c.Runtimes, caps: c.Limits, snapOpts: c.Snapshots, ckptSource: c.Checkpoints,
		recoverer: c.Recoverer, follower: c.Follower, ownProcess: c.IsOwnProcess, maxLoaded: c.MaxLoaded,
		progress: c.Progress,
	}
	s.base, s.stopBg = context.WithCancel(context.Background())
	s.setMaxDryRuns(c.MaxDryRuns)
	return s
}

// Address is the CU wallet address.
func (s *Service) Address() string { return s.wallet.Address() }

func notFound(format string, args ...any) error {
	return &Error{Status: 404, Msg: fmt.Sprintf(format, args...)}
}

func (s *Service) getProc(ctx context.Context, pid string) (*proc, error) {
	s.mu.Lock()
	p, ok := s.procs[pid]
	if ok {
		p.touch()
		s.mu.Unlock()
		return p, nil
	}
	s.mu.Unlock()
	// Only a process this CU holds (or recovers now) gets an entry: requests naming unknown ids must not
	// grow the map.
	if err := s.known(ctx, pid); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if p, ok = s.procs[pid]; !ok {
		p = &proc{id: pid, nonce: -1}
		s.procs[pid] = p
	}
	p.touch()
	return p, nil
}

// boot creates the VM of a process, from its newest usable snapshot at or before toNonce when there is one
// (called with p.mu held).
func (s *Service) boot(ctx context.Context, p *proc, toNonce int64) error {
	if err := s.known(ctx, p.id); err != nil {
		return err
	}
	proc, pit, err := s.sched.Process(ctx, p.id)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return notFound("process %s not found", p.id)
		}
		return fmt.Errorf("load process %s: %w", p.id, err)
	}
	modID, _ := pit.Tag("Module")
	mod, err := s.modules.Module(ctx, modID)
	if err != nil {
		return &Error{Status: 422, Msg: fmt.Sprintf("module %s of process %s: %v", modID, p.id, err)}
	}
	if p.rt, p.limits, err = s.resolve(mod); err != nil {
		return err
	}
	spawn, err := s.sched.Lookup(ctx, p.id, p.id)
	if err != nil {
		return fmt.Errorf("load spawn assignment of %s: %w", p.id, err)
	}
	ptags := withSchedulerAuthorities(pit.Tags, spawn.Assignment)
	p.env = runtime.Env{
		Process: runtime.ProcessInfo{Id: pit.ID, Owner: pit.OwnerAddress(), Tags: runtimeTags(ptags)},
		Module:  runtime.ModuleInfo{Id: mod.ID, Owner: mod.OwnerAddress(), Tags: runtimeTags(mod.Tags)},
	}
	p.trusted = trustedSigners(ptags)
	specs, err := cron.Parse(pit.Tags)
	if err != nil {
		return &Error{Status: 422, Msg: fmt.Sprintf("process %s: %v", p.id, err)}
	}
	p.crons = nil
	if len(specs) > 0 {
		p.crons = cron.NewState(specs, proc.Timestamp)
	}
	vm, err := p.rt.New(p.env, p.limits)
	if err != nil {
		return fmt.Errorf("start vm for %s: %w", p.id, err)
	}
	p.vm, p.nonce, p.cronUntil, p.gapUntil = vm, -1, -1, -1
	if p.scratch && !p.mayRestore {
		return nil
	}
	p.snapNonce, p.sinceSnap, p.sinceCkpt, p.evalSinceSnap, p.evalSinceCkpt = 0, 0, 0, 0, 0
	return s.restore(ctx, p, toNonce)
}

func runtimeTags(ts []bundler.Tag) []runtime.Tag {
	out := make([]runtime.Tag, len(ts))
	for i, t := range ts {
		out[i] = runtime.Tag{Name: t.Name, Value: t.Value}
	}
	return out
}

// toMessage maps a scheduled entry to what the process sees, as the reference CU does, except that a
// From-Process tag counts only when a trusted MU signed the message (anyone can write the tag).
func toMessage(pid string, sc *su.Scheduled, trusted map[string]bool) runtime.Message {
	m := sc.Message
	// The message keeps its own Target: an assigned message (sent to another process, or an L1 transaction)
	// has a Target other than this process, which is how AOS recognises assignments. The spawn has none.
	target := m.Target
	if sc.Nonce == 0 {
		target = pid
	}
	msg := runtime.Message{
		Id: m.ID, Signature: m.Signature, Owner: m.OwnerAddress(), Target: target, Anchor: m.Anchor, Data: string(m.Data),
		Epoch: sc.Epoch, Nonce: sc.Nonce, Timestamp: sc.Timestamp, BlockHeight: sc.BlockHeight, HashChain: sc.HashChain,
	}
	msg.From = msg.Owner
	if fp, ok := m.Tag("From-Process"); ok && fp != "" && trusted[msg.Owner] {
		msg.From, msg.ForwardedBy = fp, msg.Owner
	}
	msg.Tags = make([]runtime.Tag, 0, len(m.Tags))
	for _, t := range m.Tags {
		// A message may not claim its own From or Owner; those come from the signature.
		if t.Name == "From" || t.Name == "Owner" {
			continue
		}
		msg.Tags = append(msg.Tags, runtime.Tag{Name: t.Name, Value: t.Value})
	}
	return msg
}

const loadPage = 500

// readAhead is how many messages past the one whose result is asked for a read evaluates when they are
// scheduled already (a bound, so a read behind a long backlog is not held up by all of it).
const readAhead = 100

// evictTimeout bounds one round of unloading idle VMs (snapshots written to the store and the cache).
const evictTimeout = 5 * time.Minute

// evaluate runs the process up to toNonce (toNonce < 0: everything scheduled). Called with p.mu held.
func (s *Service) evaluate(ctx context.Context, p *proc, toNonce int64) error {
	return s.evaluateAhead(ctx, p, toNonce, toNonce)
}

// evaluateAhead evaluates p up to toNonce like evaluate, booting it (when it is not in memory) for need: from
// the newest snapshot at or before need, not one past it, which would leave need's result a gap to replay.
func (s *Service) evaluateAhead(ctx context.Context, p *proc, need, toNonce int64) error {
	if p.vm == nil {
		if err := s.boot(ctx, p, need); err != nil {
			return err
		}
		if s.maxLoaded > 0 && !p.scratch && s.evicting.CompareAndSwap(false, true) {
			// One more VM in memory: unload the least recently used ones past the bound, off this request. The
			// request's context must not go with it (a gin context is reused once its request is answered).
			s.bg.Add(1)
			go func() {
				defer s.bg.Done()
				defer s.evicting.Store(false)
				ectx, cancel := context.WithTimeout(s.base, evictTimeout)
				defer cancel()
				s.evictIdle(ectx)
			}()
		}
	}
	var job *progress.Job // a long evaluation (a rebuild) is shown while it runs
	defer func() { job.End() }()
	out := &resultBuffer{s: s, pid: p.id}
	from := p.nonce
	for toNonce < 0 || p.nonce < toNonce {
		batch, err := s.sched.Load(ctx, p.id, p.nonce+1, toNonce, loadPage)
		if err != nil {
			return errors.Join(fmt.Errorf("load messages of %s: %w", p.id, err), out.flush(ctx))
		}
		if len(batch) == 0 {
			break
		}
		if job == nil && from == p.nonce {
			job = s.trackEval(ctx, p, toNonce, len(batch))
		}
		if err := s.evalBatch(ctx, p, batch, out); err != nil {
			return errors.Join(err, out.flush(ctx))
		}
		job.Set(p.nonce - from)
	}
	return out.flush(ctx)
}

// resultBuffer holds the results of one evaluation until they are written together: every reader of a result
// waits for the process's lock, which the evaluation holds, so results written at its end (or before a snapshot,
// or when many are held) are seen as soon as they would be if each batch were written alone, with a commit (two
// fsyncs) per flush instead of per batch. A crash loses only results that evaluating again reproduces.
type resultBuffer struct {
	s       *Service
	pid     string
	rows    []store.ResultRow
	fresh   []*su.Scheduled
	results []*runtime.Result // as evaluated, for the MU once stored (handoff.go)
	bytes   int
}

// resultBufferMax bounds what one evaluation holds before writing (rows and their bytes).
const resultBufferMax, resultBufferBytes = 5000, 8 << 20

func (b *resultBuffer) add(sc *su.Scheduled, res *runtime.Result, raw []byte) {
	b.rows, b.fresh = append(b.rows, store.ResultRow{Nonce: sc.Nonce, Raw: raw}), append(b.fresh, sc)
	b.results = append(b.results, res)
	b.bytes += len(raw)
}

func (b *resultBuffer) full() bool {
	return len(b.rows) >= resultBufferMax || b.bytes >= resultBufferBytes
}

func (b *resultBuffer) flush(ctx context.Context) error {
	if len(b.rows) == 0 {
		return nil
	}
	s := b.s
	// Evaluated already: the results are kept even when the request that asked for them has gone (else the
	// VM would be ahead of its stored results, and the gap replayed from the spawn).
	ctx = context.WithoutCancel(ctx)
	if err := s.db.PutResults(ctx, b.pid, b.rows); err != nil {
		return err
	}
	if s.cache != nil {
		// Shared with the other CUs of the deployment; a cache failure only costs them a re-evaluation.
		entries := make([]cache.Entry, len(b.rows))
		for i, r := range b.rows {
			entries[i] = cache.Entry{IDs: []string{b.fresh[i].MessageID, b.fresh[i].AssignmentID}, Raw: r.Raw}
		}
		if err := s.cache.PutResults(ctx, b.pid, entries); err != nil {
			s.log.Warn("results not cached", "process", b.pid, "err", err)
		}
	}
	if s.handoff != nil {
		for i, r := range b.rows { // stored: the MU may take them as they are
			s.handoff.offer(b.pid, b.fresh[i], b.results[i], r.Raw)
		}
	}
	clear(b.fresh) // the batches they point into can go
	clear(b.results)
	b.rows, b.fresh, b.results, b.bytes = b.rows[:0], b.fresh[:0], b.results[:0], 0
	return nil
}

// evalBatch evaluates consecutive scheduled messages, their new results going to out. Called with p.mu held.
func (s *Service) evalBatch(ctx context.Context, p *proc, batch []su.Scheduled, out *resultBuffer) error {
	stored, err := s.db.LastResultNonce(ctx, p.id)
	if err != nil {
		return err
	}
	for i := range batch {
		if err := ctx.Err(); err != nil {
			return err
		}
		sc := &batch[i]
		if sc.Nonce > 0 {
			// Cron ticks due by this message's time run before it, the same way on every replay.
			if err := s.runCrons(ctx, p, sc.Timestamp); err != nil {
				return err
			}
		}
		var old []byte
		if sc.Nonce <= stored {
			if raw, err := s.db.Result(ctx, p.id, sc.Nonce); err == nil {
				old = raw
			}
		}
		if old != nil && resultFailed(old) {
			// Replaying a message whose result was an Error: it left no state (see revert), so it is not
			// evaluated again.
			p.nonce, p.timestamp, p.blockHeight = sc.Nonce, sc.Timestamp, sc.BlockHeight
			continue
		}
		start := time.Now()
		res := p.vm.Handle(toMessage(p.id, sc, p.trusted))
		took := time.Since(start)
		raw, err := res.Encode()
		if err != nil {
			return fmt.Errorf("encode result %s/%d: %w", p.id, sc.Nonce, err)
		}
		if old != nil && string(old) != string(raw) {
			// Replay after a restart: the stored result must be what evaluation gives again.
			s.log.Warn("replayed result differs from stored", "process", p.id, "nonce", sc.Nonce)
		}
		if old == nil {
			out.add(sc, &res, raw)
		}
		p.nonce, p.timestamp, p.blockHeight = sc.Nonce, sc.Timestamp, sc.BlockHeight
		if res.Error != "" {
			// The result goes out as it is; the state it left does not (the result first: the rebuild
			// skips it by its stored Error).
			if err := out.flush(ctx); err != nil {
				return err
			}
			s.countEval(p, took)
			if err := s.revert(ctx, p); err != nil {
				return err
			}
			continue
		}
		if s.countEval(p, took) {
			// Results first, so a snapshot never runs ahead of the results it stands for.
			if err := out.flush(ctx); err != nil {
				return err
			}
			s.snapshotDue(ctx, p)
		} else if out.full() {
			if err := out.flush(ctx); err != nil {
				return err
			}
		}
	}
	return nil
}

// known checks that the process is held here; a process that is not is first recovered from the gateway
// (when a recoverer is set): a node that lost its disk, or a CU that never saw the process, rebuilds the
// schedule and then evaluates it like any other.
func (s *Service) known(ctx context.Context, pid string) error {
	_, _, err := s.sched.Process(ctx, pid)
	if errors.Is(err, store.ErrNotFound) && s.recoverer != nil {
		if rerr := s.recoverer(ctx, pid); rerr != nil {
			return notFound("process %s not found here, and not recovered from the gateway: %v", pid, rerr)
		}
		_, _, err = s.sched.Process(ctx, pid)
	}
	if errors.Is(err, store.ErrNotFound) {
		return notFound("process %s not found", pid)
	}
	if err != nil {
		return fmt.Errorf("load process %s: %w", pid, err)
	}
	return nil
}

// resolveNonce maps a message id, assignment id or process id to the nonce it was scheduled at.
func (s *Service) resolveNonce(ctx context.Context, pid, id string) (int64, error) {
	if err := s.known(ctx, pid); err != nil {
		return 0, err
	}
	if id == pid {
		return 0, nil
	}
	e, err := s.sched.LookupEntry(ctx, pid, id)
	if errors.Is(err, store.ErrNotFound) && s.follower != nil {
		// Scheduled by another SU since this copy was last brought up to date, perhaps.
		if ferr := s.refresh(ctx, pid, true); ferr == nil {
			e, err = s.sched.LookupEntry(ctx, pid, id)
		}
	}
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return 0, notFound("message %s not found in process %s", id, pid)
		}
		return 0, err
	}
	return e.Nonce, nil
}

// Result returns the evaluation result (JSON) of message id in process pid.
func (s *Service) Result(ctx context.Context, pid, id string) (json.RawMessage, error) {
	if s.cache != nil {
		// Another CU sharing the cache may have evaluated it already, even a process this CU does not hold.
		if raw, ok, err := s.cache.Result(ctx, pid, id); err == nil && ok {
			return raw, nil
		} else if err != nil {
			s.log.Warn("result cache unavailable", "err", err)
		}
	}
	nonce, err := s.resolveNonce(ctx, pid, id)
	if err != nil {
		return nil, err
	}
	if raw, err := s.db.Result(ctx, pid, nonce); err == nil {
		return raw, nil
	}
	p, err := s.getProc(ctx, pid)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	// Read again now that the process is ours: another reader (a client, the MU's crank) may have evaluated
	// the message while this one waited for the lock, and then it is past p.nonce but stored, not a gap.
	if raw, err := s.db.Result(ctx, pid, nonce); err == nil {
		return raw, nil
	}
	if p.vm == nil || nonce > p.nonce {
		// Messages scheduled right after it are evaluated in the same pass: readers of their results (clients
		// waiting on this lock, the MU's crank) then find them stored, one evaluation and one write for all.
		if err := s.evaluateAhead(ctx, p, nonce, nonce+readAhead); err != nil {
			return nil, err
		}
		if raw, err := s.db.Result(ctx, pid, nonce); err == nil {
			return raw, nil
		}
	}
	// Evaluated past it (or started from a snapshot taken right at it), but its result is not here: the
	// snapshot or checkpoint was made elsewhere. Replay in a throwaway VM, filling every missing result of the
	// gap at once.
	if err := s.fillGap(ctx, p, nonce); err != nil {
		return nil, err
	}
	return s.db.Result(ctx, pid, nonce)
}

// fillGap replays p from its spawn in a VM of its own up to nonce, or to the end of the gap of missing results
// when that is further, storing every missing result. Called with p.mu held.
func (s *Service) fillGap(ctx context.Context, p *proc, nonce int64) error {
	upTo := max(nonce, p.gapUntil)
	if err := s.replayTo(ctx, p.id, upTo); err != nil {
		return err
	}
	if upTo >= p.gapUntil {
		p.gapUntil = -1
	}
	return nil
}

// replayTo evaluates pid from its spawn up to nonce in a VM of its own, which stores any result that is
// missing.
func (s *Service) replayTo(ctx context.Context, pid string, nonce int64) error {
	tmp := &proc{id: pid, nonce: -1, scratch: true}
	defer func() {
		if tmp.vm != nil {
			tmp.vm.Close()
		}
	}()
	return s.evaluate(ctx, tmp, nonce)
}

// DecodeResult parses a stored result.
func DecodeResult(raw []byte) (*runtime.Result, error) {
	var r runtime.Result
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, fmt.Errorf("decode result: %w", err)
	}
	return &r, nil
}

// DryRunRequest is the body aoconnect's dryrun posts.
type DryRunRequest struct {
	Id, Owner, Target, Anchor, Data string
	Tags                            []runtime.Tag
	Signature                       string
}

// DryRun evaluates a message against the process's latest state without keeping anything. The process is
// locked only to bring it up to date and copy its VM: the copy runs unlocked, so a slow dry-run never delays
// the process's scheduled messages. At most cap(dryRuns) run at once; past that the CU answers 429.
func (s *Service) DryRun(ctx context.Context, pid string, req DryRunRequest) (*runtime.Result, error) {
	select {
	case s.dryRuns <- struct{}{}:
	default:
		s.stats.dryRunsRefused.Add(1)
		return nil, &Error{Status: 429, RetryAfter: time.Second,
			Msg: fmt.Sprintf("this CU is already evaluating %d dry-runs (cu.max_dry_runs); try again shortly", cap(s.dryRuns))}
	}
	defer func() { <-s.dryRuns }()
	fork, at, err := s.forkLatest(ctx, pid)
	if err != nil {
		return nil, err
	}
	defer fork.Close()
	msg := runtime.Message{
		Id: req.Id, Owner: req.Owner, From: req.Owner, Target: pid, Anchor: req.Anchor, Data: req.Data,
		Signature: req.Signature, Nonce: at.nonce, Timestamp: at.timestamp, BlockHeight: at.blockHeight, ReadOnly: true,
	}
	for _, t := range req.Tags {
		if t.Name == "From" || t.Name == "Owner" {
			continue
		}
		if t.Name == "From-Process" && t.Value != "" {
			msg.From, msg.ForwardedBy = t.Value, req.Owner
		}
		msg.Tags = append(msg.Tags, t)
	}
	res := fork.Handle(msg)
	return &res, nil
}

// position is where a process stood when its VM was copied.
type position struct {
	nonce, timestamp, blockHeight, cronUntil int64
}

// forkLatest evaluates pid to its latest scheduled message and copies its VM for a read-only evaluation,
// holding the process lock only for that. A VM that cannot be copied (a handler suspended in Receive) is
// rebuilt, after the lock is released, in a throwaway VM: from the newest snapshot before it when there is
// one, then the rest of the schedule and the cron ticks the process had evaluated.
func (s *Service) forkLatest(ctx context.Context, pid string) (runtime.Instance, position, error) {
	p, err := s.getProc(ctx, pid)
	if err != nil {
		return nil, position{}, err
	}
	// A dry-run right after a message sent elsewhere must see it: ask the SU every time (concurrent
	// dry-runs share one request).
	_ = s.refresh(ctx, pid, true)
	p.mu.Lock()
	if err := s.evaluate(ctx, p, -1); err != nil {
		p.mu.Unlock()
		return nil, position{}, err
	}
	at := position{nonce: p.nonce, timestamp: p.timestamp, blockHeight: p.blockHeight, cronUntil: p.cronUntil}
	f, err := p.vm.Fork()
	p.mu.Unlock()
	if err == nil {
		return f, at, nil
	}
	// Typically a handler suspended in Receive (not copyable): counted, and rebuilt by a replay.
	s.stats.forkFailures.Add(1)
	s.log.Debug("vm fork failed, rebuilding", "process", pid, "err", err)
	tmp := &proc{id: pid, nonce: -1, scratch: true, mayRestore: true}
	err = s.evaluate(ctx, tmp, at.nonce)
	if err == nil {
		err = s.runCrons(ctx, tmp, at.cronUntil)
	}
	if err != nil {
		if tmp.vm != nil {
			tmp.vm.Close()
		}
		return nil, position{}, err
	}
	return tmp.vm, at, nil
}

// Cursor is the position of a result in a process's results feed, encoded like the reference CU's cursors.
type Cursor struct {
	Timestamp int64  `json:"timestamp"`
	Ordinate  string `json:"ordinate"`
	Cron      string `json:"cron,omitempty"` // "<index>-<interval>" for a cron tick's result
	Sort      string `json:"sort"`
}

// Edge is one entry of /results.
type Edge struct {
	Cursor string          `json:"cursor"`
	Node   json.RawMessage `json:"node"`
}

// ResultsQuery selects results by position.
type ResultsQuery struct {
	From, To *Cursor // exclusive lower / inclusive upper bound (nil: open), whatever the order
	Desc     bool    // newest first, unless a cursor says otherwise
	Limit    int
}

// Results lists the results of a process's messages and cron ticks, evaluating what is scheduled first.
// As in the reference CU, the order a cursor was issued in wins over the one asked for (a client paging
// with a cursor keeps its order), and from stays the lower bound either way: a newest-first page after a
// cursor is the newest results after it.
func (s *Service) Results(ctx context.Context, pid string, q ResultsQuery) ([]Edge, bool, error) {
	var from, to *bound
	for _, c := range []struct {
		cur *Cursor
		dst **bound
	}{{q.From, &from}, {q.To, &to}} {
		if c.cur == nil {
			continue
		}
		b, err := parseBound(c.cur)
		if err != nil {
			return nil, false, &Error{Status: 400, Msg: err.Error()}
		}
		*c.dst = &b
	}
	desc := q.Desc
	switch {
	case q.From != nil && q.From.Sort != "":
		desc = q.From.Sort == "DESC"
	case q.To != nil && q.To.Sort != "":
		desc = q.To.Sort == "DESC"
	}
	p, err := s.getProc(ctx, pid)
	if err != nil {
		return nil, false, err
	}
	_ = s.refresh(ctx, pid, false)
	p.mu.Lock()
	err = s.evaluate(ctx, p, -1)
	if err == nil && p.gapUntil >= 0 {
		err = s.fillGap(ctx, p, p.gapUntil)
	}
	last := p.nonce
	var specNames []string
	if p.crons != nil {
		for _, sp := range p.crons.Specs {
			specNames = append(specNames, sp.Interval)
		}
	}
	p.mu.Unlock()
	if err != nil {
		return nil, false, err
	}
	sortName := "ASC"
	if desc {
		sortName = "DESC"
	}
	page, more, err := readFeedPage(ctx, s.sched, s.db, feedQuery{
		pid: pid, last: last, from: from, to: to, desc: desc, limit: q.Limit, specNames: specNames,
	})
	if err != nil {
		return nil, false, err
	}
	edges := make([]Edge, 0, len(page))
	for _, it := range page {
		c, _ := json.Marshal(it.cursor(sortName))
		edges = append(edges, Edge{Cursor: base64.StdEncoding.EncodeToString(c), Node: it.raw})
	}
	return edges, more, nil
}

// State evaluates a process to its latest message and returns a JSON view of its globals.
func (s *Service) State(ctx context.Context, pid string) ([]byte, int64, int64, int64, error) {
	p, err := s.getProc(ctx, pid)
	if err != nil {
		return nil, 0, 0, 0, err
	}
	_ = s.refresh(ctx, pid, false)
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := s.evaluate(ctx, p, -1); err != nil {
		return nil, 0, 0, 0, err
	}
	b, err := p.vm.StateJSON()
	return b, p.nonce, p.timestamp, p.blockHeight, err
}

// Load evaluates a process up to its latest scheduled message (from its newest usable snapshot when it is
// not loaded yet) and returns the nonce it reached.
func (s *Service) Load(ctx context.Context, pid string) (int64, error) {
	p, err := s.getProc(ctx, pid)
	if err != nil {
		return -1, err
	}
	_ = s.refresh(ctx, pid, false)
	p.mu.Lock()
	defer p.mu.Unlock()
	err = s.evaluate(ctx, p, -1)
	return p.nonce, err
}

// Warm evaluates every known process in the background, so a restarted node serves reads without delay.
func (s *Service) Warm(ctx context.Context, pids []string) {
	for i, pid := range pids {
		if s.maxLoaded > 0 && i >= s.maxLoaded {
			return // the rest start on first use
		}
		if ctx.Err() != nil {
			return
		}
		p, err := s.getProc(ctx, pid)
		if err != nil {
			s.log.Warn("warm-up skipped", "process", pid, "err", err)
			continue
		}
		p.mu.Lock()
		start := time.Now()
		if err := s.evaluate(ctx, p, -1); err != nil {
			s.log.Warn("warm-up evaluation failed", "process", pid, "err", err)
		} else {
			s.log.Info("process loaded", "process", pid, "nonce", p.nonce, "took", time.Since(start))
		}
		p.mu.Unlock()
	}
}
