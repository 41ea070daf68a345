package aos

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"math/rand"
	"sync"
	"testing"
	"time"
)

// detSetup is the process the determinism workload runs: a kv store, counters, JSON, math.random, os.time,
// iteration by pairs (in table order, unsorted), string functions, replies and sends, a bint token,
// failing handlers, a handler that runs into the compute limit, and a cron handler.
const detSetup = `local bint = require('.bint')(256)
Store, Counters, Ticks, Log = {}, {}, 0, {}
Balances = { [Owner] = "1000000000000000000000" }
Handlers.add("Set", "Set", function (m) Store[m.Key] = m.Value; m.reply({ Data = "stored " .. m.Key }) end)
Handlers.add("Del", "Del", function (m) Store[m.Key] = nil end)
Handlers.add("Get", "Get", function (m) ao.send({ Target = m.From, Action = "Value", Key = m.Key, Data = Store[m.Key] or "" }) end)
Handlers.add("Incr", "Incr", function (m)
  Counters[m.From] = (Counters[m.From] or 0) + tonumber(m.By)
  print("counter " .. Counters[m.From])
end)
Handlers.add("Json", "Json", function (m)
  local d = json.decode(m.Data)
  d.n = d.n * 2; d.seen = (d.seen or 0) + 1; table.insert(d.a, #d.a)
  m.reply({ Data = json.encode(d), Shape = tostring(#d.a) })
end)
Handlers.add("Rand", "Rand", function (m)
  local r = {} for i = 1, 4 do r[i] = math.random(1000) end
  r[5] = math.random()
  m.reply({ Data = json.encode(r), When = tostring(os.time()), Date = os.date("%Y-%m-%d %H:%M:%S", math.floor(os.time() / 1000)) })
end)
Handlers.add("Keys", "Keys", function (m)
  local ks, n = {}, 0
  for k, v in pairs(Store) do n = n + 1; if n <= 50 then ks[#ks + 1] = k .. "=" .. v end end
  m.reply({ Data = table.concat(ks, ","), Count = tostring(n) })
end)
Handlers.add("Str", "Str", function (m)
  local s = m.Data
  local t = { s:upper(), s:reverse(), (s:gsub("[aeiou]", "#")), string.format("%5.2f|%d|%q", #s / 3, #s, s:sub(1, 5)),
    string.rep(s:sub(1, 2), 3, "-"), tostring(s:find("b", 1, true)), table.concat({ s:byte(1, 3) }, ".") }
  Log[#Log + 1] = t[3]
  if #Log > 20 then table.remove(Log, 1) end
  m.reply(table.concat(t, " / "))
end)
Handlers.add("Transfer", "Transfer", function (m)
  local q = bint(m.Quantity)
  local from = Balances[m.From] or "0"
  if bint.__le(q, bint(from)) then
    Balances[m.From] = tostring(bint(from) - q)
    Balances[m.Recipient] = tostring(bint(Balances[m.Recipient] or "0") + q)
    m.reply({ Action = "Debit-Notice", Quantity = tostring(q) })
  else
    m.reply({ Action = "Transfer-Error", Error = "Insufficient Balance!" })
  end
end)
Handlers.add("Fail", "Fail", function (m) error("boom " .. m.Id) end)
Handlers.add("Assert", "Assert", function (m) assert(m.Key == "never", { code = 7, key = m.Key }) end)
Handlers.add("Spin", "Spin", function (m) print("spinning") local i = 0 while true do i = i + 1 end end)
Handlers.add("Spawner", "Spawner", function (m)
  ao.spawn("MODULE2", { Data = "child of " .. m.Id, Name = "kid" })
  ao.assign({ Processes = { "P1", m.From }, Message = m.Id })
end)
Handlers.add("Tick", function (m) return m.Cron == true end, function (m)
  Ticks = Ticks + 1
  if Ticks % 10 == 0 then ao.send({ Target = "WATCHER", Action = "Ticked", Data = tostring(Ticks) }) end
end)`

