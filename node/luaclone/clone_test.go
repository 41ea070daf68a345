package luaclone

import (
	"errors"
	"strings"
	"sync"
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/aonode/aonode/internal/luavm"
)

// Every case: build src, clone, compare the whole state structurally, then
// evaluate each check in the clone and in src; both must give want.
func TestCloneRoundTrip(t *testing.T) {
	type check struct{ expr, want string }
	cases := []struct {
		name    string
		prelude string
		setup   string
		checks  []check
	}{
		{
			name:  "scalars",
			setup: `n = 42; f = 3.25; neg = -0.5; big = 2^53; s = "h\195\169llo\0bin"; e = ""; yes = true; no = false`,
			checks: []check{
				{`n, f, neg, big`, "42,3.25,-0.5,9007199254740992"},
				{`#s, s == "h\195\169llo\0bin", e == ""`, "10,true,true"},
				{`yes, no, type(no), nothing`, "true,false,boolean,nil"},
			},
		},
		{
			name:  "nested tables",
			setup: `cfg = {a = {b = {c = "deep"}}, list = {1, 2, 3, {4}}, [7] = "seven", [2.5] = "float", [true] = "bool"}`,
			checks: []check{
				{`cfg.a.b.c, #cfg.list, cfg.list[4][1]`, "deep,4,4"},
				{`cfg[7], cfg[2.5], cfg[true]`, "seven,float,bool"},
			},
		},
		{
			name: "cycles and aliasing",
			setup: `a = {}; a.self = a
				b = {x = a, y = a}; c = {a, a}
				k = {}; fk = function() end
				m = {[k] = "tablekey", [fk] = "fnkey", [a] = a}
				ring = {}; ring.next = {prev = ring}; ring.next.next = ring`,
			checks: []check{
				{`a.self == a, b.x == b.y, b.x == a, c[1] == c[2], c[1] == a`, "true,true,true,true,true"},
				{`m[k], m[fk], m[a] == a`, "tablekey,fnkey,true"},
				{`ring.next.prev == ring, ring.next.next == ring`, "true,true"},
			},
		},
		{
			name: "functions and closures",
			setup: `function add(x, y) return x + y end
				local base = 10
				function addbase(x) return x + base end
				function mk(n) return function() n = n * 2; return n end end
				dbl = mk(3)
				dbl()
				rec = function(n) if n == 0 then return 0 end return n + rec(n - 1) end`,
			checks: []check{
				{`add(2, 3), addbase(5), rec(4)`, "5,15,10"},
				{`dbl(), dbl()`, "12,24"},
			},
		},
		{
			name: "metatables",
			setup: `local Obj = {}
				Obj.__index = Obj
				Obj.__tostring = function(o) return "Obj(" .. o.v .. ")" end
				Obj.__call = function(o, x) return o.v + x end
				Obj.__eq = function(a, b) return a.v == b.v end
				Obj.__add = function(a, b) return a.v + b.v end
				function Obj.get(o) return o.v end
				function new(v) return setmetatable({v = v}, Obj) end
				o1, o2 = new(7), new(7)
				logged = {}
				proxy = setmetatable({}, {__index = function(_, k) return k .. "!" end,
					__newindex = function(t, k, v) table.insert(logged, k); rawset(t, k, v) end})
				prot = setmetatable({}, {__metatable = "locked"})`,
			checks: []check{
				{`tostring(o1), o1(3), o1:get(), o1 == o2, o1 + o2`, "Obj(7),10,7,true,14"},
				{`proxy.foo`, "foo!"},
				{`(function() proxy.z = 1; return logged[#logged], rawget(proxy, "z") end)()`, "z,1"},
				{`getmetatable(prot)`, "locked"},
			},
		},
		{
			name:  "string metatable changed",
			setup: `getmetatable("").__index.shout = function(s) return s:upper() .. "!" end`,
			checks: []check{
				{`("hi"):shout(), ("x"):rep(3)`, "HI!,xxx"},
			},
		},
		{
			name: "string metatable replaced",
			setup: `local sm = {__index = function(s, k) return "idx:" .. k end}
				debug.setmetatable("", sm)`,
			checks: []check{{`("s").anything`, "idx:anything"}},
		},
		{
			name: "function and number metatables",
			setup: `debug.setmetatable(print, {__index = {kind = "fn"}})
				debug.setmetatable(0, {__index = {double = function(n) return n * 2 end}})`,
			checks: []check{{`print.kind, (21):double()`, "fn,42"}},
		},
		{
			name: "function environments",
			setup: `local env = setmetatable({y = 5}, {__index = _G})
				function envf() return y, type(print) end
				setfenv(envf, env)
				y = "global"`,
			checks: []check{
				{`envf()`, "5,function"},
				{`getfenv(envf).y, y, getfenv(envf) ~= _G`, "5,global,true"},
			},
		},
		{
			name:  "userdata with registry metatable",
			setup: `p = newpoint(1, 2); pts = {p, p}; p:move(2, 3)`,
			checks: []check{
				{`tostring(p), p:x(), pts[1] == pts[2], pts[1] == p`, "point(3,5),3,true,true"},
				{`getmetatable(p) == getmetatable(newpoint(0, 0))`, "true"},
			},
		},
		{
			name:   "per-VM context userdata maps to the clone's own",
			setup:  `ctxs = {vmctx, vmctx}`,
			checks: []check{{`isminectx(vmctx), isminectx(ctxs[1]), ctxs[2] == vmctx`, "true,true,true"}},
		},
		{
			name:   "Go closure keeps its upvalue state",
			setup:  `gocounter(); gocounter()`,
			checks: []check{{`gocounter(), gocounter()`, "3,4"}},
		},
		{
			name: "modules and require",
			setup: `local ext = require("ext")
				M = {n = 0}
				function M.hello() M.n = M.n + 1; return ext.upper("hi") .. M.n end
				package.loaded.mymod = M
				lz = require("lazystateless")`,
			checks: []check{
				{`require("mymod") == M, require("mymod").hello(), M.n`, "true,HI1,1"},
				{`require("ext").version, lz.upper("q"), require("lazystateless") == lz`, "1.0,Q,true"},
			},
		},
		{
			name: "builtins reachable only through upvalues",
			setup: `local fmt, ins = string.format, table.insert
				string.format = nil
				table = nil
				function fmtit(x) local t = {}; ins(t, x); return fmt("<%s>", t[1]) end`,
			checks: []check{{`fmtit("a"), string.format, table`, "<a>,nil,nil"}},
		},
		{
			name: "runtime top-level Go function",
			setup: `c100 = mkgofunc(); c100()
				words = {}; for w in string.gmatch("a b", "%a+") do words[#words+1] = w end`,
			checks: []check{{`c100(), #words`, "102,2"}},
		},
		{
			name: "dead coroutine",
			setup: `co = coroutine.create(function(a) coroutine.yield(a) return "done" end)
				coroutine.resume(co, 1); coroutine.resume(co)`,
			checks: []check{{`coroutine.status(co), coroutine.resume(co)`, "dead,false,can not resume a dead thread"}},
		},
		{
			name:    "fresh VM with a Lua prelude hiding builtins",
			prelude: `local _print, _emit = print, require("ext").emit; function log(...) _print("log:", ...) end; function emit2(s) _emit(s) end; print = nil`,
			setup:   `state = {n = 1}; function bump() state.n = state.n + 1; log(state.n) end`,
			checks:  []check{{`(function() bump(); return state.n end)(), print`, "2,nil"}},
		},
		{
			name:   "globals table replaced by a proxy env for chunks",
			setup:  `sandbox = setmetatable({}, {__index = _G}); local f = loadstring("z = 9; return z"); setfenv(f, sandbox); f()`,
			checks: []check{{`sandbox.z, z, rawget(sandbox, "print")`, "9,nil,nil"}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src := mustProc(t, tc.prelude, tc.setup)
			dst := cloneProc(t, src, tc.prelude)
			assertSameShape(t, src.L, dst.L)
			for _, c := range tc.checks {
				if got := eval(t, dst.L, c.expr); got != c.want {
					t.Errorf("clone: %s = %q, want %q", c.expr, got, c.want)
				}
				if got := eval(t, src.L, c.expr); got != c.want {
					t.Errorf("src: %s = %q, want %q", c.expr, got, c.want)
				}
			}
		})
	}
}

