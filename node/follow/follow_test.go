package follow

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/aonode/aonode/bundler"
	"github.com/aonode/aonode/node/httpx"
	"github.com/aonode/aonode/node/store"
	"github.com/aonode/aonode/node/su"
)

type fixedHeight int64

func (h fixedHeight) Height(context.Context) (int64, error) { return int64(h), nil }

func wallet(t *testing.T, name string) *bundler.Wallet {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	w, err := bundler.NewWallet(b)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func openDB(t *testing.T) *store.DB {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// fixture is a real SU with a process, served over HTTP through a filter that can change its answers (a lying
// or broken SU).
type fixture struct {
	t          *testing.T
	sched      *su.Service
	suDB       *store.DB
	user, suW  *bundler.Wallet
	pid        string
	srv        *httptest.Server
	tamper     func(pg map[string]any)
	mu         sync.Mutex
	requestIDs []string // X-Request-Id of each request the SU got
	msgs       []*bundler.Item
	fromGW     map[string]*bundler.Item // what the "gateway" gives back
	gwRequests int
}

func newFixture(t *testing.T) *fixture {
	gin.SetMode(gin.ReleaseMode)
	f := &fixture{t: t, suDB: openDB(t), user: wallet(t, "fuzz-user-wallet.json"), suW: wallet(t, "fuzz-node-wallet.json"), fromGW: map[string]*bundler.Item{}}
	f.sched = su.New(su.Config{Signer: f.suW, Store: f.suDB, Heights: fixedHeight(7)})
	r := gin.New()
	f.sched.Routes(r, 10<<20)
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		f.mu.Lock()
		f.requestIDs = append(f.requestIDs, req.Header.Get("X-Request-Id"))
		f.mu.Unlock()
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, req)
		body := rec.Body.Bytes()
		if f.tamper != nil && rec.Code == http.StatusOK {
			var pg map[string]any
			if err := json.Unmarshal(body, &pg); err == nil {
				f.tamper(pg)
				body, _ = json.Marshal(pg)
			}
		}
		w.WriteHeader(rec.Code)
		w.Write(body)
	}))
	t.Cleanup(f.srv.Close)
	p := f.sign(f.user, nil, "", tag("Type", "Process"), tag("Module", "mod"), tag("Scheduler", f.suW.Address()))
	if _, err := f.sched.Write(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	f.pid = p.ID
	return f
}

func tag(n, v string) bundler.Tag { return bundler.Tag{Name: n, Value: v} }

func (f *fixture) sign(w *bundler.Wallet, data []byte, target string, tags ...bundler.Tag) *bundler.Item {
	f.t.Helper()
	if data == nil {
		data = []byte("data")
	}
	it, err := w.Sign(data, target, "", append([]bundler.Tag{tag("Data-Protocol", "ao"), tag("Variant", "ao.TN.1")}, tags...))
	if err != nil {
		f.t.Fatal(err)
	}
	return it
}

// send schedules n messages (data as given, or "m<i>").
func (f *fixture) send(data ...string) {
	f.t.Helper()
	for _, d := range data {
		it := f.sign(f.user, []byte(d), f.pid, tag("Type", "Message"), tag("Action", "Set"))
		if _, err := f.sched.Write(context.Background(), it); err != nil {
			f.t.Fatal(err)
		}
		f.msgs = append(f.msgs, it)
		f.fromGW[it.ID] = it
	}
}

func (f *fixture) Locate(context.Context, string) (string, error)          { return f.srv.URL, nil }
func (f *fixture) LocateScheduler(context.Context, string) (string, error) { return f.srv.URL, nil }
func (f *fixture) Item(_ context.Context, id string) (*bundler.Item, error) {
	f.gwRequests++
	if it, ok := f.fromGW[id]; ok {
		return it, nil
	}
	return nil, errors.New("not on the gateway")
}

func (f *fixture) follower(db *store.DB, pageSize int) *Follower {
	return New(db, f, f, "someone-else", Options{PageSize: pageSize})
}

