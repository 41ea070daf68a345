package aos

import (
	"strings"
	"testing"

	"github.com/aonode/aonode/internal/fixture"
)

// run evaluates setup (as the owner) on a fresh process, then sends msg and returns the result.
func run(t *testing.T, setup string, m Message) Result {
	t.Helper()
	p := boot(t)
	if r := p.Handle(msg(owner, setup, Tag{"Action", "Eval"})); r.Error != "" {
		t.Fatalf("setup: %s", r.Error)
	}
	return p.Handle(m)
}

func TestHandlerPatterns(t *testing.T) {
	cases := []struct {
		name   string
		setup  string
		msg    Message
		output string // exact Output.data, ANSI colours removed
		err    string // substring of Error
	}{
		{"action string", `Handlers.add("a", "Ping", function (m) print("pong") end)`,
			msg(usr, "", Tag{"Action", "Ping"}), "pong", ""},
		{"name as action", `Handlers.add("Ping", function (m) print("named") end)`,
			msg(usr, "", Tag{"Action", "Ping"}), "named", ""},
		{"tag table", `Handlers.add("t", { Action = "Buy", Qty = "%d+" }, function (m) print("buy " .. m.Qty) end)`,
			msg(usr, "", Tag{"Action", "Buy"}, Tag{"Qty", "12"}), "buy 12", ""},
		{"tag table lua pattern mismatch", `Handlers.add("t", { Action = "Buy", Qty = "^%d+$" }, function (m) print("buy") end)`,
			msg(usr, "", Tag{"Action", "Buy"}, Tag{"Qty", "x1"}), "New Message From USE...US1: Action = Buy", ""},
		{"wildcard", `Handlers.add("w", { Action = "_" }, function (m) print("any " .. m.Action) end)`,
			msg(usr, "", Tag{"Action", "Whatever"}), "any Whatever", ""},
		{"function continue", `Handlers.add("a", function (m) return "continue" end, function () print("first") end)
Handlers.add("b", function (m) return true end, function () print("second") end)`,
			msg(usr, "", Tag{"Action", "X"}), "first\nsecond", ""},
		// AOS: 1 runs the handler and goes on, 0 skips it, -1 runs it and stops.
		{"function numeric", `Handlers.add("a", function (m) return 1 end, function () print("1") end)
Handlers.add("b", function (m) return 0 end, function () print("0") end)
Handlers.add("c", function (m) return -1 end, function () print("-1") end)
Handlers.add("d", function (m) return 1 end, function () print("never") end)`,
			msg(usr, "", Tag{"Action", "X"}), "1\n-1", ""},
		{"prepend runs first", `Handlers.add("a", "X", function () print("a") end)
Handlers.prepend("b", function () return "continue" end, function () print("b") end)`,
			msg(usr, "", Tag{"Action", "X"}), "b\na", ""},
		{"remove", `Handlers.add("a", "X", function () print("a") end); Handlers.remove("a")`,
			msg(usr, "", Tag{"Action", "X"}), "New Message From USE...US1: Action = X", ""},
		{"data match", `Handlers.add("d", Handlers.utils.hasMatchingData("ping"), function (m) m.reply({ Data = "pong" }) end)`,
			msg(usr, "ping"), "", ""},
		{"handler error names the action", `Handlers.add("boom", "X", function () error("kaput") end)`,
			msg(usr, "", Tag{"Action", "X"}), "", " handling message with Action = X"},
		{"Eval error", ``, msg(owner, "error('bad eval')", Tag{"Action", "Eval"}), "", "bad eval"},
		{"Eval syntax error", ``, msg(owner, "this is not lua", Tag{"Action", "Eval"}), "", "aos"},
		// AOS runs an Eval only from the Owner; anyone else's lands in the Inbox.
		{"Eval by non-owner", ``, msg(usr, "X = 1", Tag{"Action", "Eval"}), "New Message From USE...US1: Action = Eval", ""},
		{"ao.env and ao.id", `Handlers.add("e", "E", function (m) print(ao.id .. " " .. ao.env.Process.Id .. " " .. ao.env.Module.Id) end)`,
			msg(usr, "", Tag{"Action", "E"}), pid + " " + pid + " MOD", ""},
		// AOS lifts every tag onto the message (the last of a name wins there); msg.Tags keeps the first.
		{"tags as fields", `Handlers.add("f", "F", function (m) print(m.K .. m.Tags.K .. #m.TagArray) end)`,
			msg(usr, "", Tag{"Action", "F"}, Tag{"K", "1"}, Tag{"K", "2"}), "213", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, tc.setup, tc.msg)
			if tc.err != "" {
				if !strings.Contains(r.Error, tc.err) {
					t.Fatalf("Error %q does not contain %q", r.Error, tc.err)
				}
				return
			}
			if r.Error != "" {
				t.Fatalf("unexpected Error %q", r.Error)
			}
			if plain(r.Output.Data) != tc.output {
				t.Fatalf("Output %q, want %q", r.Output.Data, tc.output)
			}
		})
	}
}