func TestSharedUpvalues(t *testing.T) {
	src := mustProc(t, "", `
		local n = 0
		function inc() n = n + 1; return n end
		function get() return n end
		function pair()
			local v = 0
			return function(d) v = v + d; return v end, function() return v end
		end
		add, read = pair()
		add(5)
		inc(); inc()`)
	dst := cloneProc(t, src, "")
	assertSameShape(t, src.L, dst.L)

	// inc/get share n in each VM, and the VMs do not share it with each other.
	do(t, src.L, `inc(); inc()`)
	do(t, dst.L, `inc()`)
	if got := eval(t, src.L, `get()`); got != "4" {
		t.Errorf("src get() = %s, want 4", got)
	}
	if got := eval(t, dst.L, `get()`); got != "3" {
		t.Errorf("clone get() = %s, want 3", got)
	}
	do(t, dst.L, `add(10)`)
	if got := eval(t, dst.L, `read()`); got != "15" {
		t.Errorf("clone read() = %s, want 15", got)
	}
	if got := eval(t, src.L, `read()`); got != "5" {
		t.Errorf("src read() = %s, want 5", got)
	}
	// The copies are distinct Upvalue objects, shared between inc and get.
	inc := dst.L.GetGlobal("inc").(*lua.LFunction)
	get := dst.L.GetGlobal("get").(*lua.LFunction)
	if inc.Upvalues[0] != get.Upvalues[0] {
		t.Error("inc and get do not share their upvalue in the clone")
	}
	if inc.Upvalues[0] == src.L.GetGlobal("inc").(*lua.LFunction).Upvalues[0] {
		t.Error("clone shares an upvalue with src")
	}
	if inc.Proto != src.L.GetGlobal("inc").(*lua.LFunction).Proto {
		t.Error("clone does not share the function prototype")
	}
}

