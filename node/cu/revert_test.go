package cu

import (
	"context"
	"strings"
	"testing"
)

// A message whose result is an Error leaves no state, as the reference CU keeps the memory from before it:
// the globals it set, the handler it added and what it did before failing are gone; its result is kept.
func TestErrorLeavesNoState(t *testing.T) {
	e := newEnv(t)
	pid := e.spawnKV()
	eval := func(code string) map[string]any {
		t.Helper()
		return e.result(pid, e.send(user, pid, code, tag("Action", "Eval")).ID)
	}
	if r := eval(`Kept = 1`); r["Error"] != nil {
		t.Fatalf("eval: %v", r["Error"])
	}
	failed := eval(`Before = 1; Handlers.add("Extra", "Extra", function() print("extra ran") end); error("boom")`)
	if e, _ := failed["Error"].(string); !strings.Contains(e, "boom") {
		t.Fatalf("failed eval: %v", failed)
	}
	// A handler that changes the state and then fails.
	if r := eval(`Handlers.add("Touch", "Touch", function(msg) Touched = true; Store.touched = "yes"; error("after touching") end)`); r["Error"] != nil {
		t.Fatalf("eval: %v", r["Error"])
	}
	touch := e.send(user, pid, "", tag("Action", "Touch"))
	if r := e.result(pid, touch.ID); r["Error"] == nil {
		t.Fatalf("Touch did not fail: %v", r)
	}
	extra := e.send(user, pid, "", tag("Action", "Extra"))
	if out := asString(e.result(pid, extra.ID)); strings.Contains(out, "extra ran") {
		t.Fatalf("the handler added by a failed Eval ran: %s", out)
	}
	check := func(when string) {
		t.Helper()
		r := eval(`return tostring(Kept) .. "," .. tostring(Before) .. "," .. tostring(Touched) .. "," .. tostring(Store.touched)`)
		if got := asString(r["Output"]); !strings.Contains(got, "1,nil,nil,nil") {
			t.Fatalf("%s: state after failed messages: %s", when, got)
		}
	}
	check("live")
	if st := e.cu.Stats(); st.Reverts != 2 {
		t.Fatalf("reverts %d, want 2 (the failed Eval and Touch)", st.Reverts)
	}
	want := e.state(pid)
	results := map[string]string{}
	for _, m := range []string{touch.ID, extra.ID} {
		results[m] = asString(e.result(pid, m))
	}

	// A restarted CU replays the schedule, skipping the failed messages: same state, same results, no
	// second revert.
	e.restart()
	if got := e.state(pid); got != want {
		t.Fatalf("replayed state differs:\n got %.300s\nwant %.300s", got, want)
	}
	if st := e.cu.Stats(); st.Reverts != 0 {
		t.Fatalf("a replay reverted %d times", st.Reverts)
	}
	for id, r := range results {
		if got := asString(e.result(pid, id)); got != r {
			t.Fatalf("result %s after restart: %s, want %s", id, got, r)
		}
	}
	check("after restart")
	want = e.state(pid)

	// A CU that lost the results evaluates the failed messages again, and reverts again.
	e.wipe(SnapshotOptions{}, "results", pid)
	if got := e.state(pid); got != want {
		t.Fatalf("state evaluated again differs:\n got %.300s\nwant %.300s", got, want)
	}
	if st := e.cu.Stats(); st.Reverts != 2 {
		t.Fatalf("evaluating again: reverts %d, want 2", st.Reverts)
	}
	dr, err := e.cu.DryRun(context.Background(), pid, DryRunRequest{Owner: user.Address(), Tags: toAOS(tag("Action", "Eval")), Data: "return tostring(Before)"})
	if err != nil || !strings.Contains(asString(dr.Output), "nil") {
		t.Fatalf("dry-run after reverts: %v %v", dr, err)
	}
}
