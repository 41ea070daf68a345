package aoslua

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aonode/aonode/node/runtime"
)

// A release never changes its results: testdata/recorded/<release>.json holds a process recorded by a
// release (its messages and every result), and every release this binary runs must evaluate it to the same
// bytes, straight through and from a snapshot taken halfway. The recording of the current release is made
// with -update (only when a release is cut: README, "The process runtime").
//
// When this test fails after a change to the runtime:
//   - "digest changed": the Lua files, HostVersion, gopher-lua or the bytecode format changed, so this is
//     another release: cut one (a new Release name; keep the old release or retire it) and record it;
//   - "results differ" with the same digest: a change to the Go host changed results without a new
//     HostVersion: bump it and cut a release, or undo the change.
var update = flag.Bool("update", false, "record the current release's process in testdata/recorded")

// recording is one recorded process.
type recording struct {
	Runtime  string            `json:"runtime"`
	Digest   string            `json:"digest"`
	Limits   runtime.Limits    `json:"limits"`
	Env      runtime.Env       `json:"env"`
	Messages []runtime.Message `json:"messages"`
	Results  []json.RawMessage `json:"results"`
}

const (
	recProcess = "RECORDEDPROCESSRECORDEDPROCESSRECORDEDPROC"
	recOwner   = "RECORDEDOWNERRECORDEDOWNERRECORDEDOWNERREC"
	recUser    = "RECORDEDUSERRECORDEDUSERRECORDEDUSERRECORD"
	recModule  = "RECORDEDMODULERECORDEDMODULERECORDEDMODULE"
)

// recordedProgram is what the recorded process is given to evaluate: handlers, state, sends, spawns,
// assignments, the libraries (table.sort's order for ties, reads through __index, a yield across pcall,
// the measure of deleted keys), errors and limits (a caught out-of-memory error, and the positions of
// errors in .bint and .stringify).
const recordedProgram = `local json = require("json")
local bint = require(".bint")(256)
Balances = Balances or { [Owner] = tostring(bint("1000000000000000000000000000000")) }
Log = Log or {}
Handlers.add("transfer", Handlers.utils.hasMatchingTag("Action", "Transfer"), function (msg)
  local qty = bint(msg.Quantity)
  local from = bint(Balances[msg.From] or "0")
  if qty > from then
    msg.reply({ Action = "Transfer-Error", Error = "Insufficient Balance" })
    return
  end
  Balances[msg.From] = tostring(from - qty)
  Balances[msg.Recipient] = tostring(bint(Balances[msg.Recipient] or "0") + qty)
  ao.send({ Target = msg.Recipient, Action = "Credit-Notice", Quantity = msg.Quantity, Sender = msg.From })
  msg.reply({ Action = "Debit-Notice", Quantity = msg.Quantity, Recipient = msg.Recipient })
end)
Handlers.add("log", Handlers.utils.hasMatchingTag("Action", "Log"), function (msg)
  table.insert(Log, { n = #Log + 1, at = msg.Timestamp, data = msg.Data, tags = msg.Tags })
  print(json.encode({ count = #Log, last = Log[#Log].data }))
end)
Handlers.add("text", Handlers.utils.hasMatchingTag("Action", "Text"), function (msg)
  local s = msg.Data
  print(string.format("%q %5.2f %x %s", s, #s / 3, #s, s:upper():rep(2, "-")))
  print(table.concat({ s:find("(%w+)") }, ","), (s:gsub("%s+", "_")), utf8.len("héllo"), #s // 2, 7 % 3, 2 ^ 10)
  for w in s:gmatch("%a+") do io = nil; print(w:reverse()) end
end)
Handlers.add("sort", Handlers.utils.hasMatchingTag("Action", "Sort"), function (msg)
  local rows = {}
  for w in msg.Data:gmatch("%S+") do rows[#rows + 1] = { name = w, len = #w } end
  table.sort(rows, function (a, b) return a.len < b.len end)
  local proxy = setmetatable({}, { __index = function (_, i) return rows[i] and rows[i].name end })
  local names = {}
  for _, name in ipairs(proxy) do names[#names + 1] = name end
  print(table.concat(names, " ") .. " " .. math.max(3, 9, 4) .. " " .. math.fmod(-7, 3) .. " " .. tostring(pcall(next, {}, "x")))
  local co = coroutine.wrap(function () return pcall(function () return coroutine.yield(#rows) * 2 end) end)
  local first = co()
  local ok, twice = co(first)
  local keys = {}
  for i = 1, 50 do local k = {} keys[k] = i keys[k] = nil end
  print(first .. " " .. tostring(ok) .. " " .. twice .. " " .. string.format("%.3f", collectgarbage("count") % 1))
end)
Handlers.add("cron", Handlers.utils.hasMatchingTag("Action", "Tick"), function (msg)
  Ticks = (Ticks or 0) + 1
  print("tick " .. Ticks .. " " .. os.time())
end)
return "loaded"`

