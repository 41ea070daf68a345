package cu

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aonode/aonode/bundler"
	"github.com/aonode/aonode/internal/fixture"
	"github.com/aonode/aonode/node/runtime"
	"github.com/aonode/aonode/node/runtime/aoslua"
	"github.com/aonode/aonode/node/store"
	"github.com/aonode/aonode/node/su"
)

var (
	walletsOnce sync.Once
	nodeW, user *bundler.Wallet
	otherUser   *bundler.Wallet
)

func wallets(t testing.TB) {
	walletsOnce.Do(func() {
		for _, w := range []**bundler.Wallet{&nodeW, &user, &otherUser} {
			jwk, err := bundler.GenerateJWK()
			if err != nil {
				t.Fatal(err)
			}
			if *w, err = bundler.NewWallet(jwk); err != nil {
				t.Fatal(err)
			}
		}
	})
}

type env struct {
	t        testing.TB
	db       *store.DB
	su       *su.Service
	cu       *Service
	module   string
	path     string
	runtimes *runtime.Set // the CU's runtimes (nil: its default), kept across restarts
	// authority is what the SU names on spawns' assignments (its SpawnAuthority), kept across restarts.
	authority string
}

func newEnv(t testing.TB) *env {
	wallets(t)
	path := filepath.Join(t.TempDir(), "node.db")
	e := &env{t: t, path: path}
	e.open()
	e.useModule(runtime.Limits{})
	return e
}

// moduleTags are the tags of a module of rt with limits (zero fields: rt's defaults).
func moduleTags(rt runtime.Runtime, limits runtime.Limits) []bundler.Tag {
	def := rt.DefaultLimits()
	if limits.Compute == 0 {
		limits.Compute = def.Compute
	}
	if limits.Memory == 0 {
		limits.Memory = def.Memory
	}
	tags := []bundler.Tag{{Name: "Data-Protocol", Value: "ao"}, {Name: "Type", Value: "Module"},
		{Name: "Input-Encoding", Value: "JSON-1"}, {Name: "Output-Encoding", Value: "JSON-1"}}
	for _, t := range runtime.ModuleTags(rt, limits) {
		tags = append(tags, bundler.Tag{Name: t.Name, Value: t.Value})
	}
	return tags
}

// addModule stores a module with these tags and returns its id.
func (e *env) addModule(tags []bundler.Tag) string {
	e.t.Helper()
	mod, err := nodeW.Sign([]byte("-- aos"), "", "", tags)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.db.PutItem(context.Background(), mod.ID, mod.Raw, false); err != nil {
		e.t.Fatal(err)
	}
	return mod.ID
}

// useModule makes the processes spawned next run the current aos-lua runtime under limits.
func (e *env) useModule(limits runtime.Limits) {
	e.t.Helper()
	rt, err := aoslua.Current()
	if err != nil {
		e.t.Fatal(err)
	}
	e.module = e.addModule(moduleTags(rt, limits))
}

func (e *env) open() {
	db, err := store.Open(e.path)
	if err != nil {
		e.t.Fatal(err)
	}
	e.db = db
	e.su = su.New(su.Config{Signer: nodeW, Store: db, Heights: fixture.Height(7), SpawnAuthority: e.authority})
	e.cu = New(Config{Signer: nodeW, Scheduler: e.su, Modules: fixture.StoreModules{DB: db}, Store: db})
	if e.runtimes != nil {
		e.cu.setRuntimes(e.runtimes)
	}
}

// restart drops every in-memory VM: a new CU on the same store, as after a node restart.
func (e *env) restart() {
	e.db.Close()
	e.open()
}

func (e *env) send(w *bundler.Wallet, target string, data string, tags ...bundler.Tag) *bundler.Item {
	e.t.Helper()
	typ := "Message"
	if target == "" {
		typ = "Process"
	}
	tags = append(tags, bundler.Tag{Name: "Data-Protocol", Value: "ao"}, bundler.Tag{Name: "Type", Value: typ})
	if typ == "Process" {
		tags = append(tags, bundler.Tag{Name: "Module", Value: e.module}, bundler.Tag{Name: "Scheduler", Value: e.su.Address()})
	}
	it, err := w.Sign([]byte(data), target, "", tags)
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.su.Write(context.Background(), it); err != nil {
		e.t.Fatal(err)
	}
	return it
}

func (e *env) result(pid, id string) map[string]any {
	e.t.Helper()
	raw, err := e.cu.Result(context.Background(), pid, id)
	if err != nil {
		e.t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		e.t.Fatal(err)
	}
	return out
}

func tag(name, value string) bundler.Tag { return bundler.Tag{Name: name, Value: value} }