func TestGoBuiltinsUseTheClonesState(t *testing.T) {
	const prelude = `local _print = print; function log(...) _print("log:", ...) end`
	src := mustProc(t, prelude, `
		local p = print
		local emit = require("ext").emit
		function hello(who) print("hello " .. who) end
		function viaUpvalue(x) p("up " .. x) end
		function viaModule(x) emit(x) end`)
	src.out.Reset()
	dst := cloneProc(t, src, prelude)

	cases := []struct{ call, want string }{
		{`hello("dst")`, "hello dst\n"},
		{`viaUpvalue("u")`, "up u\n"},
		{`viaModule("m")`, "emit:m\n"},
		{`log("l")`, "log:\tl\n"},
		{`print("direct")`, "direct\n"},
	}
	for _, c := range cases {
		dst.out.Reset()
		do(t, dst.L, c.call)
		if got := dst.out.String(); got != c.want {
			t.Errorf("%s: clone buffer %q, want %q", c.call, got, c.want)
		}
		if src.out.Len() != 0 {
			t.Fatalf("%s wrote to the source buffer: %q", c.call, src.out.String())
		}
	}
	do(t, src.L, `hello("src")`)
	if src.out.String() != "hello src\n" {
		t.Errorf("src buffer %q", src.out.String())
	}
}

