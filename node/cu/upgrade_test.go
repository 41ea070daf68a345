package cu

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/aonode/aonode/bundler"
	"github.com/aonode/aonode/node/runtime"
	"github.com/aonode/aonode/node/runtime/aoslua"
)

// The earlier release in these tests: the current Lua with one documented difference, process.lua's
// version "2.0.3" instead of "2.0.4" (shown in every prompt and by the version command).
const (
	frozenName    = "aos-lua/0"
	frozenVersion = `_version = "2.0.3"`
	currentVer    = `_version = "2.0.4"`
)

// frozenRuntime is the earlier release, made from node/aos/lua with the difference applied.
func frozenRuntime(t *testing.T) *aoslua.Runtime {
	t.Helper()
	files := fstest.MapFS{}
	err := fs.WalkDir(os.DirFS("../aos"), "lua", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".lua") {
			return err
		}
		src, err := os.ReadFile("../aos/" + path)
		if err != nil {
			return err
		}
		if path == "lua/process.lua" {
			if !bytes.Contains(src, []byte(currentVer)) {
				t.Fatalf("process.lua no longer has %s: update the frozen release's difference", currentVer)
			}
			src = bytes.Replace(src, []byte(currentVer), []byte(frozenVersion), 1)
		}
		files[path] = &fstest.MapFile{Data: src}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	rt, err := aoslua.New(frozenName, files)
	if err != nil {
		t.Fatal(err)
	}
	return rt
}

func mustSet(t *testing.T, rts ...runtime.Runtime) *runtime.Set {
	t.Helper()
	set, err := runtime.NewSet(rts...)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// upgradeScript is what the recorded process receives: state, prompts, sends, an error, a bint.
func (e *env) upgradeScript(pid string) []*bundler.Item {
	out := e.sets(pid, 6)
	for _, code := range []string{
		`Counter = (Counter or 0) + 1; return Counter`,
		`local b = require(".bint")(256); Big = tostring(b(2) ^ 200); return Big`,
		`Send({ Target = ao.id, Action = "Ping", Data = tostring(#Inbox) })`,
		`error("on purpose")`,
		`Counter = Counter + 10; return Counter .. " " .. #Inbox`,
	} {
		out = append(out, e.send(user, pid, code, tag("Action", "Eval")))
	}
	return append(out, e.sets(pid, 3)...)
}

// rawResults are the stored results of msgs, in order.
func (e *env) rawResults(pid string, msgs []*bundler.Item) []string {
	e.t.Helper()
	var out []string
	for _, m := range msgs {
		raw, err := e.cu.Result(context.Background(), pid, m.ID)
		if err != nil {
			e.t.Fatal(err)
		}
		out = append(out, string(raw))
	}
	return out
}

// An aonode upgrade never changes an existing process's results: a process recorded by a node whose
// current runtime was the earlier release is evaluated by the upgraded node (a new current release, the
// earlier one kept) with the runtime its module names, byte-equal, whether it starts from the old node's
// snapshot or replays; new processes get the new release; a node that no longer keeps the earlier release
// refuses the process with a 422 naming its module and what it runs.
func TestUpgradeKeepsResults(t *testing.T) {
	frozen := frozenRuntime(t)
	cur, err := aoslua.Current()
	if err != nil {
		t.Fatal(err)
	}
	if frozen.Version().Digest == cur.Version().Digest {
		t.Fatal("the two releases have the same digest")
	}
	ctx := context.Background()
	every := SnapshotOptions{Messages: 5}

	// The old node: the earlier release is its current one.
	e := newEnv(t)
	e.runtimes = mustSet(t, frozen)
	e.reopen(every)
	e.module = e.addModule(moduleTags(frozen, runtime.Limits{}))
	oldModule := e.module
	pid := e.spawnKV()
	msgs := append([]*bundler.Item{{ID: pid}}, e.upgradeScript(pid)...)
	recorded := e.rawResults(pid, msgs)
	wantState := e.state(pid)
	if !strings.Contains(strings.Join(recorded, ""), "aos-2.0.3") || !strings.Contains(strings.Join(recorded, ""), "on purpose") {
		t.Fatal("the recorded results do not show the earlier release's prompt and the error")
	}
	if st := e.cu.Stats(); st.SnapshotsTaken == 0 {
		t.Fatalf("the old node took no snapshot: %+v", st)
	}

	// The upgraded node, starting from the old node's snapshot (the results re-evaluated: the gap before
	// the snapshot by a replay, the rest after it).
	e.runtimes = mustSet(t, cur, frozen)
	e.wipe(every, "results", pid)
	if got := e.state(pid); got != wantState {
		t.Fatal("state after the upgrade differs")
	}
	if got := e.rawResults(pid, msgs); strings.Join(got, "\n") != strings.Join(recorded, "\n") {
		t.Fatalf("results after the upgrade differ:\n%s", firstDiff(strings.Join(got, "\n"), strings.Join(recorded, "\n")))
	}
	if st := e.cu.Stats(); st.SnapshotRestores != 1 || st.SnapshotsRefused != 0 {
		t.Fatalf("the old node's snapshot was not used: %+v", st)
	}
	// ...and replaying everything.
	e.wipe(every, "snapshots", pid)
	e.wipe(every, "results", pid)
	if got := e.rawResults(pid, msgs); strings.Join(got, "\n") != strings.Join(recorded, "\n") {
		t.Fatalf("replayed results after the upgrade differ:\n%s", firstDiff(strings.Join(got, "\n"), strings.Join(recorded, "\n")))
	}

	// A new process, on the upgraded node's module, runs the current release: the same script shows the
	// difference, and only it.
	e.useModule(runtime.Limits{})
	pid2 := e.spawnKV()
	msgs2 := append([]*bundler.Item{{ID: pid2}}, e.upgradeScript(pid2)...)
	fresh := e.rawResults(pid2, msgs2)
	joined := strings.Join(fresh, "\n")
	if !strings.Contains(joined, "aos-2.0.4") || strings.Contains(joined, "aos-2.0.3") {
		t.Fatal("the new process does not run the current release")
	}
	for i := range fresh {
		want := strings.ReplaceAll(strings.ReplaceAll(recorded[i], pid, pid2), "aos-2.0.3", "aos-2.0.4")
		if ids := []string{msgs[i].ID, msgs2[i].ID}; i > 0 {
			want = strings.ReplaceAll(want, ids[0], ids[1])
		}
		if fresh[i] != want {
			t.Errorf("message %d: the releases differ in more than their version:\n%s", i, firstDiff(fresh[i], want))
		}
	}

	// A node that retired the earlier release refuses the process, naming the module and what it runs.
	e.runtimes = mustSet(t, cur)
	e.wipe(every, "results", pid)
	_, err = e.cu.Result(ctx, pid, msgs[3].ID)
	var cuErr *Error
	if !errors.As(err, &cuErr) || cuErr.Status != 422 || !strings.Contains(err.Error(), "module "+oldModule) ||
		!strings.Contains(err.Error(), "names runtime "+frozenName) || !strings.Contains(err.Error(), "this CU runs "+cur.Version().String()) {
		t.Fatalf("a retired release: %v", err)
	}
	if err := e.cu.CheckModule(&bundler.Item{ID: oldModule, Tags: moduleTags(frozen, runtime.Limits{})}); err == nil {
		t.Fatal("a spawn of the retired release's module would be accepted")
	}
}
