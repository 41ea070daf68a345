package cu

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/aonode/aonode/bundler"
	"github.com/aonode/aonode/internal/fixture"
	"github.com/aonode/aonode/node/runtime"
	"github.com/aonode/aonode/node/runtime/aoslua"
	bolt "go.etcd.io/bbolt"
)

// encode is a state as takeSnapshot writes it (its header, then the VM's snapshot), for tests that make
// states of their own.
func (st *procState) encode() []byte {
	return append(st.appendHeader(nil), st.VM...)
}

// state is the process's full global state (JSON) after everything scheduled.
func (e *env) state(pid string) string {
	e.t.Helper()
	b, _, _, _, err := e.cu.State(context.Background(), pid)
	if err != nil {
		e.t.Fatal(err)
	}
	return string(b)
}

// reopen restarts the CU with the snapshot policy o.
func (e *env) reopen(o SnapshotOptions) {
	e.restart()
	e.cu.setSnapshots(o)
}

// wipe deletes a top-level bucket's entry for pid from the closed store file (what a disk loss or another
// node's store looks like), then reopens.
func (e *env) wipe(o SnapshotOptions, bucket, pid string) {
	e.t.Helper()
	e.db.Close()
	db, err := bolt.Open(e.path, 0o600, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucket))
		if b.Bucket([]byte(pid)) != nil {
			return b.DeleteBucket([]byte(pid))
		}
		return b.Delete([]byte(pid))
	})
	db.Close()
	if err != nil {
		e.t.Fatal(err)
	}
	e.open()
	e.cu.setSnapshots(o)
}

func (e *env) sets(pid string, n int) []*bundler.Item {
	out := make([]*bundler.Item, n)
	for i := range out {
		out[i] = e.send(user, pid, " ", tag("Action", "Set"), tag("Key", fmt.Sprint("k", i)), tag("Value", fmt.Sprint("v", i)))
	}
	return out
}

