package aos

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aonode/aonode/internal/fixture"
)

const (
	pid   = "PROCESSPROCESSPROCESSPROCESSPROCESSPROCESS1"
	owner = "OWNEROWNEROWNEROWNEROWNEROWNEROWNEROWNEROW1"
	usr   = "USERUSERUSERUSERUSERUSERUSERUSERUSERUSERUS1"
)

func boot(t *testing.T) *Process {
	t.Helper()
	env := Env{Process: ProcessInfo{Id: pid, Owner: owner, Tags: []Tag{{"Type", "Process"}, {"Module", "MOD"}}}, Module: ModuleInfo{Id: "MOD"}}
	p, err := New(env, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	r := p.Handle(Message{Id: pid, Owner: owner, From: owner, Target: pid, Tags: env.Process.Tags, Timestamp: 1000})
	if r.Error != "" {
		t.Fatalf("spawn: %s", r.Error)
	}
	return p
}

func msg(from, data string, tags ...Tag) Message {
	return Message{Id: "M", Owner: from, From: from, Target: pid, Data: data, Tags: tags, Timestamp: 2000}
}

func TestKVStore(t *testing.T) {
	p := boot(t)
	if r := p.Handle(msg(owner, fixture.KVStore, Tag{"Action", "Eval"})); r.Error != "" || len(r.Messages) != 0 {
		t.Fatalf("eval: %+v", r)
	}
	r := p.Handle(msg(usr, "", Tag{"Action", "Set"}, Tag{"Key", "test"}, Tag{"Value", "abc"}))
	want := `[{"Target":"` + usr + `","Anchor":"00000000000000000000000000000001","Tags":[{"name":"Data-Protocol","value":"ao"},{"name":"Variant","value":"ao.TN.1"},{"name":"Type","value":"Message"},{"name":"Reference","value":"1"}],"Data":"Value stored!"}]`
	if b, _ := json.Marshal(r.Messages); string(b) != want {
		t.Fatalf("Set:\n%s\nwant\n%s", b, want)
	}
	r = p.Handle(msg(usr, "", Tag{"Action", "Get"}, Tag{"Key", "test"}))
	want = `[{"Target":"` + usr + `","Anchor":"00000000000000000000000000000002","Tags":[{"name":"Data-Protocol","value":"ao"},{"name":"Variant","value":"ao.TN.1"},{"name":"Type","value":"Message"},{"name":"Reference","value":"2"},{"name":"Value","value":"abc"}],"Data":""}]`
	if b, _ := json.Marshal(r.Messages); string(b) != want {
		t.Fatalf("Get:\n%s\nwant\n%s", b, want)
	}
	r = p.Handle(msg(usr, "", Tag{"Action", "Set"}, Tag{"Key", "x"}))
	if !strings.Contains(r.Error, "Value is required!") || !strings.Contains(r.Error, "Set") || len(r.Messages) != 0 {
		t.Fatalf("missing Value: %+v", r)
	}
	r = p.Handle(msg(usr, "", Tag{"Action", "Nope"}))
	if !strings.Contains(r.Output.Data, "New Message From") {
		t.Fatalf("inbox output %q", r.Output.Data)
	}
	// Like AOS, an Eval from anyone but the Owner is not run: it is an unhandled message and goes to the Inbox.
	if r := p.Handle(msg(usr, "Store.test = 'hacked'", Tag{"Action", "Eval"})); r.Error != "" || !strings.Contains(r.Output.Data, "New Message From") {
		t.Fatalf("Eval from a non-owner must not run: %+v", r)
	}
	f, err := p.Fork()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.Handle(msg(usr, "", Tag{"Action", "Set"}, Tag{"Key", "test"}, Tag{"Value", "changed"}))
	r = p.Handle(msg(usr, "", Tag{"Action", "Get"}, Tag{"Key", "test"}))
	if r.Messages[0].Tags[4].Value != "abc" || r.Messages[0].Anchor != "00000000000000000000000000000003" {
		t.Fatalf("fork leaked into the process: %+v", r.Messages[0])
	}
	st, err := p.StateJSON()
	if err != nil || !strings.Contains(string(st), `"Store":{"test":"abc"}`) {
		t.Fatalf("state %s %v", st, err)
	}
}

func TestRequireAndPrint(t *testing.T) {
	p := boot(t)
	// AOS's print shows its first argument only.
	r := p.Handle(msg(owner, `assert(require('ao') == require('.ao')); assert(require('json') == json); assert(not pcall(require, '.json')); assert(require('.handlers') == Handlers)
print("hi", 1); return json.encode({b = 1, a = {1, 2}})`, Tag{"Action", "Eval"}))
	if r.Error != "" || r.Output.Data != "hi\n{\"a\":[1,2],\"b\":1}" {
		t.Fatalf("%+v", r)
	}
	// AOS's os.time() is the message Timestamp in milliseconds.
	r = p.Handle(msg(owner, `return math.random(1, 1000) .. " " .. os.time()`, Tag{"Action", "Eval"}))
	r2 := boot(t).Handle(msg(owner, `return math.random(1, 1000) .. " " .. os.time()`, Tag{"Action", "Eval"}))
	if r.Output.Data != r2.Output.Data || !strings.HasSuffix(r.Output.Data, " 2000") {
		t.Fatalf("not deterministic: %q vs %q", r.Output.Data, r2.Output.Data)
	}
}