func (e *env) spawnKV() string {
	p := e.send(user, "", "")
	ev := e.send(user, p.ID, fixture.KVStore, tag("Action", "Eval"))
	if r := e.result(p.ID, ev.ID); r["Error"] != nil {
		e.t.Fatalf("eval: %v", r["Error"])
	}
	return p.ID
}

func (e *env) get(pid, key string) string {
	e.t.Helper()
	res, err := e.cu.DryRun(context.Background(), pid, DryRunRequest{Owner: "reader", Tags: toAOS(tag("Action", "Get"), tag("Key", key))})
	if err != nil {
		e.t.Fatal(err)
	}
	if len(res.Messages) != 1 {
		e.t.Fatalf("dry-run Get: %+v", res)
	}
	for _, t := range res.Messages[0].Tags {
		if t.Name == "Value" {
			return t.Value
		}
	}
	return ""
}

func TestTutorialFlowAndReplay(t *testing.T) {
	e := newEnv(t)
	pid := e.spawnKV()
	set := e.send(user, pid, " ", tag("Action", "Set"), tag("Key", "test"), tag("Value", "abc"))
	r := e.result(pid, set.ID)
	msgs := r["Messages"].([]any)
	if len(msgs) != 1 || msgs[0].(map[string]any)["Data"] != "Value stored!" || msgs[0].(map[string]any)["Target"] != user.Address() {
		t.Fatalf("Set result %v", r)
	}
	for _, k := range []string{"Messages", "Spawns", "Assignments"} {
		if _, ok := r[k].([]any); !ok {
			t.Fatalf("%s must be an array: %v", k, r)
		}
	}
	if got := e.get(pid, "test"); got != "abc" {
		t.Fatalf("Get = %q", got)
	}
	// The dry-run kept nothing: the next real message still gets reference 2 (its first send).
	bad := e.send(user, pid, " ", tag("Action", "Set"), tag("Key", "k"))
	if rb := e.result(pid, bad.ID); !strings.Contains(asString(rb["Error"]), "Value is required!") {
		t.Fatalf("want the assert text in Error, got %v", rb["Error"])
	}
	before, _ := e.cu.Result(context.Background(), pid, set.ID)

	e.restart()
	after, err := e.cu.Result(context.Background(), pid, set.ID)
	if err != nil || string(after) != string(before) {
		t.Fatalf("stored result changed across restart: %v", err)
	}
	if got := e.get(pid, "test"); got != "abc" {
		t.Fatalf("state after restart: Get = %q", got)
	}
	// Replayed state matches: a new message evaluates on the rebuilt VM.
	set2 := e.send(user, pid, " ", tag("Action", "Set"), tag("Key", "x"), tag("Value", "y"))
	if r := e.result(pid, set2.ID); r["Error"] != nil {
		t.Fatalf("after restart: %v", r["Error"])
	}
	if got := e.get(pid, "x"); got != "y" {
		t.Fatalf("Get x = %q", got)
	}
}