func TestMaxRunsAndOnce(t *testing.T) {
	p := boot(t)
	p.Handle(msg(owner, `Handlers.add("twice", "X", function () print("x") end, 2)
Handlers.once("Y", function () print("y") end)`, Tag{"Action", "Eval"}))
	var outs []string
	for _, a := range []string{"X", "X", "X", "Y", "Y"} {
		outs = append(outs, plain(p.Handle(msg(usr, "", Tag{"Action", a})).Output.Data))
	}
	want := []string{"x", "x", "New Message From USE...US1: Action = X", "y", "New Message From USE...US1: Action = Y"}
	for i := range want {
		if outs[i] != want[i] {
			t.Fatalf("message %d: %q, want %q", i, outs[i], want[i])
		}
	}
}

func TestOutboxShapes(t *testing.T) {
	p := boot(t)
	r := p.Handle(msg(owner, `ao.spawn("MOD2", { Data = "boot", Name = "kid", Tags = { Extra = "1" } })
ao.assign({ Processes = { "P1", "P2" }, Message = "M1" })
Send({ Target = "T1", Action = "Hello", Data = { a = 1 } })
ao.log("logged")`, Tag{"Action", "Eval"}))
	if r.Error != "" {
		t.Fatal(r.Error)
	}
	if len(r.Spawns) != 1 || r.Spawns[0].Data != "boot" || r.Spawns[0].Anchor != "00000000000000000000000000000001" {
		t.Fatalf("spawn %+v", r.Spawns)
	}
	names := map[string]string{}
	for _, tg := range r.Spawns[0].Tags {
		names[tg.Name] = tg.Value
	}
	if names["Module"] != "MOD2" || names["Type"] != "Process" || names["From-Process"] != pid || names["Name"] != "kid" || names["Extra"] != "1" {
		t.Fatalf("spawn tags %v", names)
	}
	if len(r.Assignments) != 1 || r.Assignments[0].Message != "M1" || len(r.Assignments[0].Processes) != 2 {
		t.Fatalf("assignments %+v", r.Assignments)
	}
	if len(r.Messages) != 1 || r.Messages[0].Data != `{"a":1}` || r.Messages[0].Tags[4].Name != "Action" || r.Messages[0].Tags[4].Value != "Hello" {
		t.Fatalf("message %+v", r.Messages)
	}
}

func TestDeterministicReplay(t *testing.T) {
	seq := []Message{msg(owner, fixture.KVStore+`
Handlers.add("rnd", "Rnd", function (m) local t = {} for i = 1, 5 do t[#t+1] = math.random(100) end; m.reply({ Data = json.encode(t), When = tostring(os.time()) }) end)
Handlers.add("keys", "Keys", function (m) local ks = {} for k in pairs(Store) do ks[#ks+1] = k end; m.reply(table.concat(ks, ",")) end)`, Tag{"Action", "Eval"})}
	for i := 0; i < 200; i++ {
		k := string(rune('a' + i%26))
		switch i % 4 {
		case 0, 1:
			seq = append(seq, msg(usr, "", Tag{"Action", "Set"}, Tag{"Key", k + k}, Tag{"Value", k}))
		case 2:
			seq = append(seq, msg(usr, "", Tag{"Action", "Rnd"}))
		default:
			seq = append(seq, msg(usr, "", Tag{"Action", "Keys"}))
		}
		seq[len(seq)-1].Timestamp = int64(10_000 + i*1000)
	}
	runAll := func() string {
		p := boot(t)
		var b strings.Builder
		for _, m := range seq {
			r := p.Handle(m)
			j, _ := r.MarshalJSON()
			b.Write(j)
		}
		return b.String()
	}
	if a, b := runAll(), runAll(); a != b {
		t.Fatal("two runs of the same messages gave different results")
	}
}
