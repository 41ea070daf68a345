package aoslua

import (
	"fmt"
	"testing"

	"github.com/aonode/aonode/node/runtime"
)

// A table keeps a deleted key in its key list; snapshots and forks drop one that is an object nothing else
// reaches. The state's measure (collectgarbage("count"), the memory limit, the walk's charge) leaves such
// keys out, so a process, its fork and its restored snapshot answer the same, with the same GasUsed.
func TestDeadKeysMeasureTheSame(t *testing.T) {
	rt, err := Current()
	if err != nil {
		t.Fatal(err)
	}
	env := recordedEnv()
	n := int64(0)
	msg := func(data string) runtime.Message {
		n++
		m := runtime.Message{Id: fmt.Sprintf("MSG%040d", n), Owner: recOwner, From: recOwner, Target: recProcess, Data: data,
			Nonce: n, Timestamp: 1_700_000_000_000 + n*1000, BlockHeight: 1000 + n}
		if n == 1 {
			m.Id, m.Tags = recProcess, env.Process.Tags
		} else {
			m.Tags = []runtime.Tag{{Name: "Action", Value: "Eval"}}
		}
		return m
	}
	inst, err := rt.New(env, rt.DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Close()
	for _, code := range []string{"", `T = {} Kept = {} for i = 1, 200 do local k = {} T[k] = i T[k] = nil end T[Kept] = 1 T[Kept] = nil T.x = 1 T.x = nil`} {
		if r := inst.Handle(msg(code)); r.Error != "" {
			t.Fatal(r.Error)
		}
	}
	snap, err := inst.Snapshot(nil)
	if err != nil {
		t.Fatal(err)
	}
	restored, err := rt.New(env, rt.DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	defer restored.Close()
	if err := restored.Restore(snap); err != nil {
		t.Fatal(err)
	}
	fork, err := inst.Fork()
	if err != nil {
		t.Fatal(err)
	}
	defer fork.Close()
	probe := msg(`return collectgarbage("count")`)
	want := inst.Handle(probe)
	for name, other := range map[string]runtime.Instance{"restored": restored, "fork": fork} {
		got := other.Handle(probe)
		if got.Error != "" || string(got.Output.Data) != string(want.Output.Data) || got.GasUsed != want.GasUsed {
			t.Errorf("%s: count %s gas %d, the process %s gas %d (%s)", name, got.Output.Data, got.GasUsed, want.Output.Data, want.GasUsed, got.Error)
		}
	}
}