// sameSchedule checks the follower holds exactly the SU's entries and items.
func (f *fixture) sameSchedule(db *store.DB) {
	f.t.Helper()
	ctx := context.Background()
	want, _ := f.suDB.Entries(ctx, f.pid, 0, -1, 0)
	got, err := db.Entries(ctx, f.pid, 0, -1, 0)
	if err != nil || len(got) != len(want) {
		f.t.Fatalf("follower holds %d entries (%v), the SU %d", len(got), err, len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			f.t.Fatalf("entry %d: %+v, want %+v", i, got[i], want[i])
		}
		for _, id := range []string{want[i].AssignmentID, want[i].MessageID} {
			a, _ := f.suDB.Item(ctx, id)
			b, err := db.Item(ctx, id)
			if err != nil || !bytes.Equal(a, b) {
				f.t.Fatalf("item %s differs from the SU's (%v)", id, err)
			}
		}
	}
}

func TestFollowsAndKeepsFollowing(t *testing.T) {
	f := newFixture(t)
	f.send("a", "b", "c", "d", "e")
	db := openDB(t)
	fl := f.follower(db, 2) // three pages
	ctx := context.Background()
	n, err := fl.Follow(httpx.ContextWithRequestID(ctx, "trace-1"), f.pid, true)
	if err != nil || n != 6 {
		t.Fatalf("first follow added %d (%v), want 6", n, err)
	}
	f.mu.Lock()
	ids := f.requestIDs
	f.mu.Unlock()
	if len(ids) != 3 || ids[0] != "trace-1" || ids[2] != "trace-1" {
		t.Fatalf("the SU saw request ids %q, want the reader's on every page", ids)
	}
	f.sameSchedule(db)
	p, err := db.GetProcess(ctx, f.pid)
	if err != nil || p.Scheduler != f.suW.Address() || p.Owner != f.user.Address() {
		t.Fatalf("process record %+v %v", p, err)
	}
	f.send("f", "g", "h")
	if n, err := fl.Follow(ctx, f.pid, true); err != nil || n != 3 {
		t.Fatalf("second follow added %d (%v), want 3", n, err)
	}
	f.sameSchedule(db)
	// Asked again at once without force: the copy is fresh enough, the SU is not asked.
	f.send("i")
	if n, err := fl.Follow(ctx, f.pid, false); err != nil || n != 0 {
		t.Fatalf("an unforced follow right after one added %d (%v)", n, err)
	}
	if n, err := fl.Follow(ctx, f.pid, true); err != nil || n != 1 {
		t.Fatalf("forced follow added %d (%v), want 1", n, err)
	}
	if f.gwRequests != 0 {
		t.Fatalf("text messages were fetched from the gateway %d times", f.gwRequests)
	}
	// This node's own processes are not followed, and the follower remembers them as its own.
	own := New(db, f, f, f.suW.Address(), Options{})
	for i := range 2 {
		if _, err := own.Follow(ctx, f.pid, true); !errors.Is(err, ErrNotFollowed) {
			t.Fatalf("own process, call %d: %v", i, err)
		}
	}
	if !own.state(f.pid).own.Load() {
		t.Fatal("the follower does not remember its own process")
	}
}

// A message whose data is not UTF-8 cannot be rebuilt from the SU's JSON view (it shows data as lossy text):
// its signed item comes from the gateway, verified.
func TestBinaryMessagesFromTheGateway(t *testing.T) {
	f := newFixture(t)
	f.send("text", string([]byte{0xff, 0xfe, 0x00, 0x80}))
	db := openDB(t)
	if n, err := f.follower(db, 100).Follow(context.Background(), f.pid, true); err != nil || n != 3 {
		t.Fatalf("added %d (%v)", n, err)
	}
	f.sameSchedule(db)
	if f.gwRequests != 1 {
		t.Fatalf("gateway asked %d times, want once (the binary message)", f.gwRequests)
	}
	// Not on the gateway either: refused, nothing of it written.
	f2 := newFixture(t)
	f2.send("ok", string([]byte{0xff, 0xfe}))
	delete(f2.fromGW, f2.msgs[1].ID)
	db2 := openDB(t)
	if _, err := f2.follower(db2, 100).Follow(context.Background(), f2.pid, true); err == nil {
		t.Fatal("a message neither the SU's view nor the gateway can give back was accepted")
	}
	if _, err := db2.Head(context.Background(), f2.pid); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a refused first page left entries behind: %v", err)
	}
}