func asString(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func TestResultLookupKinds(t *testing.T) {
	e := newEnv(t)
	pid := e.spawnKV()
	ctx := context.Background()
	// The process id resolves to the spawn's own evaluation.
	if _, err := e.cu.Result(ctx, pid, pid); err != nil {
		t.Fatal(err)
	}
	set := e.send(user, pid, " ", tag("Action", "Set"), tag("Key", "a"), tag("Value", "b"))
	sc, err := e.su.Lookup(ctx, pid, set.ID)
	if err != nil {
		t.Fatal(err)
	}
	byMsg, _ := e.cu.Result(ctx, pid, set.ID)
	byAsg, err := e.cu.Result(ctx, pid, sc.AssignmentID)
	if err != nil || string(byMsg) != string(byAsg) {
		t.Fatalf("assignment id must give the message's result: %v", err)
	}
	for _, c := range []struct{ pid, id string }{{pid, bundler.B64(make([]byte, 32))}, {bundler.B64(make([]byte, 32)), pid}} {
		_, err := e.cu.Result(ctx, c.pid, c.id)
		var ce *Error
		if !errors.As(err, &ce) || ce.Status != 404 {
			t.Fatalf("unknown %s/%s: want 404, got %v", c.pid, c.id, err)
		}
	}
}

func TestFromProcessNeedsTrustedSigner(t *testing.T) {
	e := newEnv(t)
	pid := e.spawnKV()
	victim := e.spawnKV()
	// A user claims to be the victim process; the CU must not believe it.
	spoof := e.send(otherUser, pid, " ", tag("Action", "Set"), tag("Key", "k"), tag("Value", "v"), tag("From-Process", victim))
	r := e.result(pid, spoof.ID)
	if tgt := r["Messages"].([]any)[0].(map[string]any)["Target"]; tgt != otherUser.Address() {
		t.Fatalf("reply went to %v; From must be the signer %s", tgt, otherUser.Address())
	}
	// The node's own MU wallet is trusted to speak for a process.
	pushed := e.send(nodeW, pid, " ", tag("Action", "Set"), tag("Key", "k2"), tag("Value", "v"), tag("From-Process", victim))
	r = e.result(pid, pushed.ID)
	if tgt := r["Messages"].([]any)[0].(map[string]any)["Target"]; tgt != victim {
		t.Fatalf("reply went to %v, want the pushing process %s", tgt, victim)
	}
}

func TestResultsPaging(t *testing.T) {
	e := newEnv(t)
	pid := e.spawnKV()
	for _, v := range []string{"1", "2", "3", "4"} {
		e.send(user, pid, " ", tag("Action", "Set"), tag("Key", v), tag("Value", v))
	}
	ctx := context.Background()
	all, more, err := e.cu.Results(ctx, pid, ResultsQuery{Limit: 100})
	if err != nil || more {
		t.Fatal(err, more)
	}
	if len(all) != 6 { // spawn, eval, 4 sets
		t.Fatalf("%d results", len(all))
	}
	var got []Edge
	q := ResultsQuery{Limit: 2}
	for {
		page, more, err := e.cu.Results(ctx, pid, q)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, page...)
		if !more {
			break
		}
		c, err := parseCursor(page[len(page)-1].Cursor)
		if err != nil {
			t.Fatal(err)
		}
		q.From = c
	}
	if len(got) != len(all) {
		t.Fatalf("paging gave %d of %d", len(got), len(all))
	}
	for i := range got {
		if got[i].Cursor != all[i].Cursor {
			t.Fatalf("page order differs at %d", i)
		}
	}
	desc, _, _ := e.cu.Results(ctx, pid, ResultsQuery{Limit: 100, Desc: true})
	if len(desc) != len(all) {
		t.Fatalf("desc %d", len(desc))
	}
	last, _ := parseCursor(all[len(all)-1].Cursor)
	if last.Sort != "ASC" {
		t.Fatalf("cursor sort %q", last.Sort)
	}
	to, _ := parseCursor(all[2].Cursor)
	upTo, _, _ := e.cu.Results(ctx, pid, ResultsQuery{Limit: 100, To: to})
	if len(upTo) != 3 {
		t.Fatalf("to is inclusive: got %d, want 3", len(upTo))
	}
}

func TestCronsInterleaveDeterministically(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p := e.send(user, "", "", tag("Cron-Interval", "1-second"), tag("Cron-Tag-Action", "Cron"))
	ev := e.send(user, p.ID, `Ticks = 0
Handlers.add("tick", Handlers.utils.hasMatchingTag("Action", "Cron"), function (msg) Ticks = Ticks + 1 end)
Handlers.add("count", Handlers.utils.hasMatchingTag("Action", "Count"), function (msg) msg.reply({ Data = tostring(Ticks) }) end)`, tag("Action", "Eval"))
	if r := e.result(p.ID, ev.ID); r["Error"] != nil {
		t.Fatalf("eval: %v", r["Error"])
	}
	proc, _ := e.db.GetProcess(ctx, p.ID)
	until := (proc.Timestamp/1000+3)*1000 + 500 // ticks are whole seconds after the spawn's second
	crons, err := e.cu.Crons(ctx, p.ID, 0, until)
	if err != nil {
		t.Fatal(err)
	}
	if len(crons) != 3 {
		t.Fatalf("%d cron ticks in 3.5 s, want 3", len(crons))
	}
	count := func() string {
		res, err := e.cu.DryRun(ctx, p.ID, DryRunRequest{Owner: "x", Tags: toAOS(tag("Action", "Count"))})
		if err != nil {
			t.Fatal(err)
		}
		return res.Messages[0].Data
	}
	// Ticks before the Eval's timestamp ran before the handler existed (a slow machine may cross a second
	// between the spawn and the Eval); every later one counted, in order.
	evalEntry, err := e.db.EntryByID(ctx, p.ID, ev.ID)
	if err != nil {
		t.Fatal(err)
	}
	after := 0
	for _, c := range crons {
		if c.Tick > evalEntry.Timestamp {
			after++
		}
	}
	want := fmt.Sprint(after)
	if c := count(); c != want || after < 2 {
		t.Fatalf("Ticks = %s, want %s (ticks after the Eval)", c, want)
	}
	// Again: nothing new runs for the same window.
	again, _ := e.cu.Crons(ctx, p.ID, 0, until)
	if len(again) != 3 || count() != want {
		t.Fatalf("crons are evaluated once")
	}
}