// detWorkload builds n messages (the first is the process's spawn message, the second the setup Eval),
// the same on every call.
func detWorkload(n int) []Message {
	rng := rand.New(rand.NewSource(42))
	users := []string{lpUser, "USER2USER2USER2USER2USER2USER2USER2USER2US2", "USER3USER3USER3USER3USER3USER3USER3USER3US3", lpOwner}
	msgs := []Message{
		{Id: lpPid, Owner: lpOwner, From: lpOwner, Target: lpPid, Tags: lpEnv.Process.Tags, Timestamp: 1_700_000_000_000},
	}
	add := func(from string, cron bool, data string, tags ...Tag) {
		i := len(msgs)
		m := Message{Owner: from, From: from, Target: lpPid, Data: data, Tags: tags, Nonce: int64(i),
			Timestamp: 1_700_000_000_000 + int64(i)*1_500, BlockHeight: 1_000 + int64(i/10), Cron: cron}
		if !cron {
			m.Id = fmt.Sprintf("DET%040d", i)
		}
		msgs = append(msgs, m)
	}
	add(lpOwner, false, detSetup, Tag{"Action", "Eval"})
	for len(msgs) < n {
		i := len(msgs)
		from := users[rng.Intn(len(users))]
		key := fmt.Sprintf("k%03d", rng.Intn(150))
		switch {
		case i%50 == 0:
			add(lpOwner, true, "", Tag{"Action", "Cron"})
		case i%997 == 0:
			add(lpOwner, false, fmt.Sprintf(`Handlers.add("Extra%d", "Extra", function (m) Extra = (Extra or 0) + %d end) return #Handlers.list`, i, i), Tag{"Action", "Eval"})
		case i%1999 == 0:
			add(from, false, "", Tag{"Action", "Spin"})
		default:
			switch rng.Intn(16) {
			case 0, 1, 2:
				add(from, false, "", Tag{"Action", "Set"}, Tag{"Key", key}, Tag{"Value", fmt.Sprintf("v%d", rng.Intn(1e6))})
			case 3:
				add(from, false, "", Tag{"Action", "Del"}, Tag{"Key", key})
			case 4:
				add(from, false, "", Tag{"Action", "Get"}, Tag{"Key", key})
			case 5:
				add(from, false, "", Tag{"Action", "Incr"}, Tag{"By", fmt.Sprint(rng.Intn(10))})
			case 6:
				add(from, false, fmt.Sprintf(`{"a":[1,2,%d],"n":%d,"s":"x%d"}`, rng.Intn(9), i, i), Tag{"Action", "Json"})
			case 7:
				add(from, false, "", Tag{"Action", "Rand"})
			case 8:
				add(from, false, "", Tag{"Action", "Keys"})
			case 9:
				add(from, false, fmt.Sprintf("abcdef ghi %d jklmno %x", i, rng.Int63()), Tag{"Action", "Str"})
			case 10, 11:
				add(lpOwner, false, "", Tag{"Action", "Transfer"}, Tag{"Recipient", from}, Tag{"Quantity", fmt.Sprint(rng.Intn(1e9)) + "000000000"})
				if rng.Intn(3) == 0 { // and back, sometimes more than they hold
					add(from, false, "", Tag{"Action", "Transfer"}, Tag{"Recipient", users[rng.Intn(len(users))]}, Tag{"Quantity", fmt.Sprint(rng.Intn(2e9)) + "000000000"})
				}
			case 12:
				add(from, false, "", Tag{"Action", "Fail"})
			case 13:
				add(from, false, "", Tag{"Action", "Assert"}, Tag{"Key", key})
			case 14:
				add(from, false, "", Tag{"Action", "Spawner"})
			default:
				add(from, false, "hello "+key, Tag{"Action", "Unknown"}) // to the Inbox
			}
		}
	}
	return msgs[:n]
}

type detRun struct {
	results, state string // sha256 hex
	forkState      string // state hash at the fork point (forked runs only)
	errors, stops  int
}

// runWorkload evaluates msgs in a fresh process; with forkAt > 0 it forks after message forkAt and
// evaluates the rest on the fork.
func runWorkload(msgs []Message, forkAt int) (run detRun, err error) {
	p, err := New(lpEnv, Options{ComputeLimit: 2_000_000})
	if err != nil {
		return run, err
	}
	defer func() { p.Close() }()
	h := sha256.New()
	sum := func(h hash.Hash) string { return hex.EncodeToString(h.Sum(nil)) }
	for i, m := range msgs {
		if forkAt > 0 && i == forkAt {
			before, err := p.StateJSON()
			if err != nil {
				return run, err
			}
			f, err := p.Fork()
			if err != nil {
				return run, fmt.Errorf("fork at %d: %w", i, err)
			}
			after, err := f.StateJSON()
			if err != nil {
				return run, err
			}
			if string(before) != string(after) {
				return run, fmt.Errorf("the fork's state differs from the process's")
			}
			fs := sha256.Sum256(after)
			run.forkState = hex.EncodeToString(fs[:])
			p.Close()
			p = f
		}
		r := p.Handle(m)
		if r.Error != "" {
			run.errors++
			if len(r.Error) > 14 && r.Error[:14] == "compute limit " {
				run.stops++
			}
		}
		b, err := json.Marshal(r)
		if err != nil {
			return run, err
		}
		h.Write(b)
		h.Write([]byte{'\n'})
	}
	st, err := p.StateJSON()
	if err != nil {
		return run, err
	}
	run.results = sum(h)
	ss := sha256.Sum256(st)
	run.state = hex.EncodeToString(ss[:])
	return run, nil
}

// TestDeterminism runs a 10,000-message mixed workload three times: twice in fresh VMs, and once forking
// midway and going on with the fork. Every Result (as JSON) and the final state must hash the same. The
// three runs go on at the same time (separate VMs must not affect each other).
func TestDeterminism(t *testing.T) {
	n := 10_000
	if testing.Short() {
		n = 2_000
	}
	msgs := detWorkload(n)
	start := time.Now()
	runs := make([]detRun, 3)
	errs := make([]error, 3)
	var wg sync.WaitGroup
	for i, forkAt := range []int{0, 0, n / 2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runs[i], errs[i] = runWorkload(msgs, forkAt)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	a, b, c := runs[0], runs[1], runs[2]
	t.Logf("3 runs of %d messages in %s, %d errors (%d compute-limit stops), results %s, state %s",
		n, time.Since(start).Round(time.Millisecond), a.errors, a.stops, a.results[:16], a.state[:16])
	if a.errors == 0 || a.stops == 0 {
		t.Fatalf("the workload should include failing and stopped messages: %+v", a)
	}
	if a.results != b.results || a.state != b.state {
		t.Fatalf("two fresh runs differ:\n%+v\n%+v", a, b)
	}
	if a.results != c.results || a.state != c.state {
		t.Fatalf("the run that forked at %d differs:\n%+v\n%+v", n/2, a, c)
	}
	// The workload itself is the same every time it is built.
	again := detWorkload(n)
	for i := range msgs {
		if fmt.Sprint(msgs[i]) != fmt.Sprint(again[i]) {
			t.Fatalf("workload message %d differs", i)
		}
	}
}