// edges returns the edges of a page the filter sees.
func edges(pg map[string]any) []any { e, _ := pg["edges"].([]any); return e }

func node(e any, which string) map[string]any {
	n, _ := e.(map[string]any)["node"].(map[string]any)
	m, _ := n[which].(map[string]any)
	return m
}

func setTag(item map[string]any, name, value string) {
	for _, t := range item["tags"].([]any) {
		tm := t.(map[string]any)
		if tm["name"] == name {
			tm["value"] = value
		}
	}
}

// A lying or broken SU is refused, whatever it changes, and nothing of the bad page is kept.
func TestRefusesWhatDoesNotVerify(t *testing.T) {
	cases := []struct {
		name   string
		tamper func(f *fixture, pg map[string]any)
		want   string
	}{
		{"message data changed", func(f *fixture, pg map[string]any) {
			node(edges(pg)[2], "message")["data"] = "changed"
			delete(f.fromGW, f.msgs[1].ID)
		}, "message"},
		{"assignment nonce changed", func(f *fixture, pg map[string]any) {
			setTag(node(edges(pg)[1], "assignment"), "Nonce", "5")
		}, "assignment"},
		{"an edge left out", func(f *fixture, pg map[string]any) {
			pg["edges"] = append(edges(pg)[:1], edges(pg)[2:]...)
		}, "skips from nonce 0 to 2"},
		{"another message shown", func(f *fixture, pg map[string]any) {
			other := edges(pg)[2].(map[string]any)["node"].(map[string]any)["message"]
			edges(pg)[1].(map[string]any)["node"].(map[string]any)["message"] = other
		}, "but the SU shows message"},
		{"an assignment signed by someone else", func(f *fixture, pg map[string]any) {
			forged := f.forgeAssignment(f.user, pg, 1, "")
			edges(pg)[1].(map[string]any)["node"].(map[string]any)["assignment"] = forged
		}, "not the process's scheduler"},
		{"the scheduler's key with a broken hash chain", func(f *fixture, pg map[string]any) {
			forged := f.forgeAssignment(f.suW, pg, 1, bundler.B64(make([]byte, 32)))
			edges(pg)[1].(map[string]any)["node"].(map[string]any)["assignment"] = forged
		}, "does not link"},
		{"the first message is not the process", func(f *fixture, pg map[string]any) {
			pg["edges"] = edges(pg)[1:]
		}, "not a process"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			f.send("a", "b", "c")
			f.tamper = func(pg map[string]any) { c.tamper(f, pg) }
			db := openDB(t)
			_, err := f.follower(db, 100).Follow(context.Background(), f.pid, true)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an error saying %q", err, c.want)
			}
			if _, err := db.GetProcess(context.Background(), f.pid); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("the refused page was kept: %v", err)
			}
		})
	}
}

// forgeAssignment signs, with w, an assignment carrying edge i's tags (Hash-Chain replaced when chain is set)
// and returns it in the SU's JSON view.
func (f *fixture) forgeAssignment(w *bundler.Wallet, pg map[string]any, i int, chain string) map[string]any {
	f.t.Helper()
	var tags []bundler.Tag
	for _, t := range node(edges(pg)[i], "assignment")["tags"].([]any) {
		tm := t.(map[string]any)
		v := tm["value"].(string)
		if tm["name"] == "Hash-Chain" && chain != "" {
			v = chain
		}
		tags = append(tags, tag(tm["name"].(string), v))
	}
	it, err := w.Sign(nil, "", "", tags)
	if err != nil {
		f.t.Fatal(err)
	}
	return map[string]any{
		"id": it.ID, "owner": map[string]any{"address": it.OwnerAddress(), "key": it.Owner}, "data": "",
		"tags": tags, "signature": it.Signature, "anchor": nil, "target": "",
	}
}
