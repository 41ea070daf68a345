package explorer

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/aonode/aonode/bundler"
	"github.com/aonode/aonode/internal/fixture"
	"github.com/aonode/aonode/node/cu"
	"github.com/aonode/aonode/node/progress"
	"github.com/aonode/aonode/node/runtime"
	"github.com/aonode/aonode/node/runtime/aoslua"
	"github.com/aonode/aonode/node/store"
	"github.com/aonode/aonode/node/su"
)

var (
	walletsOnce sync.Once
	nodeW, user *bundler.Wallet
)

// wallets loads the node package's fixed test keys: generating RSA-4096 keys takes seconds, which would
// stall every fuzzing worker.
func wallets(t testing.TB) {
	walletsOnce.Do(func() {
		for file, w := range map[string]**bundler.Wallet{"fuzz-node-wallet.json": &nodeW, "fuzz-user-wallet.json": &user} {
			jwk, err := os.ReadFile(filepath.Join("..", "testdata", file))
			if err != nil {
				t.Fatal(err)
			}
			if *w, err = bundler.NewWallet(jwk); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// env is a store, an SU and a CU (no MU) with the explorer on them, served by httptest.
type env struct {
	t      testing.TB
	db     *store.DB
	su     *su.Service
	cu     *cu.Service
	x      *Explorer
	srv    *httptest.Server
	module string
	prog   *progress.Tracker
}

func newEnv(t testing.TB, wrap func(Store) Store) *env {
	wallets(t)
	db, err := store.Open(filepath.Join(t.TempDir(), "node.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	e := &env{t: t, db: db, prog: progress.New()}
	e.su = su.New(su.Config{Signer: nodeW, Store: db, Heights: fixture.Height(7)})
	e.cu = cu.New(cu.Config{Signer: nodeW, Scheduler: e.su, Modules: fixture.StoreModules{DB: db}, Store: db})
	rt, err := aoslua.Current()
	if err != nil {
		t.Fatal(err)
	}
	tags := []bundler.Tag{{Name: "Data-Protocol", Value: "ao"}, {Name: "Type", Value: "Module"}}
	for _, tg := range runtime.ModuleTags(rt, rt.DefaultLimits()) {
		tags = append(tags, bundler.Tag{Name: tg.Name, Value: tg.Value})
	}
	mod, err := nodeW.Sign([]byte("-- aos"), "", "", tags)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.PutItem(context.Background(), mod.ID, mod.Raw, false); err != nil {
		t.Fatal(err)
	}
	e.module = mod.ID
	var st Store = db
	if wrap != nil {
		st = wrap(db)
	}
	e.x, err = New(Options{SU: e.su, CU: e.cu, Store: st, Progress: e.prog, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), PageSize: 3})
	if err != nil {
		t.Fatal(err)
	}
	e.x.SetInfo(Info{Wallet: nodeW.Address(), Module: mod.ID, Scheduler: nodeW.Address(), Gateway: "http://gateway.test", Explorer: "http://explorer.test"})
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	e.x.Routes(r)
	e.srv = httptest.NewServer(r)
	t.Cleanup(e.srv.Close)
	return e
}

func tag(name, value string) bundler.Tag { return bundler.Tag{Name: name, Value: value} }

func (e *env) send(target, data string, tags ...bundler.Tag) *bundler.Item {
	e.t.Helper()
	typ := "Message"
	if target == "" {
		typ = "Process"
		tags = append(tags, tag("Module", e.module), tag("Scheduler", e.su.Address()))
	}
	tags = append(tags, tag("Data-Protocol", "ao"), tag("Type", typ))
	it, err := user.Sign([]byte(data), target, "", tags)
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.su.Write(context.Background(), it); err != nil {
		e.t.Fatal(err)
	}
	return it
}

func (e *env) get(path string) (int, string) {
	e.t.Helper()
	res, err := http.Get(e.srv.URL + path)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// kvProcess is the tutorial's process: spawned with a Name and a cron, the kv store loaded, a Set, and a Set
// that fails. Everything is evaluated.
type kvProcess struct {
	pid, eval, set, bad string
}

func (e *env) kv() kvProcess {
	e.t.Helper()
	p := e.send("", "", tag("Name", "kv-explorer"), tag("Cron-Interval", "1-hour"), tag("Cron-Tag-Action", "Tick"))
	k := kvProcess{pid: p.ID}
	k.eval = e.send(p.ID, fixture.KVStore, tag("Action", "Eval")).ID
	k.set = e.send(p.ID, " ", tag("Action", "Set"), tag("Key", "test"), tag("Value", "abc")).ID
	k.bad = e.send(p.ID, " ", tag("Action", "Set"), tag("Key", "nope")).ID
	if _, err := e.cu.Load(context.Background(), p.ID); err != nil {
		e.t.Fatal(err)
	}
	return k
}

func TestPages(t *testing.T) {
	e := newEnv(t, nil)
	k := e.kv()
	other := e.send("", "", tag("Name", "second")).ID
	missing := otherID(k.pid)
	for _, c := range []struct {
		name, path string
		status     int
		want       []string
		not        []string
	}{
		{"overview", "/", 200, []string{"This node", nodeW.Address(), e.module, "block 7", "Upload queue", "pending", "kv-explorer", "second"}, nil},
		{"processes newest first", "/processes", 200, []string{"kv-explorer", "second"}, nil},
		{"search by name", "/processes?q=KV-EXP", 200, []string{"kv-explorer"}, []string{">second<"}},
		{"search by owner", "/processes?q=" + user.Address(), 200, []string{"kv-explorer", "second"}, nil},
		{"search finds nothing", "/processes?q=nothing-like-this", 200, []string{"No processes."}, nil},
		{"bad list cursor", "/processes?from=zzz", 400, []string{"Bad page"}, nil},
		{"process", "/process/" + k.pid, 200, []string{
			"kv-explorer", "nonce <b id=\"head-nonce\">3</b>", "Cron-Interval", "1-hour", "Value stored!", "Value is required!",
			`class="entry failed"`, "Console", `data-live="true"`, user.Address(),
		}, nil},
		{"process, an older page", "/process/" + k.pid + "?before=1", 200, []string{"<i>spawn</i>", "← Newer"}, []string{"Value stored!", `data-live="true"`}},
		{"process, bad page", "/process/" + k.pid + "?before=x", 400, []string{"is not a nonce"}, nil},
		{"message: the Set with its result", "/message/" + k.set, 200, []string{"Value stored!", "Key", "test", "abc", "Assignment", "pending"}, nil},
		{"message: the failed Set's error", "/message/" + k.bad + "?process=" + k.pid, 200, []string{"Value is required!", `class="error"`}, nil},
		{"message: the Eval's data", "/message/" + k.eval, 200, []string{"Handlers.add(&#34;Get&#34;"}, nil},
		{"an assignment goes to its message", "/message/" + mustEntry(t, e, k.pid, k.set).AssignmentID, 200, []string{"Value stored!"}, nil},
		{"a process id as a message goes to the process", "/message/" + other, 200, []string{"second"}, nil},
		{"the module", "/message/" + e.module, 200, []string{"Module", "Runtime-Version"}, nil},
		{"search by id goes to the process", "/processes?q=" + k.pid, 200, []string{"kv-explorer", "Console"}, nil},
		{"search by message id goes to the message", "/processes?q=" + k.set, 200, []string{"Value stored!"}, nil},
		{"uploads", "/uploads", 200, []string{"Upload queue", k.pid[:6], "<th>Waiting</th>", `<span class="up pending">`}, nil},
		{"uploads, all", "/uploads?status=all", 200, []string{k.set[:6]}, nil},
		{"uploads, bad filter", "/uploads?status=lost", 400, []string{"Bad filter"}, nil},
		{"uploads, bad page", "/uploads?after=-1", 400, []string{"Bad page"}, nil},
		{"unknown process", "/process/" + missing, 404, []string{"404", "not held by this node"}, nil},
		{"malformed process id", "/process/not-an-id", 400, []string{"is not a process id"}, nil},
		{"unknown message", "/message/" + missing, 404, []string{"not held by this node", "http://gateway.test/" + missing}, nil},
		{"unknown message in a process", "/message/" + missing + "?process=" + k.pid, 404, []string{"not held by this node"}, nil},
		{"malformed message id", "/message/%3Cscript%3E", 400, []string{"&#34;&lt;script&gt;&#34; is not a message id"}, []string{"<script>"}},
		{"unknown page", "/nowhere", 404, []string{"Page not found", "/nowhere"}, nil},
		{"assets", "/assets/explorer.css", 200, []string{".ansi-fg1"}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			status, body := e.get(c.path)
			if status != c.status {
				t.Fatalf("GET %s: %d, want %d\n%s", c.path, status, c.status, body)
			}
			for _, w := range c.want {
				if !strings.Contains(body, w) {
					t.Errorf("GET %s lacks %q", c.path, w)
				}
			}
			for _, n := range c.not {
				if strings.Contains(body, n) {
					t.Errorf("GET %s has %q", c.path, n)
				}
			}
			if strings.Contains(body, "goroutine ") || strings.Contains(body, ".go:") {
				t.Errorf("GET %s shows a stack trace", c.path)
			}
		})
	}
}

func mustEntry(t *testing.T, e *env, pid, id string) *store.Entry {
	t.Helper()
	en, err := e.db.EntryByID(context.Background(), pid, id)
	if err != nil {
		t.Fatal(err)
	}
	return en
}

func (e *env) post(path string, form url.Values) (int, map[string]any) {
	e.t.Helper()
	res, err := http.PostForm(e.srv.URL+path, form)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		e.t.Fatal(err)
	}
	return res.StatusCode, out
}

func TestConsole(t *testing.T) {
	e := newEnv(t, nil)
	k := e.kv()
	path := "/api/process/" + k.pid + "/dry-run"
	for _, c := range []struct {
		name   string
		form   url.Values
		status int
		want   []string
		failed bool
	}{
		{"Lua: an expression, coloured as aos prints it", url.Values{"mode": {"lua"}, "code": {"Store"}}, 200,
			[]string{`class="output"`, "test", "abc", `class="ansi-`}, false},
		{"Lua: an error is highlighted", url.Values{"mode": {"lua"}, "code": {"error('boom')"}}, 200, []string{`class="error"`, "boom"}, true},
		{"message: Get answers from the state", url.Values{"mode": {"message"}, "action": {"Get"}, "tags": {"Key=test"}}, 200,
			[]string{"Message", "Value", "abc"}, false},
		{"message: tags only", url.Values{"mode": {"message"}, "tags": {"Action = Get\n\nKey=test"}}, 200, []string{"abc"}, false},
		{"message: a failing handler", url.Values{"mode": {"message"}, "action": {"Get"}}, 200, []string{"Key is required!"}, true},
		{"no code", url.Values{"mode": {"lua"}, "code": {"  "}}, 400, []string{"type a Lua expression"}, false},
		{"bad tags", url.Values{"mode": {"message"}, "action": {"Get"}, "tags": {"Key"}}, 400, []string{`"Key" is not Name=Value`}, false},
		{"no tags", url.Values{"mode": {"message"}}, 400, []string{"needs an Action"}, false},
		{"bad mode", url.Values{"mode": {"shell"}}, 400, []string{`mode must be`}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			status, out := e.post(path, c.form)
			if status != c.status {
				t.Fatalf("%d %v, want %d", status, out, c.status)
			}
			text := fmtAny(out["html"]) + fmtAny(out["error"])
			for _, w := range c.want {
				if !strings.Contains(text, w) {
					t.Errorf("answer lacks %q: %s", w, text)
				}
			}
			if status == 200 && out["failed"] != c.failed {
				t.Errorf("failed = %v, want %v", out["failed"], c.failed)
			}
		})
	}
	// A dry-run keeps nothing: the schedule is unchanged and a Set in the console is not stored.
	e.post(path, url.Values{"mode": {"message"}, "action": {"Set"}, "tags": {"Key=dry\nValue=run"}})
	_, out := e.post(path, url.Values{"mode": {"message"}, "action": {"Get"}, "tags": {"Key=dry"}})
	if strings.Contains(fmtAny(out["html"]), "run") {
		t.Fatalf("a console Set was kept: %v", out)
	}
	if h, _ := e.db.Head(context.Background(), k.pid); h.Nonce != 3 {
		t.Fatalf("head %d after dry-runs, want 3", h.Nonce)
	}
	missing := otherID(k.pid)
	if status, out := e.post("/api/process/"+missing+"/dry-run", url.Values{"mode": {"lua"}, "code": {"1"}}); status != 404 {
		t.Fatalf("console on an unknown process: %d %v", status, out)
	}
}

// otherID is a well-formed id that is not id: its first character changed. (Always putting "A" first made
// the id of a process whose own id starts with "A", one in 64, the process itself.)
func otherID(id string) string {
	if id[0] == 'A' {
		return "B" + id[1:]
	}
	return "A" + id[1:]
}

func fmtAny(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return ""
}

func TestLiveUpdates(t *testing.T) {
	e := newEnv(t, nil)
	k := e.kv()
	since := func(after string) (int, map[string]any) {
		res, err := http.Get(e.srv.URL + "/api/process/" + k.pid + "/since?after=" + after)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var out map[string]any
		if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
			t.Fatal(err)
		}
		return res.StatusCode, out
	}
	status, out := since("3")
	if status != 200 || out["head"] != 3.0 || len(out["rows"].([]any)) != 0 || out["evaluated"] != 3.0 {
		t.Fatalf("nothing new: %d %v", status, out)
	}
	// A new message shows up, first not evaluated, then with its result.
	set2 := e.send(k.pid, " ", tag("Action", "Set"), tag("Key", "k2"), tag("Value", "v2"))
	_, out = since("3")
	rows := out["rows"].([]any)
	if len(rows) != 1 {
		t.Fatalf("rows %v", rows)
	}
	row := rows[0].(map[string]any)
	if row["nonce"] != 4.0 || row["evaluated"] != false || !strings.Contains(row["html"].(string), set2.ID) ||
		!strings.Contains(row["html"].(string), "not evaluated yet") {
		t.Fatalf("new row %v", row)
	}
	if _, err := e.cu.Load(context.Background(), k.pid); err != nil {
		t.Fatal(err)
	}
	// The page asks again for the row it shows as not evaluated.
	_, out = since("4&pending=4")
	row = out["rows"].([]any)[0].(map[string]any)
	if row["evaluated"] != true || !strings.Contains(row["html"].(string), "Value stored!") || out["evaluated"] != 4.0 {
		t.Fatalf("evaluated row %v", out)
	}
	// Work in progress on the process is in the answer.
	job := e.prog.Start("evaluate", k.pid, "evaluating", "messages", 10)
	job.Set(4)
	_, out = since("4")
	jobs := out["progress"].([]any)
	if len(jobs) != 1 || !strings.Contains(jobs[0].(map[string]any)["line"].(string), "evaluating 4/10 messages") {
		t.Fatalf("progress %v", jobs)
	}
	job.End()
	if status, out := since("-1"); status != 200 || len(out["rows"].([]any)) != 5 {
		t.Fatalf("from the start: %d %v", status, out)
	}
	for _, bad := range []string{"x", "-2", "", "4&pending=x", "4&pending=-1", "4&pending=" + strings.Repeat("1,", 60) + "1"} {
		if status, _ := since(bad); status != 400 {
			t.Errorf("after=%q: %d, want 400", bad, status)
		}
	}
	res, err := http.Get(e.srv.URL + "/api/process/" + otherID(k.pid) + "/since?after=0")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 404 {
		t.Fatalf("unknown process: %d", res.StatusCode)
	}
}

// panicky is a store whose reads panic: the explorer must answer its error page, not a stack trace.
type panicky struct{ Store }

func (panicky) ProcessCount(context.Context) (int, error) { panic("the disk caught fire") }

func TestPanicGivesTheErrorPage(t *testing.T) {
	e := newEnv(t, func(s Store) Store { return panicky{s} })
	status, body := e.get("/")
	if status != 500 || !strings.Contains(body, "Something went wrong") || strings.Contains(body, "caught fire") || strings.Contains(body, "goroutine") {
		t.Fatalf("%d %s", status, body)
	}
}

// failing is a store whose reads fail with text that names the host: it must reach the log, not the client.
type failing struct{ Store }

const hostDetail = "open /var/lib/aonode/secret.db: input/output error"

func (failing) Head(context.Context, string) (*store.Head, error) { return nil, errors.New(hostDetail) }
func (failing) ProcessCount(context.Context) (int, error)         { return 0, errors.New(hostDetail) }

func TestInternalErrorsStayInTheLog(t *testing.T) {
	e := newEnv(t, func(s Store) Store { return failing{s} })
	pid := strings.Repeat("A", 43)
	for _, path := range []string{"/api/process/" + pid + "/since?after=0", "/"} {
		status, body := e.get(path)
		if status != http.StatusInternalServerError || strings.Contains(body, "secret.db") || !strings.Contains(body, "internal error") && !strings.Contains(body, "logged why") {
			t.Fatalf("%s: %d %s", path, status, body)
		}
	}
}