// recordedMessages is the recorded process's schedule.
func recordedMessages() []runtime.Message {
	var out []runtime.Message
	n := int64(0)
	add := func(from string, data string, tags ...string) {
		m := runtime.Message{Id: fmt.Sprintf("MSG%040d", n), Owner: from, From: from, Target: recProcess, Data: data,
			Nonce: n, Timestamp: 1_700_000_000_000 + n*1000, BlockHeight: 1000 + n, HashChain: fmt.Sprintf("CHAIN%038d", n)}
		if n == 0 {
			m.Id = recProcess // the spawn message
		}
		for i := 0; i < len(tags); i += 2 {
			m.Tags = append(m.Tags, runtime.Tag{Name: tags[i], Value: tags[i+1]})
		}
		out = append(out, m)
		n++
	}
	add(recOwner, "", "Type", "Process", "Module", recModule, "Name", "recorded")
	add(recOwner, recordedProgram, "Action", "Eval")
	add(recOwner, "", "Action", "Transfer", "Recipient", recUser, "Quantity", "250000000000000000000")
	add(recUser, "", "Action", "Transfer", "Recipient", recOwner, "Quantity", "99999999999999999999999999")
	add(recUser, "first entry", "Action", "Log", "X-Extra", "kept")
	add(recUser, "hello wörld  of aos", "Action", "Text")
	add(recUser, "pear fig apple kiwi plum date lime peach grape melon", "Action", "Sort")
	add(recOwner, `Send({ Target = "`+recUser+`", Action = "Hi", Data = "x" }); Spawn("`+recModule+`", { Data = "child", Name = "c" }); ao.assign({ Processes = { "P1", "P2" }, Message = "M1" }); return #Inbox`, "Action", "Eval")
	add(recOwner, `error({ code = 42 })`, "Action", "Eval")
	add(recOwner, `local t = {} for i = 1, 200 do t[i] = math.random(1, 1000) end return table.concat(t, " ", 1, 10) .. " " .. math.floor(1e15 / 7)`, "Action", "Eval")
	add(recUser, "unhandled", "Action", "Unknown", "Reference", "7")
	add(recOwner, `local n = 0 while true do n = n + 1 end`, "Action", "Eval")
	add(recOwner, `Big = string.rep("x", 96 * 1024 * 1024)`, "Action", "Eval")
	add(recOwner, `local ok, e = pcall(function () local t = {} while true do t[#t + 1] = string.rep("y", 1 << 20) end end)
local after = {} for i = 1, 1000 do after[i] = { i } end
return tostring(ok) .. " " .. e .. " " .. #after .. " " .. select(2, pcall(function () return require(".bint")(256)(1) % {} end))`, "Action", "Eval")
	add(recOwner, `print({ [true] = 1 })`, "Action", "Eval")
	add(recUser, "second entry", "Action", "Log")
	cron := runtime.Message{Owner: recOwner, From: recOwner, Target: recProcess, Nonce: n - 1, Timestamp: 1_700_000_000_000 + n*1000 - 500,
		BlockHeight: 1000 + n - 1, Cron: true, Tags: []runtime.Tag{{Name: "Action", Value: "Tick"}}}
	out = append(out, cron)
	add(recOwner, `return json.encode({ balances = Balances, log = #Log, ticks = Ticks })`, "Action", "Eval")
	return out
}