// After the clone, mutating either VM must not affect the other. Each case
// mutates, then reads probe in both VMs.
func TestIndependence(t *testing.T) {
	const setup = `
		t = {1, 2, 3, k = "v", sub = {x = 1}}
		local n = 0
		function inc() n = n + 1; return n end
		function get() return n end
		obj = setmetatable({}, {__index = function() return "mt1" end})
		p = newpoint(1, 1)
		ud = newpoint(0, 0)
		debug.setfenv(ud, {tag = "env1"})
		function envf() return tag end
		setfenv(envf, {tag = "fenv1"})
		package.loaded.mod = {val = 1}
		gocounter()`
	cases := []struct {
		name, mutate, probe, before string
	}{
		{"global", `newglobal = 1; t = nil`, `newglobal, type(t)`, "nil,table"},
		{"nested field", `t.sub.x = 99; t.k = nil`, `t.sub.x, t.k`, "1,v"},
		{"array", `table.insert(t, 4); t[1] = "one"; table.remove(t, 2)`, `#t, t[1], t[2]`, "3,1,2"},
		{"upvalue", `inc(); inc()`, `get()`, "0"},
		{"metatable", `getmetatable(obj).__index = function() return "mt2" end`, `obj.anything`, "mt1"},
		{"setmetatable", `setmetatable(obj, nil)`, `obj.anything`, "mt1"},
		{"string metatable", `getmetatable("").__index.twice = function(s) return s .. s end`, `("a").twice`, "nil"},
		{"userdata value (registered copier)", `p:move(5, 5)`, `tostring(p)`, "point(1,1)"},
		{"userdata env", `debug.getfenv(ud).tag = "env2"`, `debug.getfenv(ud).tag`, "env1"},
		{"function env", `getfenv(envf).tag = "fenv2"`, `envf()`, "fenv1"},
		{"setfenv", `setfenv(envf, {tag = "other"})`, `envf()`, "fenv1"},
		{"package.loaded", `package.loaded.mod.val = 2; package.loaded.extra = true`, `require("mod").val, package.loaded.extra`, "1,nil"},
		{"go closure upvalue", `gocounter(); gocounter()`, `gocounter()`, "2"},
		{"builtin replaced", `print = nil; string.upper = nil`, `type(print), type(string.upper)`, "function,function"},
	}
	for _, c := range cases {
		for _, dir := range []string{"src->clone", "clone->src"} {
			t.Run(c.name+"/"+dir, func(t *testing.T) {
				src := mustProc(t, "", setup)
				dst := cloneProc(t, src, "")
				mut, other := src, dst
				if dir == "clone->src" {
					mut, other = dst, src
				}
				do(t, mut.L, c.mutate)
				if got := eval(t, other.L, c.probe); got != c.before {
					t.Errorf("after mutating the %s: %s = %q, want %q", strings.Split(dir, "->")[0], c.probe, got, c.before)
				}
			})
		}
	}
}

// pairs()/next order, #t and ipairs must match src, both right after the
// clone and after applying the same further mutations to both VMs.
func TestIterationOrder(t *testing.T) {
	const lib = `
		function keyrepr(k)
			if type(k) == "table" then return "tbl:" .. (k.name or "?") end
			return type(k) .. ":" .. tostring(k)
		end
		function order(t)
			local out = {}
			for k, v in pairs(t) do out[#out+1] = keyrepr(k) .. "=" .. keyrepr(v) end
			local ip = 0
			for i in ipairs(t) do ip = i end
			return table.concat(out, " ") .. " | #=" .. #t .. " ipairs=" .. ip
		end`
	cases := []struct {
		name, build, after string
	}{
		{"array", `t = {}; for i = 1, 50 do t[i] = i * i end`, `t[51] = 1; table.insert(t, 1, 0)`},
		{"hash", `t = {}; for i = 1, 200 do t["k" .. (i * 7919 % 200)] = i end`, `t.new = 1; t.k5 = nil; t.k5 = 2`},
		{"mixed constructor", `t = {1, 2, x = 1, 3, y = 2, [10] = 10, [-1] = "neg", [0] = "zero", [1.5] = "f", [true] = "b"}`, `t[4] = 4; t.z = 3`},
		{"object keys", `ka, kb = {name = "a"}, {name = "b"}; t = {[ka] = 1, [kb] = 2, s = 3}`, `t[ka] = nil; t[{name = "c"}] = 4; t[ka] = 5`},
		{"deletions and re-insertions", `t = {}
			for i = 1, 100 do t["k" .. i] = i end
			for i = 1, 100, 3 do t["k" .. i] = nil end
			for i = 1, 30, 6 do t["k" .. i] = -i end
			t.k2 = nil`, `t.k2 = "back"; t.k4 = nil; t.k4 = "again"; t.fresh = 1`},
		{"array holes", `t = {1, 2, 3, 4, 5}; t[2] = nil; t[5] = nil; t[8] = 8`, `t[2] = 2; table.insert(t, "x")`},
		{"trailing nils", `t = {1, 2, 3}; t[3] = nil; t[2] = nil`, `table.insert(t, "x"); t[#t + 1] = "y"`},
		{"table library", `t = {}; for i = 1, 10 do table.insert(t, i) end; table.remove(t, 3); table.insert(t, 2, "two"); table.sort(t, function(a, b) return tostring(a) < tostring(b) end)`, `table.remove(t); table.insert(t, 1, "first")`},
		{"numeric hash keys", `t = {}; t[1e9] = 1; t[-5] = 2; t[3.25] = 3; t[2^40] = 4; t[-5] = nil`, `t[-5] = "back"; t[7] = 7`},
		{"deleted object key reachable elsewhere", `kx = {name = "x"}; t = {a = 1}; t[kx] = 1; t.b = 2; t[kx] = nil`, `t[kx] = "back"; t.c = 3`},
		{"deleted object key unreachable", `t = {a = 1}; t[{name = "gone"}] = 1; t.b = 2; for k in pairs(t) do if type(k) == "table" then t[k] = nil end end`, `t.c = 3; t.a = nil; t.a = 1`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := mustProc(t, "", lib+"\n"+c.build)
			dst := cloneProc(t, src, "")
			assertSameShape(t, src.L, dst.L)
			so, do_ := eval(t, src.L, `order(t)`), eval(t, dst.L, `order(t)`)
			if so != do_ {
				t.Fatalf("order differs after clone:\nsrc:   %s\nclone: %s", so, do_)
			}
			st, dt := src.L.GetGlobal("t").(*lua.LTable), dst.L.GetGlobal("t").(*lua.LTable)
			if len(luavm.TableArray(st)) != len(luavm.TableArray(dt)) {
				t.Errorf("array part length %d, want %d", len(luavm.TableArray(dt)), len(luavm.TableArray(st)))
			}
			do(t, src.L, c.after)
			do(t, dst.L, c.after)
			so, do_ = eval(t, src.L, `order(t)`), eval(t, dst.L, `order(t)`)
			if so != do_ {
				t.Fatalf("order differs after the same mutations:\nsrc:   %s\nclone: %s", so, do_)
			}
		})
	}
}