func TestColdStartFromSnapshot(t *testing.T) {
	e := newEnv(t)
	every := SnapshotOptions{Messages: 10}
	e.cu.setSnapshots(every)
	pid := e.spawnKV()
	msgs := e.sets(pid, 35) // nonces 2..36
	want := e.state(pid)
	results := map[string]string{}
	for _, m := range msgs {
		raw, err := e.cu.Result(context.Background(), pid, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		results[m.ID] = string(raw)
	}
	if st := e.cu.Stats(); st.SnapshotsTaken != 3 { // after nonces 9, 19, 29 (spawn is 0)
		t.Fatalf("snapshots taken: %+v", st)
	}
	snapNonce, _, err := e.db.Snapshot(context.Background(), pid)
	if err != nil || snapNonce != 29 {
		t.Fatalf("latest snapshot at %d (%v), want 29", snapNonce, err)
	}

	// A restarted CU starts from the snapshot and evaluates only what came after it.
	e.reopen(every)
	if got := e.state(pid); got != want {
		t.Fatalf("state from snapshot differs\n got %s\nwant %s", got, want)
	}
	if st := e.cu.Stats(); st.SnapshotRestores != 1 || st.Evaluated != 36-29 {
		t.Fatalf("restart: %+v, want 1 restore and 7 evaluations", st)
	}
	// It goes on like a process that never stopped.
	next := e.send(user, pid, " ", tag("Action", "Set"), tag("Key", "after"), tag("Value", "x"))
	fromSnap := e.result(pid, next.ID)
	stateFromSnap := e.state(pid)

	// Baseline: the same store with snapshots off replays everything and agrees.
	e.reopen(SnapshotOptions{})
	if got := e.state(pid); got != stateFromSnap {
		t.Fatalf("full replay disagrees with the snapshot-started CU")
	}
	if st := e.cu.Stats(); st.SnapshotRestores != 0 || st.Evaluated != 38 {
		t.Fatalf("replay: %+v", st)
	}
	if asString(fromSnap) != asString(e.result(pid, next.ID)) {
		t.Fatal("result after the snapshot differs from the replayed one")
	}

	// Results lost (a node that kept the snapshot, not the results): a result before the snapshot is
	// evaluated again in a throwaway VM, and is the same.
	e.wipe(every, "results", pid)
	e.state(pid) // loaded from the snapshot, past the results asked for next
	if st := e.cu.Stats(); st.SnapshotRestores != 1 {
		t.Fatalf("after losing results: %+v", st)
	}
	for _, m := range []*bundler.Item{msgs[0], msgs[20], msgs[34]} {
		raw, err := e.cu.Result(context.Background(), pid, m.ID)
		if err != nil || string(raw) != results[m.ID] {
			t.Fatalf("result %s after losing results: %v\n got %s\nwant %s", m.ID, err, raw, results[m.ID])
		}
	}
}

// A handler suspended in Receive cannot be snapshotted: the CU goes on without a snapshot and a restart
// replays, with the same state; once the coroutine finished, snapshots resume.
func TestSuspendedCoroutineFallsBackToReplay(t *testing.T) {
	e := newEnv(t)
	every := SnapshotOptions{Messages: 3}
	e.cu.setSnapshots(every)
	pid := e.spawnKV()
	ev := e.send(user, pid, `Handlers.add("ask", Handlers.utils.hasMatchingTag("Action", "Ask"), function (msg)
  local answer = Receive({ Action = "Answer" })
  Store.answer = answer.Data
end)`, tag("Action", "Eval"))
	if r := e.result(pid, ev.ID); r["Error"] != nil {
		t.Fatal(r["Error"])
	}
	e.send(user, pid, " ", tag("Action", "Ask")) // nonce 3: suspends
	e.sets(pid, 4)                               // nonces 4..7: the coroutine still waits
	e.state(pid)
	st := e.cu.Stats()
	if st.SnapshotFailures == 0 {
		t.Fatalf("a suspended coroutine was snapshotted: %+v", st)
	}
	if n, _, err := e.db.Snapshot(context.Background(), pid); err == nil && n >= 3 {
		t.Fatalf("snapshot at %d holds a suspended coroutine", n)
	}
	e.send(user, pid, "42", tag("Action", "Answer")) // resumes and finishes it
	e.sets(pid, 3)
	want := e.state(pid)
	n, _, err := e.db.Snapshot(context.Background(), pid)
	if err != nil || n < 8 {
		t.Fatalf("no snapshot after the coroutine finished: %d %v", n, err)
	}
	e.reopen(every)
	if got := e.state(pid); got != want {
		t.Fatalf("restart differs\n got %s\nwant %s", got, want)
	}
	if st := e.cu.Stats(); st.SnapshotRestores != 1 {
		t.Fatalf("%+v", st)
	}
	if got := e.get(pid, "answer"); got != "42" {
		t.Fatalf("answer = %q", got)
	}
}

// Snapshots that are damaged, of another process, or of another schedule are refused: the CU replays and
// gets the right state.
func TestBadSnapshotsAreRefused(t *testing.T) {
	e := newEnv(t)
	every := SnapshotOptions{Messages: 5}
	e.cu.setSnapshots(every)
	pid := e.spawnKV()
	other := e.spawnKV()
	e.sets(pid, 8)
	e.sets(other, 8)
	want := e.state(pid)
	e.state(other)
	ctx := context.Background()
	n, good, err := e.db.Snapshot(ctx, pid)
	if err != nil {
		t.Fatal(err)
	}
	_, otherSnap, err := e.db.Snapshot(ctx, other)
	if err != nil {
		t.Fatal(err)
	}
	flipped := append([]byte(nil), good...)
	flipped[len(flipped)-20] ^= 1
	st, _ := decodeState(good)
	st.HashChain = "bogus"
	wrongChain := st.encode()
	cases := map[string][]byte{
		"garbage":          []byte("not a snapshot"),
		"truncated":        good[:len(good)/2],
		"bit flip":         flipped,
		"other process":    otherSnap,
		"another schedule": wrongChain,
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			e.wipe(every, "snapshots", pid)
			if err := e.db.PutSnapshot(ctx, pid, n, data); err != nil {
				t.Fatal(err)
			}
			if got := e.state(pid); got != want {
				t.Fatalf("state after a bad snapshot differs")
			}
			if st := e.cu.Stats(); st.SnapshotRestores != 0 || st.SnapshotFailures != 1 {
				t.Fatalf("%+v", st)
			}
		})
	}
}