func recordedEnv() runtime.Env {
	return runtime.Env{
		Process: runtime.ProcessInfo{Id: recProcess, Owner: recOwner, Tags: []runtime.Tag{{Name: "Type", Value: "Process"},
			{Name: "Module", Value: recModule}, {Name: "Name", Value: "recorded"}, {Name: "Authority", Value: recOwner}}},
		Module: runtime.ModuleInfo{Id: recModule, Owner: recOwner, Tags: []runtime.Tag{{Name: "Module-Format", Value: Format}}},
	}
}

// evaluate runs the recording's messages on rt, from a snapshot restored into a new instance after
// message restoreAt (negative: straight through).
func evaluate(t *testing.T, rt runtime.Runtime, rec *recording, restoreAt int) []json.RawMessage {
	t.Helper()
	inst, err := rt.New(rec.Env, rec.Limits)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { inst.Close() }()
	var out []json.RawMessage
	for i, m := range rec.Messages {
		raw, err := json.Marshal(inst.Handle(m))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, raw)
		if i == restoreAt {
			snap, err := inst.Snapshot(nil)
			if err != nil {
				t.Fatalf("snapshot after message %d: %v", i, err)
			}
			next, err := rt.New(rec.Env, rec.Limits)
			if err != nil {
				t.Fatal(err)
			}
			if err := next.Restore(snap); err != nil {
				t.Fatalf("restore: %v", err)
			}
			inst.Close()
			inst = next
		}
	}
	return out
}

func TestRecordedResults(t *testing.T) {
	cur, err := Current()
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		rec := &recording{Runtime: cur.Version().Name, Digest: cur.Version().Digest, Limits: runtime.Limits{Compute: 5_000_000, Memory: 64 << 20},
			Env: recordedEnv(), Messages: recordedMessages()}
		rec.Results = evaluate(t, cur, rec, -1)
		b, err := json.MarshalIndent(rec, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Join("testdata", "recorded", strings.ReplaceAll(rec.Runtime, "/", "-")+".json")
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(name, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("recorded %s", name)
	}
	files, err := filepath.Glob(filepath.Join("testdata", "recorded", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no recordings (%v)", err)
	}
	rts, err := Runtimes()
	if err != nil {
		t.Fatal(err)
	}
	recordedCurrent := false
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var rec recording
			if err := json.Unmarshal(b, &rec); err != nil {
				t.Fatal(err)
			}
			var rt runtime.Runtime
			for _, r := range rts {
				if r.Version().Name == rec.Runtime {
					rt = r
				}
			}
			if rt == nil {
				t.Fatalf("release %s is recorded but not in this binary: keep it, or delete its recording when retiring it (README)", rec.Runtime)
			}
			if d := rt.Version().Digest; d != rec.Digest {
				t.Fatalf("release %s digest changed (%.16s recorded, %.16s now): the Lua files, HostVersion, gopher-lua or the "+
					"bytecode format changed, which makes another release: cut one and record it (README)", rec.Runtime, rec.Digest, d)
			}
			recordedCurrent = recordedCurrent || rt == runtime.Runtime(cur)
			if len(rec.Results) != len(rec.Messages) || len(rec.Messages) < 10 {
				t.Fatalf("%d messages, %d results", len(rec.Messages), len(rec.Results))
			}
			for _, restoreAt := range []int{-1, len(rec.Messages) / 2} {
				got := evaluate(t, rt, &rec, restoreAt)
				for i := range got {
					var want bytes.Buffer
					if err := json.Compact(&want, rec.Results[i]); err != nil {
						t.Fatal(err)
					}
					if !bytes.Equal(got[i], want.Bytes()) {
						t.Fatalf("release %s, message %d (restored after %d): results differ with the same digest: a host change "+
							"that changes results needs HostVersion bumped and a new release\n got %s\nwant %s", rec.Runtime, i, restoreAt, got[i], want.Bytes())
					}
				}
			}
		})
	}
	if !recordedCurrent {
		t.Errorf("the current release %s has no recording: record it with go test ./node/runtime/aoslua -run TestRecordedResults -update", cur.Version().Name)
	}
}
