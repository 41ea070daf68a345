package aos

import "testing"

// TestRandomAgainstWasm: math.random and .chance give the wasm's numbers for the same process and messages
// (the process is seeded on its spawn from Block-Height, Owner, Module and Id), 2,000 draws through three
// of the generator's refills included. Floats are compared as the 32-bit draws they come from.
func TestRandomAgainstWasm(t *testing.T) {
	runWasmCases(t, []wasmCase{
		{"local t = {} for i = 1, 5 do t[#t+1] = string.format('%.0f', math.random() * 4294967296) end return table.concat(t, ' ')", "3998504042 3737042499 2968405336 1812270074 1403737069"},
		{"local t = {} for i = 1, 5 do t[#t+1] = tostring(math.random(100)) end return table.concat(t, ' ')", "99 16 52 10 24"},
		{"local t = {} for i = 1, 5 do t[#t+1] = tostring(math.random(5, 10)) end return table.concat(t, ' ')", "8 8 7 7 5"},
		{"math.randomseed(42) local t = {} for i = 1, 3 do t[#t+1] = tostring(math.random(1000)) end return table.concat(t, ' ')", "306 68 10"},
		{"local c = require('.chance') c.seed(42) local t = {} for i = 1, 3 do t[#t+1] = string.format('%.0f', c.random() * 4294967296) end t[#t+1] = tostring(c.integer(1, 6)) return table.concat(t, ' ')", "1608637542 3421126067 4083286876 2"},
		{"local t = {} for i = 1, 3 do t[#t+1] = tostring(math.random(1000)) end return table.concat(t, ' ')", "732 780 599"},
		{"local s, last = 0, {} for i = 1, 2000 do local v = math.random(1, 1000000) s = s + v if i > 1995 then last[#last+1] = tostring(v) end end return tostring(s) .. ' ' .. table.concat(last, ' ')", "995716648 541901 958171 872946 758393 732225"},
		{"local t = {} for i = 1, 3 do t[#t+1] = string.format('%.0f', math.random(nil) * 4294967296) end t[#t+1] = tostring(math.random(1, 2, 3) < 1) t[#t+1] = tostring(math.random(2.5)) t[#t+1] = tostring(math.random('3', '4')) return table.concat(t, ' ')", "2744266718 3464153748 3260034128 true 2 4"},
		{"local c = require('.chance') c.seed(5489) local t = {} for i = 1, 3 do t[#t+1] = string.format('%.0f', c.random() * 4294967296) end return table.concat(t, ' ')", "3499211612 581869302 3890346734"},
		{"local c = require('.chance') local t = {} for _, s in ipairs({-1, 2^40 + 7, '42', 0, 4294967295}) do c.seed(s) t[#t+1] = string.format('%.0f', c.random() * 4294967296) end return table.concat(t, ' ')", "419326371 327741615 1608637542 2357136044 419326371"},
		{"local ok, e = pcall(math.random, 0) return e", `[string ".chance"]:163: max must bigger than min`},
		{"local ok, e = pcall(math.random, 3, 1) return e", `[string ".chance"]:163: max must bigger than min`},
		{"local ok, e = pcall(require('.chance').seed, 1.5) return e", `[string ".chance"]:17: number (local 's') has no integer representation`},
		{"local ok, e = pcall(require('.chance').seed, 'abc') return e", `[string ".chance"]:17: attempt to perform bitwise operation on a string value (local 's')`},
		{"local ok, e = pcall(require('.chance').seed) return e", `[string ".chance"]:17: attempt to perform bitwise operation on a nil value (local 's')`},
		{"local ok, e = pcall(require('.chance').integer, 'a', 'b') return e", `[string ".chance"]:165: attempt to perform arithmetic on a string value (local 'max')`},
		{"local ok, e = pcall(require('.chance').integer, 1, 'b') return e", `[string ".chance"]:163: attempt to compare number with string`},
		{"local ok, e = pcall(require('.chance').integer, {}, {}) return e", `[string ".chance"]:163: attempt to compare two table values`},
		{"local ok, e = pcall(math.randomseed) return tostring(ok)", "false"},
		{"local ks = {} for k in pairs(require('.chance')) do ks[#ks+1] = k end table.sort(ks) return table.concat(ks, ' ')", "integer random seed"},
		{"return tostring(Seeded) .. ' ' .. type(math.random) .. ' ' .. tostring(math.random == require('.chance').random)", "true function false"},
	})
}

// TestRandomStateTravels: the generator's state is the process's: a fork draws what the process would.
func TestRandomStateTravels(t *testing.T) {
	p, eval := wasmProcess(t)
	p.Handle(eval("for i = 1, 700 do math.random() end"))
	f, err := p.Fork()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	code := "local t = {} for i = 1, 3 do t[i] = math.random(1000000) end return table.concat(t, ' ')"
	m := eval(code)
	a, b := p.Handle(m), f.Handle(m)
	if a.Error != "" || a.Output.Data != b.Output.Data {
		t.Errorf("process %q, fork %q", a.Output.Data+a.Error, b.Output.Data+b.Error)
	}
}
