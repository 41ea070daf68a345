package mu

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aonode/aonode/bundler"
	"github.com/aonode/aonode/node/aos"
	"github.com/aonode/aonode/node/cu"
	"github.com/aonode/aonode/node/store"
	"github.com/aonode/aonode/node/su"
)

type fixedHeight int64

func (h fixedHeight) Height(context.Context) (int64, error) { return int64(h), nil }

// results plays the CU: the result of every evaluation is set by the test (empty when not set).
type results struct {
	mu   sync.Mutex
	m    map[string]*aos.Result // pid/id
	fail map[string]int         // pid/id -> reads still to fail
}

func (r *results) set(pid, id string, res *aos.Result) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.m[pid+"/"+id] = res
}

func (r *results) Result(_ context.Context, pid, id string) (*aos.Result, *su.Scheduled, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail[pid+"/"+id] > 0 {
		r.fail[pid+"/"+id]--
		return nil, nil, errors.New("the CU is not answering")
	}
	if res, ok := r.m[pid+"/"+id]; ok {
		return res, nil, nil
	}
	return &aos.Result{}, nil, nil
}

func (r *results) Crons(context.Context, string, int64, int64) ([]cu.CronResult, error) {
	return nil, nil
}

// network plays the gateway and the other SUs: processes scheduled elsewhere (by id -> URL), wallets it knows,
// posts that fail a number of times first, and every post it took.
type network struct {
	mu      sync.Mutex
	remote  map[string]string // process -> SU URL
	wallets map[string]bool
	failing map[string]int            // item data -> posts still to refuse
	posts   []string                  // item data, in the order they were accepted
	tries   map[string]map[string]int // item data -> item id -> posts
}

func (n *network) Locate(_ context.Context, pid string) (string, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if url, ok := n.remote[pid]; ok {
		return url, nil
	}
	return "", ErrUnknownTarget
}

func (n *network) LocateScheduler(context.Context, string) (string, error) {
	return "", errors.New("no other scheduler in this test")
}

func (n *network) Post(_ context.Context, _ string, raw []byte) (string, error) {
	it, err := bundler.ParseStored(raw)
	if err != nil {
		return "", err
	}
	data := string(it.Data)
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.tries[data] == nil {
		n.tries[data] = map[string]int{}
	}
	n.tries[data][it.ID]++
	if n.failing[data] > 0 {
		n.failing[data]--
		return "", errors.New("503 from the other SU")
	}
	n.posts = append(n.posts, data)
	return it.ID, nil
}

func (n *network) Assign(context.Context, string, string, string) error {
	return errors.New("no remote assignment in this test")
}

func (n *network) IsWallet(_ context.Context, address string) (bool, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.wallets[address], nil
}

func (n *network) accepted() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.posts...)
}

