package strlib

import (
	"syscall"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// cpuTime is the CPU time the test process used so far (all threads: the collector included). The
// machine is shared, so wall time is not a measure of the work.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkCost measures how long the library's work takes per instruction it charges, for each kind
// of work: the charges should make one charged instruction cost about what a VM instruction costs
// (20-60 ns on the reference machine, see node/aos BenchmarkInstructionRate), so the compute limit
// bounds library work in time as it bounds Lua code. Run with -bench Cost; the cpu-ns/instr metric
// (CPU time, the collector's included, per charged instruction) is the figure to compare.
func BenchmarkCost(b *testing.B) {
	setup := `big = string.rep("hello world, 12345 (x) ", 40000)   -- ~1 MB
aaa = string.rep("a", 24)
aaaa = string.rep("a", 1000000)
zeros = string.rep("\0", 1000000)
nested = string.rep("(", 200000) .. string.rep(")", 200000)`
	cases := []struct{ name, code string }{
		{"backtracking", `string.find(aaa, string.rep("a*", 6) .. "b")`},
		{"find-class", `string.find(big, "%d%d%d%d%d%d")`},
		{"find-set", `string.find(big, "[xyz][xyz][xyz]")`},
		{"find-plain", `string.find(big, "zzz", 1, true)`},
		{"find-plain-worst", `string.find(string.sub(aaaa, 1, 1000000), string.rep("a", 30) .. "b", 1, true)`},
		{"match-lazy", `string.match(string.sub(big, 1, 20000), "h(.-)Q")`},
		{"gmatch-words", `for w in string.gmatch(big, "%a+") do end`},
		{"gsub-char", `string.gsub(big, "o", "0")`},
		{"gsub-capture", `string.gsub(big, "(%a+)", "<%1>")`},
		{"balance", `string.find(nested, "%b()")`},
		{"upper", `string.upper(big)`},
		{"reverse", `string.reverse(big)`},
		{"rep", `string.rep(big, 4)`},
		{"rep-sep", `string.rep("ab", 500000, ",")`},
		{"format-q", `string.format("%q", big)`},
		{"format-q-escapes", `string.format("%q", zeros)`},
		{"format-s", `string.format("%s%s", big, big)`},
		{"byte", `string.byte(big, 1, 5000)`},
		{"char", `string.char(string.byte(big, 1, 5000))`},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			var charged int64
			L := newTestState(b, &charged)
			defer L.Close()
			if err := L.DoString(setup); err != nil {
				b.Fatal(err)
			}
			fn, err := L.LoadString(c.code)
			if err != nil {
				b.Fatal(err)
			}
			charged = 0
			cpu0 := cpuTime()
			b.ResetTimer()
			for b.Loop() {
				L.Push(fn)
				if err := L.PCall(0, 0, nil); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			perOp := float64(charged) / float64(b.N)
			b.ReportMetric(perOp, "instr/op")
			if charged > 0 {
				b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(charged), "cpu-ns/instr")
			}
		})
	}
}

// BenchmarkSmall compares calls on short strings, as the runtime and handlers make them, with
// gopher-lua's own string library (sub-benchmark "gopher-lua").
func BenchmarkSmall(b *testing.B) {
	code := `local s, n = "hello world", 0
for i = 1, 1000 do
  local a = string.find(s, "o w")
  local k, v = string.match("key=value", "(%w+)=(%w+)")
  local g = string.gsub(s, "o", "0")
  local f = string.format("%d:%s|%5.2f", i, s, 1.5)
  local u = s:upper() .. s:sub(2, 4) .. s:rep(2)
  for w in s:gmatch("%a+") do n = n + 1 end
end`
	for _, lib := range []string{"strlib", "gopher-lua"} {
		b.Run(lib, func(b *testing.B) {
			L := lua.NewState()
			defer L.Close()
			if lib == "strlib" {
				Open(L, Hooks{Charge: func(*lua.LState, int64) {}})
			}
			fn, err := L.LoadString(code)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				L.Push(fn)
				if err := L.PCall(0, 0, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