func toAOS(ts ...bundler.Tag) []runtime.Tag { return runtimeTags(ts) }

// Requests naming processes this CU does not hold get a 404 and leave nothing behind: the map of processes
// does not grow with unknown ids.
func TestUnknownProcessesLeaveNoEntry(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for i := 0; i < 50; i++ {
		pid := fmt.Sprintf("UNKNOWN%036d", i)
		if _, err := e.cu.DryRun(ctx, pid, DryRunRequest{Owner: "x"}); err == nil {
			t.Fatalf("dry-run of an unknown process answered")
		}
		if _, _, _, _, err := e.cu.State(ctx, pid); err == nil {
			t.Fatal("state of an unknown process answered")
		}
		if _, _, err := e.cu.Results(ctx, pid, ResultsQuery{Limit: 10}); err == nil {
			t.Fatal("results of an unknown process answered")
		}
		if _, err := e.cu.Crons(ctx, pid, 0, 1); err == nil {
			t.Fatal("crons of an unknown process answered")
		}
	}
	e.cu.mu.Lock()
	n := len(e.cu.procs)
	e.cu.mu.Unlock()
	if n != 0 {
		t.Fatalf("%d process entries after requests for unknown ids", n)
	}
}

// pagedScheduler hands out at most page entries per Load and cancels the evaluation's context at the Load after
// cancelAt entries were handed out (0: never), as a client that goes away mid-evaluation does.
type pagedScheduler struct {
	*su.Service
	page, cancelAt int
	cancel         context.CancelFunc
	handed, loads  int
}

func (s *pagedScheduler) Load(ctx context.Context, pid string, from, to int64, limit int) ([]su.Scheduled, error) {
	s.loads++
	if s.cancelAt > 0 && s.handed >= s.cancelAt {
		s.cancel()
		return nil, ctx.Err()
	}
	out, err := s.Service.Load(ctx, pid, from, to, min(limit, s.page))
	s.handed += len(out)
	return out, err
}

// TestResultsKeptWhenRequesterGoes: an evaluation reading its schedule in several batches stores every result
// it evaluated, also when the request that started it goes away half-way (its results are not lost, to be
// replayed from the spawn later).
func TestResultsKeptWhenRequesterGoes(t *testing.T) {
	for _, tc := range []struct {
		name     string
		cancelAt int
	}{{"complete", 0}, {"requester gone after 4", 4}} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			pid := e.spawnKV()
			const sets = 9
			for i := range sets {
				e.send(user, pid, "", tag("Action", "Set"), tag("Key", fmt.Sprint("k", i)), tag("Value", "v"))
			}
			e.restart()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			sched := &pagedScheduler{Service: e.su, page: 2, cancelAt: tc.cancelAt, cancel: cancel}
			c := New(Config{Signer: nodeW, Scheduler: sched, Modules: fixture.StoreModules{DB: e.db}, Store: e.db})
			n, err := c.Load(ctx, pid)
			want := int64(1 + sets) // spawn at 0, Eval at 1, then the Sets
			if tc.cancelAt > 0 {
				want = int64(tc.cancelAt) - 1
				if err == nil {
					t.Fatal("cancelled evaluation reported no error")
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if n != want {
				t.Fatalf("evaluated to nonce %d, want %d", n, want)
			}
			if sched.loads < 2 {
				t.Fatalf("%d loads: the case needs several batches", sched.loads)
			}
			last, err := e.db.LastResultNonce(context.Background(), pid)
			if err != nil || last != n {
				t.Fatalf("last stored result %d (%v), want every evaluated one up to %d", last, err, n)
			}
		})
	}
}

// TestResultReadsAhead: reading a result evaluates the messages scheduled right after it in the same pass (up
// to readAhead), so their readers find them stored; further ones wait for their own reads.
func TestResultReadsAhead(t *testing.T) {
	e := newEnv(t)
	pid := e.spawnKV() // nonces 0 and 1
	var sets []*bundler.Item
	for i := range 4 {
		sets = append(sets, e.send(user, pid, "", tag("Action", "Set"), tag("Key", fmt.Sprint("k", i)), tag("Value", "v")))
	}
	if r := e.result(pid, sets[0].ID); r["Error"] != nil {
		t.Fatal(r["Error"])
	}
	last, err := e.db.LastResultNonce(context.Background(), pid)
	if err != nil || last != 5 {
		t.Fatalf("after reading nonce 2, results stored up to %d (%v), want 5", last, err)
	}
}