func wallet(t *testing.T) *bundler.Wallet {
	t.Helper()
	w, _, err := bundler.LoadOrCreateWallet(filepath.Join(t.TempDir(), "w.json"))
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func id(b byte) string { return bundler.B64([]byte(strings.Repeat(string(rune('a'+b)), 32))) }

type fixture struct {
	t        *testing.T
	db       *store.DB
	su       *su.Service
	mu       *Service
	cu       *results
	net      *network
	user     *bundler.Wallet
	cancel   func()
	suW, muW *bundler.Wallet
	moduleID string
	lifetime time.Duration
}

func newFixture(t *testing.T, lifetime time.Duration) *fixture {
	f := &fixture{t: t, suW: wallet(t), muW: wallet(t), user: wallet(t), lifetime: lifetime}
	db, err := store.Open(filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	f.db = db
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	f.su = su.New(su.Config{Signer: f.suW, Store: db, Heights: fixedHeight(1), Log: log, SpawnAuthority: f.muW.Address(),
		OnScheduled: func() { f.mu.Wake() }})
	f.cu = &results{m: map[string]*aos.Result{}, fail: map[string]int{}}
	f.net = &network{remote: map[string]string{}, wallets: map[string]bool{}, failing: map[string]int{}, tries: map[string]map[string]int{}}
	f.mu = New(f.muW, f.su, f.cu, f.net, db, log, Options{RetryMin: 10 * time.Millisecond, RetryMax: 40 * time.Millisecond, Lifetime: lifetime})
	f.moduleID = id(25)
	ctx, cancel := context.WithCancel(context.Background())
	f.mu.Start(ctx)
	f.cancel = func() { cancel(); f.mu.Wait() }
	t.Cleanup(func() { f.cancel(); db.Close() })
	return f
}

// spawn schedules a process (its crank is queued with it); res is the result its spawn message has.
func (f *fixture) spawn(res *aos.Result) string {
	f.t.Helper()
	it, err := f.user.Sign([]byte(" "), "", "", []bundler.Tag{{Name: "Data-Protocol", Value: "ao"}, {Name: "Type", Value: "Process"},
		{Name: "Module", Value: f.moduleID}, {Name: "Scheduler", Value: f.su.Address()}})
	if err != nil {
		f.t.Fatal(err)
	}
	if res != nil {
		f.cu.set(it.ID, it.ID, res)
	}
	if _, err := f.mu.Send(context.Background(), it); err != nil {
		f.t.Fatal(err)
	}
	return it.ID
}

// drained waits until no task is pending.
func (f *fixture) drained() {
	f.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		c, err := f.db.TaskCounts(context.Background())
		if err != nil {
			f.t.Fatal(err)
		}
		if c[store.TaskCrank]+c[store.TaskMessage]+c[store.TaskSpawn]+c[store.TaskAssign] == 0 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	f.t.Fatal("the crank queue did not drain")
}

// messagesOf returns the scheduled messages of pid after its spawn, decoded.
func (f *fixture) messagesOf(pid string) []*bundler.Item {
	f.t.Helper()
	es, err := f.db.Entries(context.Background(), pid, 1, -1, 0)
	if err != nil {
		f.t.Fatal(err)
	}
	var out []*bundler.Item
	for _, e := range es {
		raw, err := f.db.Item(context.Background(), e.MessageID)
		if err != nil {
			f.t.Fatal(err)
		}
		it, err := bundler.ParseStored(raw)
		if err != nil {
			f.t.Fatal(err)
		}
		out = append(out, it)
	}
	return out
}

func msg(target, action string) aos.OutMessage {
	return aos.OutMessage{Target: target, Tags: []aos.OutTag{{Name: "Action", Value: action}}, Data: action}
}

// One result, every kind of outbox entry: each is delivered where it belongs, once; a post the other SU
// refuses is re-sent as the same item; a target nobody knows is given up after the lifetime, never sent as a
// wallet message.
func TestCrankDeliversEveryOutboxEntry(t *testing.T) {
	f := newFixture(t, 500*time.Millisecond)
	remote, known, ghost := id(1), id(2), id(3)
	f.net.remote[remote] = "http://other-su"
	f.net.wallets[known] = true
	f.net.failing["ToRemote"] = 2
	sibling, held := f.spawn(nil), f.spawn(nil)
	f.drained()
	parent := f.spawn(&aos.Result{
		Messages: []aos.OutMessage{
			msg(remote, "ToRemote"), msg(f.user.Address(), "ToOwner"), msg(known, "ToKnownWallet"),
			msg(ghost, "ToGhost"), msg(sibling, "ToSibling"), msg("not an id", "Dropped"),
		},
		Spawns:      []aos.OutSpawn{{Tags: []aos.OutTag{{Name: "Name", Value: "child"}, {Name: "Reference", Value: "7"}}}},
		Assignments: []aos.OutAssignment{{Processes: []string{sibling}, Message: held}},
	})
	f.drained()
	failed, err := f.db.FailedTasks(context.Background(), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(failed) != 1 || failed[0].Target != ghost || !strings.Contains(failed[0].LastError, "unknown") || failed[0].Attempts < 2 {
		t.Fatalf("failed tasks %+v, want the push to the unknown target, tried more than once", failed)
	}
	if _, err := f.db.UploadStatus(context.Background(), failed[0].ItemID); err != nil {
		t.Fatalf("the given-up message is uploaded: %v", err)
	}
	if posts := f.net.accepted(); len(posts) != 1 || posts[0] != "ToRemote" {
		t.Fatalf("remote posts %v, want the one message to the remote process", posts)
	}
	if tries := f.net.tries["ToRemote"]; len(tries) != 1 {
		t.Fatalf("the refused push was re-signed: item ids %v", tries)
	} else {
		for _, n := range tries {
			if n != 3 {
				t.Fatalf("the remote message was posted %d times, want 3 (2 refused)", n)
			}
		}
	}
	// Wallets: the process owner (the spawn's signer) and the one the gateway knows, stored and uploaded.
	// The counters follow the store's writes (the queue can read as drained a moment before the last count).
	st := f.mu.Stats()
	for deadline := time.Now().Add(2 * time.Second); (st.ToWallets != 2 || st.Failed != 1) && time.Now().Before(deadline); st = f.mu.Stats() {
		time.Sleep(5 * time.Millisecond)
	}
	if st.ToWallets != 2 || st.Failed != 1 {
		t.Fatalf("stats %+v: want 2 wallet messages and 1 failure", st)
	}
	// The sibling got the message (From-Process = parent, signed by the MU) and the assignment.
	sib := f.messagesOf(sibling)
	if len(sib) != 2 {
		t.Fatalf("sibling schedule holds %d messages, want the pushed one and the assignment", len(sib))
	}
	if fp, _ := sib[0].Tag("From-Process"); fp != parent || sib[0].OwnerAddress() != f.muW.Address() {
		t.Fatalf("pushed message From-Process %s signed by %s", fp, sib[0].OwnerAddress())
	}
	if pf, _ := sib[0].Tag("Pushed-For"); pf != parent {
		t.Fatalf("Pushed-For %q, want the user message %s", pf, parent)
	}
	if sib[1].ID != held {
		t.Fatalf("the assignment assigned %s, want %s", sib[1].ID, held)
	}
	// The child was spawned with the MU as its Authority, and the parent told after it.
	note := f.messagesOf(parent)
	if len(note) != 1 {
		t.Fatalf("parent schedule holds %d messages, want the Spawned notice", len(note))
	}
	child, _ := note[0].Tag("Process")
	if a, _ := note[0].Tag("Action"); a != "Spawned" || child == "" {
		t.Fatalf("notice %v", note[0].Tags)
	}
	p, cit, err := f.su.Process(context.Background(), child)
	if err != nil {
		t.Fatalf("child %s not scheduled: %v", child, err)
	}
	if auth, _ := cit.Tag("Authority"); auth != f.muW.Address() || p.Scheduler != f.su.Address() {
		t.Fatalf("child Authority %q, scheduler %s", auth, p.Scheduler)
	}
	if fp, _ := cit.Tag("From-Process"); fp != parent {
		t.Fatalf("child From-Process %q", fp)
	}
}

// The pushes from one process to one target arrive in the order they were emitted even when the first has to
// be tried again; a push to another target does not wait for them.
func TestPushOrderPerTarget(t *testing.T) {
	f := newFixture(t, time.Minute)
	slow, other := id(4), id(5)
	f.net.remote[slow], f.net.remote[other] = "http://other-su", "http://third-su"
	f.net.failing["n0"] = 3
	pid := f.spawn(nil)
	f.drained()
	f.cancel() // queue the three results' cranks while the crank is stopped, so they run back to back
	for i := range 3 {
		m, err := f.user.Sign([]byte(" "), pid, "", []bundler.Tag{{Name: "Data-Protocol", Value: "ao"}, {Name: "Type", Value: "Message"}})
		if err != nil {
			t.Fatal(err)
		}
		out := []aos.OutMessage{msg(slow, fmt.Sprintf("n%d", i))}
		if i == 0 {
			out = append(out, msg(other, "elsewhere"))
		}
		f.cu.set(pid, m.ID, &aos.Result{Messages: out})
		if _, err := f.mu.Send(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	f.mu.Start(ctx) // as after a restart: the queued cranks are found in the store
	f.cancel = func() { cancel(); f.mu.Wait() }
	f.drained()
	got := strings.Join(f.net.accepted(), " ")
	if got != "elsewhere n0 n1 n2" {
		t.Fatalf("accepted %q, want the other target first and n0 n1 n2 in order", got)
	}
}

// A process's queued cranks run together and end in one transaction; when the result of one of them cannot be
// read, the ones before it are finished, it is tried again, and the ones after it wait for it: every push still
// goes out once, in nonce order.
func TestCrankRunStopsAtAFailure(t *testing.T) {
	f := newFixture(t, time.Minute)
	target := id(6)
	f.net.remote[target] = "http://other-su"
	pid := f.spawn(nil)
	f.drained()
	f.cancel() // queue the cranks while the crank is stopped, so they are one run
	const n = 8
	for i := range n {
		m, err := f.user.Sign([]byte(" "), pid, "", []bundler.Tag{{Name: "Data-Protocol", Value: "ao"}, {Name: "Type", Value: "Message"}})
		if err != nil {
			t.Fatal(err)
		}
		f.cu.set(pid, m.ID, &aos.Result{Messages: []aos.OutMessage{msg(target, fmt.Sprintf("n%d", i))}})
		if i == 3 {
			f.cu.mu.Lock()
			f.cu.fail[pid+"/"+m.ID] = 2
			f.cu.mu.Unlock()
		}
		if _, err := f.mu.Send(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	before := f.mu.Stats()
	ctx, cancel := context.WithCancel(context.Background())
	f.mu.Start(ctx)
	f.cancel = func() { cancel(); f.mu.Wait() }
	f.drained()
	want := make([]string, n)
	for i := range want {
		want[i] = fmt.Sprintf("n%d", i)
	}
	if got := strings.Join(f.net.accepted(), " "); got != strings.Join(want, " ") {
		t.Fatalf("accepted %q, want %q", got, strings.Join(want, " "))
	}
	st := f.mu.Stats()
	if st.Cranked-before.Cranked != n || st.Retries-before.Retries != 2 || st.Failed != 0 {
		t.Fatalf("stats %+v (before %+v): want %d cranks, 2 retries, none failed", st, before, n)
	}
}

// The crank reads a process's owner and module from its spawn once, and from then on from memory: the same
// answer the spawn gives. An unknown process is an error and is not remembered.
func TestCrankKeepsProcessInfo(t *testing.T) {
	f := newFixture(t, time.Second)
	pid := f.spawn(nil)
	f.drained()
	ctx := context.Background()
	p, pit, err := f.su.Process(ctx, pid)
	if err != nil {
		t.Fatal(err)
	}
	module, _ := pit.Tag("Module")
	if module != f.moduleID || p.Owner != f.user.Address() {
		t.Fatalf("spawn: module %s owner %s", module, p.Owner)
	}
	info, ok := f.mu.procs.Get(pid)
	if !ok {
		t.Fatal("the crank of the spawn did not keep the process's info")
	}
	if info != (procInfo{owner: p.Owner, module: module}) {
		t.Fatalf("kept %+v, the spawn says owner %s module %s", info, p.Owner, module)
	}
	if got, err := f.mu.process(ctx, pid); err != nil || got != info {
		t.Fatalf("process: %+v %v", got, err)
	}
	if _, err := f.mu.process(ctx, id(9)); err == nil || f.mu.procs.Contains(id(9)) {
		t.Fatalf("unknown process: %v, kept %v", err, f.mu.procs.Contains(id(9)))
	}
}