// Tables written from Go with RawSetH may keep array-range numbers in the hash
// part; the copy keeps that placement.
func TestGoBuiltTableLayout(t *testing.T) {
	src := mustProc(t, "", "")
	tb := src.L.NewTable()
	tb.RawSetH(lua.LNumber(2), lua.LString("hash-two"))
	tb.RawSetInt(1, lua.LString("arr-one"))
	tb.RawSetH(lua.LNumber(1), lua.LString("hash-one"))
	tb.RawSetString("s", lua.LTrue)
	src.L.SetGlobal("gt", tb)
	dst := cloneProc(t, src, "")
	assertSameShape(t, src.L, dst.L)
	dt := dst.L.GetGlobal("gt").(*lua.LTable)
	if got := dt.RawGetH(lua.LNumber(1)); got != lua.LString("hash-one") {
		t.Errorf("hash key 1 = %v", got)
	}
	if got := dt.RawGetInt(1); got != lua.LString("arr-one") {
		t.Errorf("array index 1 = %v", got)
	}
}

func TestNotCloneable(t *testing.T) {
	cases := []struct {
		name, setup string
		errHas      string
	}{
		{"suspended coroutine", `co = coroutine.create(function() coroutine.yield(1) end); coroutine.resume(co)`, "suspended"},
		{"suspended coroutine only in an upvalue", `local co = coroutine.create(function() coroutine.yield() end); coroutine.resume(co); function waiter() return co end`, "waiter"},
		{"coroutine not started", `co = coroutine.create(function() end)`, "co"},
		{"coroutine.wrap suspended", `gen = coroutine.wrap(function() coroutine.yield(1); coroutine.yield(2) end); gen()`, "suspended"},
		{"coroutine.wrap finished", `gen = coroutine.wrap(function() end); gen()`, "coroutine.wrap"},
		{"Go closure created at run time", `cnt = mkgoclosure(); cnt()`, "no counterpart"},
		{"lazily required Go closure module", `lz = require("lazy")`, "lz.hi"},
		{"channel", `ch = channel.make(1)`, "channel"},
		{"userdata whose copier fails", `keep = {newsecret()}`, "secret handles cannot be copied"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := mustProc(t, "", c.setup)
			before := dumpState(src.L)
			_, err := tryClone(src, "", Options{})
			if !errors.Is(err, ErrNotCloneable) {
				t.Fatalf("err = %v, want ErrNotCloneable", err)
			}
			t.Log(err)
			if !strings.Contains(err.Error(), c.errHas) {
				t.Errorf("err %q does not mention %q", err, c.errHas)
			}
			if after := dumpState(src.L); after != before {
				t.Errorf("failed Clone changed src:\n%s", firstDiff(before, after))
			}
		})
	}
}

