package aos

import (
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// cpuTime is the CPU time the process used so far (all threads: the collector's work included).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

const benchKV = `Store = Store or {}
Handlers.add("Set", Handlers.utils.hasMatchingTag("Action", "Set"), function (msg)
  assert(type(msg.Key) == 'string', 'Key is required!')
  Store[msg.Key] = msg.Value
  Handlers.utils.reply("Value stored!")(msg)
end)`

// BenchmarkEvalKVNewKeys is test/bench's BenchmarkEval/vm workload per message: a kv-store Set of a new key.
func BenchmarkEvalKVNewKeys(b *testing.B) {
	env := Env{Process: ProcessInfo{Id: "pid-0123456789012345678901234567890123456", Owner: "owner", Tags: []Tag{{Name: "Type", Value: "Process"}}}}
	p, err := New(env, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	p.Handle(Message{Id: env.Process.Id, Owner: "owner", From: "owner", Target: env.Process.Id, Tags: env.Process.Tags})
	if r := p.Handle(Message{Id: "eval", Owner: "owner", From: "owner", Target: env.Process.Id, Data: benchKV, Tags: []Tag{{Name: "Action", Value: "Eval"}}}); r.Error != "" {
		b.Fatal(r.Error)
	}
	b.ReportAllocs()
	i := 0
	var gas int64
	prev := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(prev)
	cpu0 := cpuTime()
	for b.Loop() {
		i++
		m := Message{Id: "m" + strconv.Itoa(i), Owner: "user", From: "user", Target: env.Process.Id, Nonce: int64(i + 2), Timestamp: int64(i),
			Tags: []Tag{{Name: "Action", Value: "Set"}, {Name: "Key", Value: "k" + strconv.Itoa(i)}, {Name: "Value", Value: "v"}}}
		r := p.Handle(m)
		if len(r.Messages) != 1 || r.Messages[0].Data != "Value stored!" {
			b.Fatalf("Set: %+v", r)
		}
		gas = r.GasUsed
	}
	b.ReportMetric(float64(gas), "instr/msg")
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-us/msg")
}