// Cron ticks evaluated before a snapshot (also past the last message, as /cron reads do) are not evaluated
// again after a restart from it.
func TestSnapshotKeepsCronPosition(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	every := SnapshotOptions{Messages: 1000}
	e.cu.setSnapshots(every)
	p := e.send(user, "", "", tag("Cron-Interval", "1-second"), tag("Cron-Tag-Action", "Cron"))
	e.send(user, p.ID, `Ticks = 0
Handlers.add("tick", Handlers.utils.hasMatchingTag("Action", "Cron"), function (msg) Ticks = Ticks + 1 end)`, tag("Action", "Eval"))
	time.Sleep(1100 * time.Millisecond)
	e.send(user, p.ID, "", tag("Action", "Noop"))
	head, err := e.db.Head(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	until := head.Timestamp + 2500
	if _, err := e.cu.Crons(ctx, p.ID, 0, until); err != nil {
		t.Fatal(err)
	}
	want := e.state(p.ID)
	e.cu.SnapshotAll(ctx)
	e.reopen(every)
	if _, err := e.cu.Crons(ctx, p.ID, 0, until); err != nil {
		t.Fatal(err)
	}
	if got := e.state(p.ID); got != want {
		t.Fatalf("cron ticks ran twice after the restart\n got %s\nwant %s", got, want)
	}
	if st := e.cu.Stats(); st.SnapshotRestores != 1 || st.Evaluated != 0 {
		t.Fatalf("%+v", st)
	}
	// Later ticks still run, once.
	if _, err := e.cu.Crons(ctx, p.ID, 0, until+2000); err != nil {
		t.Fatal(err)
	}
	if st := e.cu.Stats(); st.Evaluated != 2 {
		t.Fatalf("ticks after the snapshot: %+v", st)
	}
}

// fakeGateway serves checkpoint items and, like a careless or lying gateway, lists every one whatever owners
// the CU asked for.
type fakeGateway struct{ items []*bundler.Item }

func (g *fakeGateway) Checkpoints(_ context.Context, pid string, _ []string) ([]CheckpointRef, error) {
	var out []CheckpointRef
	for _, it := range g.items {
		if p, _ := it.Tag("Process"); p != pid {
			continue
		}
		n, _ := it.Tag("Nonce")
		var nonce int64
		fmt.Sscan(n, &nonce)
		out = append(out, CheckpointRef{ID: it.ID, Nonce: nonce, Owner: it.OwnerAddress()})
	}
	return out, nil
}

func (g *fakeGateway) Fetch(_ context.Context, ref CheckpointRef) (*bundler.Item, error) {
	for _, it := range g.items {
		if it.ID == ref.ID {
			return it, nil
		}
	}
	return nil, fmt.Errorf("no item %s", ref.ID)
}

// queuedCheckpoints are the checkpoint items in the upload queue.
func (e *env) queuedCheckpoints() []*bundler.Item {
	e.t.Helper()
	_, raws, err := e.db.PendingUploads(context.Background(), 1000)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []*bundler.Item
	for _, raw := range raws {
		it, err := bundler.Parse(raw)
		if err != nil {
			e.t.Fatal(err)
		}
		if typ, _ := it.Tag("Type"); typ == CheckpointType {
			out = append(out, it)
		}
	}
	return out
}

func TestCheckpointsUploadedAndUsed(t *testing.T) {
	e := newEnv(t)
	o := SnapshotOptions{Messages: 10, CheckpointMessages: 10, CheckpointMinNonce: 5}
	e.cu.setSnapshots(o)
	pid := e.spawnKV()
	e.sets(pid, 25) // nonces 2..26: checkpoints after 9 and 19
	want := e.state(pid)
	ctx := context.Background()
	wantPage, _, err := e.cu.Results(ctx, pid, ResultsQuery{Limit: 100})
	if err != nil || len(wantPage) != 27 {
		t.Fatalf("results: %d %v", len(wantPage), err)
	}
	items := e.queuedCheckpoints()
	if len(items) != 2 || e.cu.Stats().CheckpointsQueued != 2 {
		t.Fatalf("%d checkpoints queued (%+v)", len(items), e.cu.Stats())
	}
	var newest *bundler.Item
	for _, it := range items {
		if n, _ := it.Tag("Nonce"); n == "19" {
			newest = it
		}
		if it.OwnerAddress() != nodeW.Address() {
			t.Fatalf("checkpoint signed by %s", it.OwnerAddress())
		}
		if _, err := CheckpointData(pid, it); err != nil {
			t.Fatal(err)
		}
	}
	if newest == nil {
		t.Fatal("no checkpoint at nonce 19")
	}

	// Forgeries a gateway might list: the real checkpoint re-signed by a stranger (and claiming a later
	// nonce), and one by the CU's wallet whose payload does not match its digest.
	forged, err := otherUser.Sign(newest.Data, "", "", retag(newest.Tags, "Nonce", "26"))
	if err != nil {
		t.Fatal(err)
	}
	badDigest, err := nodeW.Sign(newest.Data, "", "", retag(newest.Tags, "SHA-256", "00"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := CheckpointData(pid, badDigest); err == nil {
		t.Fatal("a checkpoint with a wrong digest was accepted")
	}
	if _, err := CheckpointData("other", newest); err == nil {
		t.Fatal("a checkpoint was accepted for another process")
	}
	gw := &fakeGateway{items: append([]*bundler.Item{forged, badDigest}, items...)}

	// A node that has the schedule but no snapshot and no results (recovered from the gateway) starts from the
	// newest good checkpoint and evaluates only the rest.
	e.wipe(o, "snapshots", pid)
	e.wipe(o, "results", pid)
	e.cu.setCheckpointSource(gw)
	if got := e.state(pid); got != want {
		t.Fatalf("state from checkpoint differs")
	}
	st := e.cu.Stats()
	if st.CheckpointRestores != 1 || st.Evaluated != 26-19 || st.SnapshotFailures != 2 {
		t.Fatalf("%+v: want 1 checkpoint restore, 7 evaluations, 2 refused", st)
	}
	// Results from before the checkpoint are evaluated on demand, once, in a VM of their own.
	page, _, err := e.cu.Results(ctx, pid, ResultsQuery{Limit: 100})
	if err != nil || len(page) != len(wantPage) {
		t.Fatalf("results after the checkpoint start: %d %v", len(page), err)
	}
	for i := range page {
		if string(page[i].Node) != string(wantPage[i].Node) || page[i].Cursor != wantPage[i].Cursor {
			t.Fatalf("result %d differs:\n got %s\nwant %s", i, page[i].Node, wantPage[i].Node)
		}
	}
	if st := e.cu.Stats(); st.Evaluated != 7+20 { // the gap 0..19, replayed once
		t.Fatalf("gap replay: %+v", st)
	}
	// The checkpoint is now kept locally: the next start does not ask the gateway.
	e.reopen(o)
	if got := e.state(pid); got != want {
		t.Fatal("state after restart differs")
	}
	if st := e.cu.Stats(); st.SnapshotRestores != 1 || st.CheckpointRestores != 0 {
		t.Fatalf("%+v", st)
	}
}

// The first request to a node holding only a checkpoint may be for the very message the checkpoint was taken
// after: its result is not in the checkpoint and is replayed.
func TestResultAtCheckpointNonce(t *testing.T) {
	e := newEnv(t)
	o := SnapshotOptions{Messages: 10, CheckpointMessages: 10, CheckpointMinNonce: 5}
	e.cu.setSnapshots(o)
	pid := e.spawnKV()
	msgs := e.sets(pid, 10) // nonces 2..11: a checkpoint after 9 (msgs[7])
	want, err := e.cu.Result(context.Background(), pid, msgs[7].ID)
	if err != nil {
		t.Fatal(err)
	}
	items := e.queuedCheckpoints()
	if len(items) != 1 {
		t.Fatalf("%d checkpoints", len(items))
	}
	e.wipe(o, "snapshots", pid)
	e.wipe(o, "results", pid)
	e.cu.setCheckpointSource(&fakeGateway{items: items})
	got, err := e.cu.Result(context.Background(), pid, msgs[7].ID)
	if err != nil || string(got) != string(want) {
		t.Fatalf("result at the checkpoint's nonce: %v\n got %s\nwant %s", err, got, want)
	}
	if st := e.cu.Stats(); st.CheckpointRestores != 1 {
		t.Fatalf("%+v", st)
	}
}

func retag(tags []bundler.Tag, name, value string) []bundler.Tag {
	out := append([]bundler.Tag(nil), tags...)
	for i := range out {
		if out[i].Name == name {
			out[i].Value = value
		}
	}
	return out
}

// A snapshot made by another runtime build is not restored: with any field of its stamp altered (runtime
// version, digest, gopher-lua module, bytecode format), an earlier state format, or an aos-lua snapshot of
// another version inside, it is refused, counted, and the process is replayed on this runtime.
func TestSnapshotOfAnotherBuildRefused(t *testing.T) {
	e := newEnv(t)
	every := SnapshotOptions{Messages: 5}
	e.cu.setSnapshots(every)
	pid := e.spawnKV()
	e.sets(pid, 5)
	want := e.state(pid)
	ctx := context.Background()
	n, data, err := e.db.Snapshot(ctx, pid)
	if err != nil {
		t.Fatal(err)
	}
	st, err := decodeState(data)
	if err != nil {
		t.Fatal(err)
	}
	rt, _ := aoslua.Current()
	if st.Stamp != rt.Stamp() {
		t.Fatalf("snapshot stamp %+v, want %+v", st.Stamp, rt.Stamp())
	}
	altered := func(f func(s *procState)) []byte {
		c := *st
		f(&c)
		return c.encode()
	}
	cases := map[string][]byte{
		"runtime version": altered(func(s *procState) { s.Stamp.Runtime = "aos-lua/0" }),
		"runtime digest":  altered(func(s *procState) { s.Stamp.Digest = "0123456789abcdef" }),
		"gopher-lua":      altered(func(s *procState) { s.Stamp.LuaVM = "github.com/yuin/gopher-lua@v1.1.3" }),
		"bytecode format": altered(func(s *procState) { s.Stamp.Bytecode = "gopher-lua-bytecode/1-000000000000" }),
		"state format 2":  append([]byte(stateMagic+"\x02"), data[len(stateMagic)+1:]...),
		"aos-lua snapshot version": altered(func(s *procState) {
			s.VM = append([]byte(nil), s.VM...)
			s.VM[len("AOSLUA")] = 0
		}),
	}
	for name, bad := range cases {
		t.Run(name, func(t *testing.T) {
			e.wipe(every, "snapshots", pid)
			if err := e.db.PutSnapshot(ctx, pid, n, bad); err != nil {
				t.Fatal(err)
			}
			if got := e.state(pid); got != want {
				t.Fatal("state differs")
			}
			if st := e.cu.Stats(); st.SnapshotRestores != 0 || st.SnapshotFailures != 1 || st.SnapshotsRefused != 1 || st.Evaluated != 7 {
				t.Fatalf("%+v", st)
			}
		})
	}
}

// A checkpoint made by another build (another gopher-lua here, its tags saying so as its content does) is
// refused and counted; the CU starts from an older one of its own build instead.
func TestCheckpointOfAnotherBuildRefused(t *testing.T) {
	e := newEnv(t)
	o := SnapshotOptions{Messages: 10, CheckpointMessages: 10, CheckpointMinNonce: 5}
	e.cu.setSnapshots(o)
	pid := e.spawnKV()
	e.sets(pid, 25) // checkpoints after nonces 9 and 19
	want := e.state(pid)
	var older, newest *bundler.Item
	for _, it := range e.queuedCheckpoints() {
		switch n, _ := it.Tag("Nonce"); n {
		case "9":
			older = it
		case "19":
			newest = it
		}
	}
	if older == nil || newest == nil {
		t.Fatal("checkpoints at 9 and 19 expected")
	}
	// The newest one as a build on another gopher-lua would have made it.
	data, err := CheckpointData(pid, newest)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := decodeState(data)
	st.Stamp.LuaVM = "github.com/yuin/gopher-lua@v1.2.0"
	other := st.encode()
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write(other)
	zw.Close()
	digest := sha256.Sum256(other)
	foreign, err := nodeW.Sign(z.Bytes(), "", "", checkpointTags(st, e.module, digest[:]))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := CheckpointData(pid, foreign); err != nil {
		t.Fatalf("the other build's checkpoint is well formed: %v", err)
	}
	e.wipe(o, "snapshots", pid)
	e.wipe(o, "results", pid)
	e.cu.setCheckpointSource(&fakeGateway{items: []*bundler.Item{older, foreign}})
	if got := e.state(pid); got != want {
		t.Fatal("state differs")
	}
	if st := e.cu.Stats(); st.CheckpointRestores != 1 || st.SnapshotsRefused != 1 || st.Evaluated != 26-9 {
		t.Fatalf("%+v: want the checkpoint at 9 used after the other build's at 19 was refused", st)
	}
	// A checkpoint of an earlier format is refused as stale too, from its tags.
	oldFormat, err := nodeW.Sign(newest.Data, "", "", retag(newest.Tags, "Snapshot-Format", "aonode-state/2"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := CheckpointData(pid, oldFormat); !errors.Is(err, runtime.ErrStale) {
		t.Fatalf("an aonode-state/2 checkpoint: %v", err)
	}
}

// Property: a CU that snapshots at random intervals and is restarted at random points gives exactly the
// results and state of one that never snapshots, through closures, metatables, suspended Receives and errors.
func TestRandomRestartsMatchNeverSnapshotted(t *testing.T) {
	programs := []string{
		`Counter = (Counter or 0) + 1`,
		`Hist = Hist or {}; table.insert(Hist, #Hist + 1)`,
		`local n = 0; Next = function() n = n + 1; return n end`,
		`if Next then Last = Next() end`,
		`Vec = Vec or setmetatable({}, { __index = function(_, k) return "missing " .. k end }); Probe = Vec.x`,
		`Handlers.add("wait", Handlers.utils.hasMatchingTag("Action", "Wait"), function (m) local a = Receive({ Action = "Go" }); Store.go = a.Data end)`,
		`error("boom")`,
		`Store.big = string.rep("x", 100)`,
	}
	seed := time.Now().UnixNano()
	if v, err := strconv.ParseInt(os.Getenv("AONODE_SEED"), 10, 64); err == nil {
		seed = v
	}
	t.Logf("seed %d (AONODE_SEED reruns it)", seed)
	rng := rand.New(rand.NewPCG(uint64(seed), 0))
	type step struct {
		data string
		tags []bundler.Tag
	}
	var steps []step
	for range 60 {
		switch rng.IntN(4) {
		case 0:
			steps = append(steps, step{programs[rng.IntN(len(programs))], []bundler.Tag{tag("Action", "Eval")}})
		case 1:
			steps = append(steps, step{" ", []bundler.Tag{tag("Action", "Wait")}})
		case 2:
			steps = append(steps, step{fmt.Sprint(rng.IntN(100)), []bundler.Tag{tag("Action", "Go")}})
		default:
			k := fmt.Sprint("k", rng.IntN(5))
			steps = append(steps, step{" ", []bundler.Tag{tag("Action", "Set"), tag("Key", k), tag("Value", fmt.Sprint(rng.IntN(1000)))}})
		}
	}
	// One schedule, in the reference's store; the subject gets a copy of that store before anything is
	// evaluated, then evaluates up to random points, snapshotting every few messages and restarting at random.
	ref := newEnv(t)
	spawn := ref.send(user, "", "")
	send := func(data string, tags ...bundler.Tag) string {
		t.Helper()
		return ref.send(user, spawn.ID, data, tags...).ID
	}
	ids := []string{spawn.ID, send(fixture.KVStore, tag("Action", "Eval"))}
	for _, s := range steps {
		ids = append(ids, send(s.data, s.tags...))
	}
	ref.db.Close()
	sub := &env{t: t, path: filepath.Join(t.TempDir(), "node.db"), module: ref.module}
	copyFile(t, ref.path, sub.path)
	ref.open()
	sub.open()
	sub.cu.setSnapshots(SnapshotOptions{Messages: int64(1 + rng.IntN(5))})
	restores := int64(0)
	for i, id := range ids {
		if rng.IntN(3) == 0 {
			sub.result(spawn.ID, id) // evaluate up to here (snapshots happen on the way)
		}
		if rng.IntN(8) == 0 || i == len(ids)/2 {
			restores += sub.cu.Stats().SnapshotRestores
			if rng.IntN(2) == 0 {
				sub.cu.SnapshotAll(context.Background()) // as at a clean shutdown
			}
			sub.reopen(SnapshotOptions{Messages: int64(1 + rng.IntN(5))})
			t.Logf("restart after message %d", i)
		}
	}
	sub.state(spawn.ID)
	t.Logf("%d restarts started from a snapshot", restores+sub.cu.Stats().SnapshotRestores)
	if got, want := sub.state(spawn.ID), ref.state(spawn.ID); got != want {
		t.Fatalf("states differ: %s", firstDiff(got, want))
	}
	for _, id := range ids {
		a, err1 := ref.cu.Result(context.Background(), spawn.ID, id)
		b, err2 := sub.cu.Result(context.Background(), spawn.ID, id)
		if err1 != nil || err2 != nil || string(a) != string(b) {
			t.Fatalf("result of %s differs (%v %v): %s", id, err2, err1, firstDiff(string(b), string(a)))
		}
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// firstDiff shows where two long strings first differ.
func firstDiff(got, want string) string {
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	from := max(0, i-300)
	return fmt.Sprintf("at byte %d\n got ...%s\nwant ...%s", i, got[from:min(len(got), i+200)], want[from:min(len(want), i+200)])
}

// With a bound on loaded processes, the least recently used idle one is snapshotted and unloaded, and comes
// back from its snapshot with the same state.
func TestIdleProcessesUnloaded(t *testing.T) {
	e := newEnv(t)
	o := SnapshotOptions{Messages: 1000} // no periodic snapshot in this test: unloading takes it
	e.cu.setSnapshots(o)
	e.cu.setMaxLoaded(2)
	a := e.spawnKV()
	e.sets(a, 3)
	want := e.state(a)
	e.spawnKV()
	e.spawnKV() // a third VM: a, the least recently used, goes
	deadline := time.Now().Add(5 * time.Second)
	for e.cu.Stats().Evictions == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	st := e.cu.Stats()
	if st.Evictions != 1 || st.SnapshotsTaken != 1 {
		t.Fatalf("after loading a third process: %+v", st)
	}
	if n, _, err := e.db.Snapshot(context.Background(), a); err != nil || n != 4 {
		t.Fatalf("unloaded process snapshot at %d: %v", n, err)
	}
	before := e.cu.Stats().Evaluated
	if got := e.state(a); got != want {
		t.Fatal("state after unloading differs")
	}
	if st := e.cu.Stats(); st.SnapshotRestores != 1 || st.Evaluated != before {
		t.Fatalf("reload: %+v", st)
	}
}

// A dry-run on a process whose handler waits in Receive (its VM cannot be copied) rebuilds the state from the
// last clean snapshot instead of from the spawn, and sees everything evaluated so far.
func TestDryRunWithSuspendedHandlerUsesSnapshot(t *testing.T) {
	e := newEnv(t)
	e.cu.setSnapshots(SnapshotOptions{Messages: 4})
	pid := e.spawnKV()
	ev := e.send(user, pid, `Handlers.add("ask", Handlers.utils.hasMatchingTag("Action", "Ask"), function (msg)
  local answer = Receive({ Action = "Answer" })
  Store.answer = answer.Data
end)`, tag("Action", "Eval"))
	e.result(pid, ev.ID)
	e.sets(pid, 5)                               // nonces 3..7: snapshots after 3 and 7
	e.send(user, pid, " ", tag("Action", "Ask")) // nonce 8: suspends
	e.sets(pid, 2)                               // nonces 9, 10
	e.state(pid)
	before := e.cu.Stats()
	if got := e.get(pid, "k1"); got != "v1" {
		t.Fatalf("dry-run Get k1 = %q", got)
	}
	st := e.cu.Stats()
	if st.SnapshotRestores != before.SnapshotRestores+1 || st.Evaluated-before.Evaluated != 3 {
		t.Fatalf("dry-run rebuild: %+v (before %+v): want one restore and 3 messages evaluated", st, before)
	}
}

// With a cost ratio, a due snapshot waits until the process evaluated long enough to pay for it.
func TestSnapshotCostRatio(t *testing.T) {
	s := &Service{snapOpts: SnapshotOptions{Messages: 1, CostRatio: 4}}
	p := &proc{snapCost: 10 * time.Millisecond}
	cases := []struct {
		evalSince time.Duration
		want      bool
	}{{0, false}, {39 * time.Millisecond, false}, {40 * time.Millisecond, true}}
	for _, c := range cases {
		p.sinceSnap, p.evalSinceSnap = 0, c.evalSince
		if got := s.countEval(p, 0); got != c.want {
			t.Fatalf("after %s of evaluation: due %v, want %v", c.evalSince, got, c.want)
		}
	}
	s.snapOpts.CostRatio = 0
	p.sinceSnap, p.evalSinceSnap = 0, 0
	if !s.countEval(p, 0) {
		t.Fatal("without a ratio the message count alone decides")
	}
}

// A due checkpoint is taken with a snapshot the cost ratio allows: long since the last checkpoint, but just
// after a snapshot, it waits.
func TestCheckpointPacedByCostRatio(t *testing.T) {
	s := &Service{snapOpts: SnapshotOptions{Messages: 1000, CheckpointMessages: 10, CostRatio: 4}}
	p := &proc{snapCost: 10 * time.Millisecond, sinceCkpt: 100, evalSinceCkpt: time.Second}
	for _, c := range []struct {
		evalSinceSnap time.Duration
		want          bool
	}{{5 * time.Millisecond, false}, {40 * time.Millisecond, true}} {
		p.sinceSnap, p.evalSinceSnap = 3, c.evalSinceSnap
		if got := s.countEval(p, 0); got != c.want {
			t.Fatalf("checkpoint due, %s since the last snapshot: due %v, want %v", c.evalSinceSnap, got, c.want)
		}
	}
}

// A process started from a snapshot reaches its memory limit exactly where one that never stopped does:
// the snapshot keeps the memory accounting (a measurement of the state is charged to the compute budget,
// so GasUsed shows when one happens).
func TestSnapshotKeepsMemoryAccounting(t *testing.T) {
	e := newEnv(t)
	e.useModule(runtime.Limits{Memory: 3 << 20}) // the module sets the limit, on every CU
	every := SnapshotOptions{Messages: 4}
	e.cu.setSnapshots(every)
	pid := e.spawnKV()
	// Each message leaves the previous 400 kB string as garbage: the state is measured again every few.
	junk := func(i int) *bundler.Item {
		return e.send(user, pid, fmt.Sprintf(`Junk = string.rep("%d", 400000) return #Junk`, i%10), tag("Action", "Eval"))
	}
	var msgs []*bundler.Item
	results := func() []string {
		var out []string
		for _, m := range msgs {
			raw, err := e.cu.Result(context.Background(), pid, m.ID)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, string(raw))
		}
		return out
	}
	for i := 0; i < 10; i++ {
		msgs = append(msgs, junk(i))
	}
	results()
	if st := e.cu.Stats(); st.SnapshotsTaken == 0 {
		t.Fatalf("no snapshot taken: %+v", st)
	}
	// Restarted: the process starts from its latest snapshot and goes on.
	e.reopen(every)
	for i := 10; i < 20; i++ {
		msgs = append(msgs, junk(i))
	}
	fromSnap := results()
	if st := e.cu.Stats(); st.SnapshotRestores != 1 {
		t.Fatalf("not started from a snapshot: %+v", st)
	}
	// Baseline: everything replayed from the spawn by a CU that never snapshots.
	e.wipe(SnapshotOptions{}, "results", pid)
	e.wipe(SnapshotOptions{}, "snapshots", pid)
	replayed := results()
	gas := map[float64]bool{}
	for i := range replayed {
		gas[decodeGas(t, replayed[i])] = true
		if replayed[i] != fromSnap[i] {
			t.Fatalf("message %d: from the snapshot %s\nreplayed %s", i, fromSnap[i], replayed[i])
		}
	}
	if len(gas) < 2 {
		t.Fatal("no message measured the state (every GasUsed the same): the test proves nothing")
	}
}

func decodeGas(t *testing.T, raw string) float64 {
	var r struct{ GasUsed float64 }
	if err := json.Unmarshal([]byte(raw), &r); err != nil {
		t.Fatal(err)
	}
	return r.GasUsed
}

// A result read that evaluates ahead still boots the process for the message it asks for: a snapshot past that
// message is not used (its result would be a gap, replayed from the spawn in a VM of its own).
func TestReadAheadBootsForTheMessageAsked(t *testing.T) {
	e := newEnv(t)
	every := SnapshotOptions{Messages: 3}
	e.cu.setSnapshots(every)
	pid := e.spawnKV()     // nonces 0, 1
	sets := e.sets(pid, 6) // nonces 2..7
	want := e.state(pid)
	if n, _, err := e.db.Snapshot(context.Background(), pid); err != nil || n <= 2 {
		t.Fatalf("no snapshot past nonce 2: %d %v", n, err)
	}
	e.wipe(every, "results", pid) // results lost, the snapshot kept (or made by another CU)
	if r := e.result(pid, sets[0].ID); r["Error"] != nil {
		t.Fatal(r["Error"])
	}
	st := e.cu.Stats()
	if st.SnapshotRestores != 0 || st.Evaluated != 8 {
		t.Fatalf("%+v: want the process booted from its spawn for nonce 2 and every message evaluated once", st)
	}
	if got := e.state(pid); got != want {
		t.Fatal("state differs")
	}
}