// gopher-lua v1.1.2 leaves upvalues open when LState.PCall with an error
// handler unwinds: the closure then reads a reused stack slot.
func TestOpenUpvalue(t *testing.T) {
	src := mustProc(t, "", "")
	fn, err := src.L.LoadString(`local x = 41; leaky = function() return x end; sealed = function() return 1 end; error("boom")`)
	if err != nil {
		t.Fatal(err)
	}
	src.L.Push(fn)
	if err := src.L.PCall(0, 0, src.L.NewFunction(func(L *lua.LState) int { return 1 })); err == nil {
		t.Fatal("expected an error")
	}
	if src.L.GetGlobal("leaky").(*lua.LFunction).Upvalues[0].IsClosed() {
		t.Skip("gopher-lua closed the upvalue; nothing to test")
	}
	_, err = tryClone(src, "", Options{})
	if !errors.Is(err, ErrNotCloneable) || !strings.Contains(err.Error(), "open upvalue 1 (x)") {
		t.Fatalf("err = %v, want ErrNotCloneable about open upvalue x", err)
	}
	dst, err := tryClone(src, "", Options{SnapshotOpenUpvalues: true})
	if err != nil {
		t.Fatalf("with SnapshotOpenUpvalues: %v", err)
	}
	defer dst.L.Close()
	uv := dst.L.GetGlobal("leaky").(*lua.LFunction).Upvalues[0]
	if !uv.IsClosed() {
		t.Error("snapshot upvalue is not closed")
	}
	if got := eval(t, dst.L, `sealed()`); got != "1" {
		t.Errorf("sealed() = %s", got)
	}
}

func TestFreshErrors(t *testing.T) {
	src := mustProc(t, "", `x = 1`)
	boom := errors.New("boom")
	if _, err := Clone(src.L, func() (*lua.LState, error) { return nil, boom }); !errors.Is(err, boom) {
		t.Errorf("err = %v, want boom", err)
	}
	if _, err := Clone(src.L, func() (*lua.LState, error) { return src.L, nil }); err == nil {
		t.Error("Clone accepted src itself as the fresh state")
	}
	closed := lua.NewState()
	closed.Close()
	if _, err := Clone(closed, func() (*lua.LState, error) { return lua.NewState(), nil }); err == nil {
		t.Error("Clone accepted a closed source")
	}
}

// A plain lua.NewState() with nothing but the standard libraries.
func TestCloneStdlibOnly(t *testing.T) {
	src := lua.NewState()
	defer src.Close()
	do(t, src, `x = {1, 2, 3}; s = string.rep("ab", 2); m = math.max(1, 5)`)
	dst, err := Clone(src, func() (*lua.LState, error) { return lua.NewState(), nil })
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	assertSameShape(t, src, dst)
	if got := eval(t, dst, `#x, s, m, os.time() > 0, ("%d"):format(7)`); got != "3,abab,5,true,7" {
		t.Errorf("got %q", got)
	}
}

// Userdata of an unregistered type is copied shallowly: a new LUserData
// (own metatable and env) around the same Value.
func TestUserDataShallow(t *testing.T) {
	src := mustProc(t, "", `u = newshared(); setmetatable(u, {tag = 1})`)
	dst := cloneProc(t, src, "")
	su, du := src.L.GetGlobal("u").(*lua.LUserData), dst.L.GetGlobal("u").(*lua.LUserData)
	if su == du {
		t.Fatal("LUserData object shared")
	}
	if su.Value != du.Value {
		t.Error("Value of an unregistered userdata type was not shared")
	}
	if su.Metatable == du.Metatable {
		t.Error("userdata metatable shared")
	}
}

// Clone only reads src, so several clones of one idle state may run at once.
func TestConcurrentClones(t *testing.T) {
	src := mustProc(t, "", benchState)
	want := dumpState(src.L)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dp, err := tryClone(src, "", Options{})
			if err != nil {
				errs <- err
				return
			}
			defer dp.L.Close()
			if got := dumpState(dp.L); got != want {
				errs <- errors.New("clone differs: " + firstDiff(want, got))
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
