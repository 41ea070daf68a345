// Package bench measures aonode's compute unit and node: evaluation throughput of the kv-store Set workload,
// cold start of a 100,000-message process with and without a snapshot, memory per idle process, RSA-4096
// signing on one core, and signed messages through MU -> SU -> CU over HTTP with RSA and ed25519 node keys
// (throughput for one process and for many, latency). Each benchmark reports its baseline from the same run
// and the ratio. Run them all with ./scripts/bench.sh (see the README for the figures).
//
// The CU benchmarks read their schedule from an in-memory scheduler of unsigned items (signing 100,000 RSA-4096
// items would take the bench half an hour), so they measure evaluation, result storage and snapshots, not item
// parsing; the HTTP benchmark is the full signed path.
package bench

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/aonode/aonode/bundler"
	"github.com/aonode/aonode/node/aos"
	"github.com/aonode/aonode/node/cu"
	aoruntime "github.com/aonode/aonode/node/runtime"
	"github.com/aonode/aonode/node/runtime/aoslua"
	"github.com/aonode/aonode/node/store"
	"github.com/aonode/aonode/node/su"
)

const kv = `Store = Store or {}
Handlers.add("Set", Handlers.utils.hasMatchingTag("Action", "Set"), function (msg)
  assert(type(msg.Key) == 'string', 'Key is required!')
  Store[msg.Key] = msg.Value
  Handlers.utils.reply("Value stored!")(msg)
end)
Handlers.add("Put", Handlers.utils.hasMatchingTag("Action", "Put"), function (msg)
  Store[msg.Key] = msg.Value
end)`

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func id(parts ...any) string {
	h := sha256.Sum256([]byte(fmt.Sprint(parts...)))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

var (
	ownerOnce sync.Once
	owner     string // a real public key, so addresses derive as usual; nothing is signed with it
)

func ownerKey(b testing.TB) string {
	ownerOnce.Do(func() {
		jwk, err := bundler.GenerateJWK()
		if err != nil {
			b.Fatal(err)
		}
		w, err := bundler.NewWallet(jwk)
		if err != nil {
			b.Fatal(err)
		}
		owner = w.Owner()
	})
	return owner
}

// synth is a scheduler holding kv-store processes: nonce 0 spawns, 1 evaluates the kv store, every later
// nonce n sets key k<n> (or k<n mod keys> when keys > 0). Entries are made on demand.
type synth struct {
	owner  string
	module *bundler.Item
	procs  map[string]*synthProc
}

type synthProc struct {
	id    string
	last  int64
	keys  int64
	start int64 // timestamp of nonce 0 (ms)
	built []su.Scheduled
}

// prebuild makes the entries up to nonce to ahead, so reading them costs the CU what reading a schedule held in
// memory costs (nothing), as the VM baseline's messages are made before its clock starts.
func (s *synth) prebuild(pid string, to int64) {
	p := s.procs[pid]
	p.built = nil
	built := make([]su.Scheduled, to+1)
	for n := range built {
		built[n] = s.entry(p, int64(n))
	}
	p.built = built
}

func newSynth(b testing.TB) *synth {
	o := ownerKey(b)
	rt, err := aoslua.Current()
	if err != nil {
		b.Fatal(err)
	}
	var tags []bundler.Tag
	for _, t := range aoruntime.ModuleTags(rt, rt.DefaultLimits()) {
		tags = append(tags, bundler.Tag{Name: t.Name, Value: t.Value})
	}
	mod := &bundler.Item{ID: id("module"), Owner: o, Tags: tags}
	return &synth{owner: o, module: mod, procs: map[string]*synthProc{}}
}

func (s *synth) add(name string, last, keys int64) string {
	p := &synthProc{id: id("process", name), last: last, keys: keys, start: 1_700_000_000_000}
	s.procs[p.id] = p
	return p.id
}

func (s *synth) entry(p *synthProc, n int64) su.Scheduled {
	if n < int64(len(p.built)) {
		return p.built[n]
	}
	e := store.Entry{
		Process: p.id, Nonce: n, Timestamp: p.start + n, BlockHeight: 1000, HashChain: id("chain", p.id, n),
		AssignmentID: id("assignment", p.id, n), MessageID: id("message", p.id, n), Local: true,
	}
	msg := &bundler.Item{ID: e.MessageID, Owner: s.owner, Target: p.id}
	switch {
	case n == 0:
		msg.ID, e.MessageID, msg.Target = p.id, p.id, ""
		msg.Tags = []bundler.Tag{{Name: "Data-Protocol", Value: "ao"}, {Name: "Type", Value: "Process"},
			{Name: "Module", Value: s.module.ID}, {Name: "Scheduler", Value: "sched"}}
	case n == 1:
		msg.Data = []byte(kv)
		msg.Tags = []bundler.Tag{{Name: "Data-Protocol", Value: "ao"}, {Name: "Type", Value: "Message"}, {Name: "Action", Value: "Eval"}}
	default:
		k := n
		if p.keys > 0 {
			k = n % p.keys
		}
		msg.Tags = []bundler.Tag{{Name: "Data-Protocol", Value: "ao"}, {Name: "Type", Value: "Message"}, {Name: "Action", Value: "Set"},
			{Name: "Key", Value: "k" + strconv.FormatInt(k, 10)}, {Name: "Value", Value: strconv.FormatInt(n, 10)}}
	}
	return su.Scheduled{Entry: e, Message: msg}
}

func (s *synth) proc(pid string) (*synthProc, error) {
	p, ok := s.procs[pid]
	if !ok {
		return nil, store.ErrNotFound
	}
	return p, nil
}

func (s *synth) Load(_ context.Context, pid string, from, to int64, limit int) ([]su.Scheduled, error) {
	p, err := s.proc(pid)
	if err != nil {
		return nil, err
	}
	if to < 0 || to > p.last {
		to = p.last
	}
	var out []su.Scheduled
	for n := from; n <= to && (limit <= 0 || len(out) < limit); n++ {
		out = append(out, s.entry(p, n))
	}
	return out, nil
}

func (s *synth) Lookup(_ context.Context, pid, mid string) (*su.Scheduled, error) {
	p, err := s.proc(pid)
	if err != nil || mid != pid {
		return nil, store.ErrNotFound
	}
	sc := s.entry(p, 0) // the spawn (its assignment names no Authority)
	return &sc, nil
}

func (s *synth) LookupEntry(ctx context.Context, pid, mid string) (*store.Entry, error) {
	sc, err := s.Lookup(ctx, pid, mid)
	if err != nil {
		return nil, err
	}
	return &sc.Entry, nil
}

func (s *synth) Process(_ context.Context, pid string) (*store.Process, *bundler.Item, error) {
	p, err := s.proc(pid)
	if err != nil {
		return nil, nil, err
	}
	sc := s.entry(p, 0)
	return &store.Process{ID: pid, Scheduler: "sched", Timestamp: p.start}, sc.Message, nil
}

func (s *synth) Latest(_ context.Context, pid string) (*store.Entry, error) {
	p, err := s.proc(pid)
	if err != nil {
		return nil, err
	}
	e := s.entry(p, p.last).Entry
	return &e, nil
}

func (s *synth) Entries(ctx context.Context, pid string, from, to int64, limit int) ([]store.Entry, error) {
	scs, err := s.Load(ctx, pid, from, to, limit)
	out := make([]store.Entry, len(scs))
	for i := range scs {
		out[i] = scs[i].Entry
	}
	return out, err
}

// FirstNonceAfter is the store's search by time for the synthetic schedule, whose nonce n is at start+n.
func (s *synth) FirstNonceAfter(_ context.Context, pid string, ts int64) (int64, error) {
	p, err := s.proc(pid)
	if err != nil {
		return 0, err
	}
	if ts < p.start {
		return 0, nil
	}
	return min(ts-p.start+1, p.last+1), nil
}

func (s *synth) Module(context.Context, string) (*bundler.Item, error) { return s.module, nil }

// newCU is a compute unit over sched with its own store in dir.
func newCU(b testing.TB, dir string, sched *synth, o cu.SnapshotOptions) (*cu.Service, *store.DB) {
	b.Helper()
	jwk, _ := bundler.GenerateJWK()
	w, _ := bundler.NewWallet(jwk)
	db, err := store.Open(filepath.Join(dir, "aonode.db"))
	if err != nil {
		b.Fatal(err)
	}
	c := cu.New(cu.Config{Signer: w, Scheduler: sched, Modules: sched, Store: db, Log: quiet, Snapshots: o})
	return c, db
}

var noSnapshots = cu.SnapshotOptions{}

// evalMessages is how many kv Set messages one BenchmarkEval op evaluates, after evalWarmUp untimed ones.
const evalMessages, evalWarmUp = 50_000, 5_000

// oneCore runs fn with GOMAXPROCS 1: the evaluation figures are for one core, whatever the machine has.
func oneCore(fn func()) {
	prev := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(prev)
	fn()
}

// BenchmarkEval is the kv-store Set workload on one core; one op is 50,000 messages, each setting a new key,
// timed after 5,000 untimed ones.
// "vm" is the AOS VM alone (Handle), the baseline; "cu" is the compute unit evaluating a schedule as a node
// does by default: every result stored (bbolt), snapshots and checkpoints (signed, queued for upload) taken by
// the default policy. Each "cu" op also runs a VM pass right before its CU pass and reports the ratio of the
// pair (x-vm), so a machine whose load changes between the two sub-benchmarks does not skew it.
func BenchmarkEval(b *testing.B) {
	b.Run("vm", func(b *testing.B) {
		var vm evalRun
		for i := range b.N {
			vm.add(vmPass(b, fmt.Sprint("vm", i)))
		}
		vmRate, vmCPURate = vm.report(b)
	})
	b.Run("cu", func(b *testing.B) {
		var vm, c evalRun
		var snaps int64
		for i := range b.N {
			vm.add(vmPass(b, fmt.Sprint("pair", i)))
			r, n := cuPass(b, fmt.Sprint("eval", i))
			c.add(r)
			snaps += n
		}
		b.ReportMetric(float64(snaps)/float64(b.N), "snapshots")
		pairVM, pairVMCPU := vm.rates(b.N)
		var cuCPURate float64
		cuRate, cuCPURate = c.report(b)
		b.ReportMetric(cuRate/pairVM, "x-vm")
		b.ReportMetric(cuCPURate/pairVMCPU, "x-vm-cpu")
	})
}

// evalRun sums the measured parts of Eval passes.
type evalRun struct {
	took, cpu time.Duration
	mem       memUse
}

func (r *evalRun) add(o evalRun) {
	r.took, r.cpu = r.took+o.took, r.cpu+o.cpu
	r.mem.bytes, r.mem.cycles = r.mem.bytes+o.mem.bytes, r.mem.cycles+o.mem.cycles
}

// rates are the wall-clock and CPU rates of n passes.
func (r *evalRun) rates(n int) (wall, cpu float64) {
	msgs := float64(n * evalMessages)
	return msgs / r.took.Seconds(), msgs / r.cpu.Seconds()
}

func (r *evalRun) report(b *testing.B) (wall, cpu float64) {
	wall, cpu = r.rates(b.N)
	b.ReportMetric(wall, "msg/s")
	b.ReportMetric(cpu, "msg/cpu-s")
	r.mem.report(b, b.N*evalMessages)
	return wall, cpu
}

// measure runs fn on one core, timing it (wall clock and this process's CPU) and counting what it allocates.
func measure(b *testing.B, part string, fn func()) evalRun {
	var r evalRun
	runtime.GC() // start from the same heap whatever ran before
	oneCore(func() {
		stop := profile(b, part)
		t0, c0, m0 := time.Now(), cpuTime(), memNow()
		fn()
		r.took, r.cpu = time.Since(t0), cpuTime()-c0
		r.mem.add(m0)
		stop()
	})
	return r
}

// vmPass evaluates the Eval workload in the AOS VM alone: the very messages the CU evaluates (the synthetic
// schedule's, as the CU hands them to the runtime), so the ratio is the CU's own cost and nothing else.
func vmPass(b *testing.B, name string) evalRun {
	sched := newSynth(b)
	pid := sched.add(name, evalWarmUp+evalMessages+1, 0)
	spawn := sched.entry(sched.procs[pid], 0)
	env := aos.Env{Process: aos.ProcessInfo{Id: pid, Owner: spawn.Message.OwnerAddress(), Tags: asMessage(pid, spawn).Tags}}
	p, err := aos.New(env, aos.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	msgs := make([]aos.Message, evalWarmUp+evalMessages+2)
	for n := range msgs {
		msgs[n] = asMessage(pid, sched.entry(sched.procs[pid], int64(n)))
	}
	p.Handle(msgs[0])
	if r := p.Handle(msgs[1]); r.Error != "" {
		b.Fatal(r.Error)
	}
	for _, m := range msgs[2 : 2+evalWarmUp] {
		p.Handle(m)
	}
	return measure(b, "vm", func() {
		for _, m := range msgs[2+evalWarmUp:] {
			if r := p.Handle(m); len(r.Messages) != 1 || r.Messages[0].Data != "Value stored!" {
				b.Fatalf("Set: %+v", r)
			}
		}
	})
}

// cuPass evaluates the Eval workload in a CU with the default snapshot and checkpoint policy; it returns the
// measured part and the number of snapshots the CU took.
func cuPass(b *testing.B, name string) (evalRun, int64) {
	sched := newSynth(b)
	pid := sched.add(name, 1, 0)
	c, db := newCU(b, b.TempDir(), sched, cu.DefaultSnapshotOptions)
	defer db.Close()
	defer c.Close(context.Background()) // its VMs go, so the next pass starts from the same heap
	sched.procs[pid].last = evalWarmUp + 1
	if _, err := c.Load(context.Background(), pid); err != nil {
		b.Fatal(err)
	}
	sched.procs[pid].last = evalWarmUp + evalMessages + 1
	sched.prebuild(pid, evalWarmUp+evalMessages+1)
	r := measure(b, "cu", func() {
		if n, err := c.Load(context.Background(), pid); err != nil || n != evalWarmUp+evalMessages+1 {
			b.Fatalf("evaluated to %d: %v", n, err)
		}
	})
	checkSet(b, db, pid, evalWarmUp+evalMessages+1)
	return r, c.Stats().SnapshotsTaken
}

// asMessage is a scheduled message as the CU hands it to the runtime (node/cu's toMessage, for the
// messages of a synthetic schedule: no From-Process, nothing trusted).
func asMessage(pid string, sc su.Scheduled) aos.Message {
	m := sc.Message
	target := m.Target
	if sc.Nonce == 0 {
		target = pid
	}
	msg := aos.Message{
		Id: m.ID, Signature: m.Signature, Owner: m.OwnerAddress(), From: m.OwnerAddress(), Target: target, Anchor: m.Anchor,
		Data: string(m.Data), Epoch: sc.Epoch, Nonce: sc.Nonce, Timestamp: sc.Timestamp, BlockHeight: sc.BlockHeight,
		HashChain: sc.HashChain,
	}
	for _, t := range m.Tags {
		msg.Tags = append(msg.Tags, aos.Tag{Name: t.Name, Value: t.Value})
	}
	return msg
}

// checkSet fails unless the result at nonce is the kv store's reply to a Set.
func checkSet(b testing.TB, db *store.DB, pid string, nonce int64) {
	b.Helper()
	raw, err := db.Result(context.Background(), pid, nonce)
	if err != nil || !strings.Contains(string(raw), `"Data":"Value stored!"`) {
		b.Fatalf("result %d: %s %v", nonce, raw, err)
	}
}

// vmRate and cuRate are BenchmarkEval's figures in this run (msg/s), the baselines of later ratios.
var vmRate, vmCPURate, cuRate float64

// BenchmarkColdStart100k starts a process of 100,000 Set messages (100,000 distinct keys) in a fresh CU:
// by replaying every message (the baseline: what a CU without snapshots does after a restart), and from the
// snapshot taken at its last message. One op does both.
func BenchmarkColdStart100k(b *testing.B) {
	const messages = 100_000
	ctx := context.Background()
	sched := newSynth(b)
	pid := sched.add("cold", messages+1, 0)
	dir := b.TempDir()
	build, db := newCU(b, dir, sched, cu.SnapshotOptions{Messages: 1 << 62})
	if _, err := build.Load(ctx, pid); err != nil {
		b.Fatal(err)
	}
	build.SnapshotAll(ctx)
	checkSet(b, db, pid, messages+1)
	n, snap, err := db.Snapshot(ctx, pid)
	if err != nil || n != messages+1 {
		b.Fatalf("snapshot at %d: %v", n, err)
	}
	db.Close()
	b.ResetTimer()
	var replay, fromSnap time.Duration
	for range b.N {
		for _, v := range []struct {
			o   cu.SnapshotOptions
			d   *time.Duration
			how string
		}{{noSnapshots, &replay, "replay"}, {cu.SnapshotOptions{Messages: 1 << 62}, &fromSnap, "snapshot"}} {
			c, db := newCU(b, dir, sched, v.o)
			t0 := time.Now()
			n, err := c.Load(ctx, pid)
			*v.d += time.Since(t0)
			if err != nil || n != messages+1 {
				b.Fatalf("%s: loaded to %d: %v", v.how, n, err)
			}
			if st := c.Stats(); (v.how == "snapshot") != (st.SnapshotRestores == 1) {
				b.Fatalf("%s: %+v", v.how, st)
			}
			db.Close()
		}
	}
	b.ReportMetric(float64(replay.Milliseconds())/float64(b.N), "replay-ms")
	b.ReportMetric(float64(fromSnap.Microseconds())/1000/float64(b.N), "snapshot-ms")
	b.ReportMetric(float64(replay)/float64(fromSnap), "speedup-x")
	b.ReportMetric(float64(len(snap))/(1<<20), "snapshot-MiB")
}

// heapAfterGC is the live heap.
func heapAfterGC() uint64 {
	var m runtime.MemStats
	for range 3 {
		runtime.GC()
	}
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// BenchmarkIdleProcessMemory is the live heap of an idle process in the CU (spawned, the kv store loaded,
// 10 Sets evaluated), evaluated and started again from its snapshot, against the baseline of a bare
// gopher-lua state with its standard libraries.
func BenchmarkIdleProcessMemory(b *testing.B) {
	const procs = 200
	ctx := context.Background()
	var perProc, perRestored, perBare float64
	snaps := cu.SnapshotOptions{Messages: 1 << 62}
	for range b.N {
		before := heapAfterGC()
		states := make([]*lua.LState, procs)
		for i := range states {
			states[i] = lua.NewState()
		}
		perBare += float64(heapAfterGC()-before) / procs
		for _, L := range states {
			L.Close()
		}
		states = nil

		sched := newSynth(b)
		dir := b.TempDir()
		c, db := newCU(b, dir, sched, snaps)
		pids := make([]string, procs)
		for i := range pids {
			pids[i] = sched.add(fmt.Sprint("idle", i), 11, 0)
		}
		before = heapAfterGC()
		for _, pid := range pids {
			if _, err := c.Load(ctx, pid); err != nil {
				b.Fatal(err)
			}
		}
		perProc += float64(heapAfterGC()-before) / procs
		checkSet(b, db, pids[0], 11)
		c.SnapshotAll(ctx)
		db.Close()
		c = nil

		// The same processes started from their snapshots by a new CU.
		c, db = newCU(b, dir, sched, snaps)
		before = heapAfterGC()
		for _, pid := range pids {
			if _, err := c.Load(ctx, pid); err != nil {
				b.Fatal(err)
			}
		}
		perRestored += float64(heapAfterGC()-before) / procs
		if st := c.Stats(); st.SnapshotRestores != procs {
			b.Fatalf("restored %d of %d", st.SnapshotRestores, procs)
		}
		runtime.KeepAlive(c)
		db.Close()
	}
	b.ReportMetric(perProc/float64(b.N)/1024, "KiB/process")
	b.ReportMetric(perRestored/float64(b.N)/1024, "KiB/restored")
	b.ReportMetric(perBare/float64(b.N)/1024, "KiB/bare-lua")
	b.ReportMetric(perProc/perBare, "x-bare")
}

// memUse sums what the measured parts allocated and how many GC cycles they ran.
type memUse struct{ bytes, cycles uint64 }

func memNow() runtime.MemStats {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m
}

func (u *memUse) add(from runtime.MemStats) {
	now := memNow()
	u.bytes += now.TotalAlloc - from.TotalAlloc
	u.cycles += uint64(now.NumGC - from.NumGC)
}

func (u *memUse) report(b *testing.B, msgs int) {
	b.ReportMetric(float64(u.bytes)/float64(msgs), "B/msg")
	b.ReportMetric(float64(u.cycles)/float64(b.N), "gc/op")
}
