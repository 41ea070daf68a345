package aos

import (
	"errors"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/aonode/aonode/node/luaclone"
)

// A pcall in a coroutine lets its function yield, as Lua 5.3's does (the golden suite compares these with
// real AOS; here: what Lua sees of it, and what the runtime keeps).
func TestPcallYields(t *testing.T) {
	p := lpBoot(t, Options{ComputeLimit: 1_000_000})
	for _, c := range []struct{ name, code, want string }{
		{"yield and resume through pcall",
			`local co = coroutine.wrap(function () return pcall(function () return coroutine.yield(1) + 1 end) end) local first = co() local ok, v = co(41) return first .. " " .. tostring(ok) .. " " .. v`,
			"1 true 42"},
		{"tail-called pcall in a coroutine's main function ends the coroutine",
			`local co = coroutine.create(function () return pcall(function () return coroutine.yield(1) + 1 end) end) local _, first = coroutine.resume(co) local r = { coroutine.resume(co, 41) } return first .. " " .. tostring(r[1]) .. tostring(r[2]) .. " " .. r[3] .. " " .. coroutine.status(co)`,
			"1 truetrue 42 dead"},
		{"tail-called pcall in a nested function",
			`local co = coroutine.wrap(function () local function g() return pcall(function () return coroutine.yield(1) + 1 end) end local ok, v = g() return tostring(ok) .. v end) co() return co(9)`,
			"true10"},
		{"an error after a resume is pcall's",
			`local co = coroutine.create(function () local ok, e = pcall(function () coroutine.yield("a") error("boom") end) coroutine.yield(tostring(ok) .. " " .. e) return "end" end) local r = {} for i = 1, 4 do r[#r+1] = tostring(select(2, coroutine.resume(co))) end return table.concat(r, ",")`,
			`a,false [string "aos"]:1: boom,end,cannot resume dead coroutine`},
		{"running and status see through the child",
			`local co = coroutine.wrap(function () local me = coroutine.running() local ok, a, b = pcall(function () return coroutine.running() == me, coroutine.status(me) end) return tostring(ok) .. tostring(a) .. b end) return co()`,
			"truetruerunning"},
		{"error levels go on below the pcall", `local ok, e = pcall(function () error("lvl3", 3) end) return e`, `[string "aos"]:1: lvl3`},
		{"the C stack bound is the same", `local function f() return pcall(f) end return select("#", f())`, "196"},
		{"a Go builtin between cannot yield: table.sort's comparator",
			`local ok, e = pcall(function () table.sort({3,2,1}, function (a, b) return pcall(coroutine.yield) end) end) return tostring(ok) .. " " .. tostring(e)`,
			"true nil"},
		{"nor a metamethod: a pcall in one runs as a Go call, and its yield is refused",
			`local t = setmetatable({}, {__index = function(_, k) local ok, v = pcall(function() return coroutine.yield(k) end) return v end}) local co = coroutine.wrap(function() return t.key end) return co()`,
			`[string "aos"]:1: attempt to yield across a C-call boundary`},
		{"xpcall still cannot be yielded across",
			`local co = coroutine.wrap(function () return xpcall(function () coroutine.yield(1) end, function (m) return m end) end) local ok, e = co() return tostring(ok) .. " " .. e`,
			`false [string "aos"]:1: attempt to yield across a C-call boundary`},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := p.eval(c.code)
			if r.Error != "" || r.Output.Data != c.want {
				t.Fatalf("got %q (error %q), want %q", r.Output.Data, r.Error, c.want)
			}
		})
	}
}

// A handler suspended in a Receive inside a pcall goes on in a later message and leaves no link behind; a
// state holding it is not forked (like any suspended Receive: the CU replays instead), and a replay gives
// the same results.
func TestPcallReceiveAcrossMessages(t *testing.T) {
	run := func() []string {
		p := lpBoot(t, Options{})
		p.mustEval(`Handlers.add("careful", "Ask", function (m)
  local ok, r = pcall(function ()
    local reply = Receive({ Action = "Answer" })
    if reply.Data == "bad" then error("bad answer") end
    return reply.Data
  end)
  print("ok=" .. tostring(ok) .. " " .. tostring(r))
end)`)
		links := func() int {
			n := 0
			for _, key := range []string{regPcallParent, regPcallPending} {
				if tb, ok := p.L.G.Registry.RawGetString(key).(*lua.LTable); ok {
					tb.ForEach(func(lua.LValue, lua.LValue) { n++ })
				}
			}
			return n
		}
		var out []string
		for _, m := range []Message{
			p.msg(lpOwner, "", Tag{"Action", "Ask"}),
			p.msg(lpOwner, "42", Tag{"Action", "Answer"}),
			p.msg(lpOwner, "", Tag{"Action", "Ask"}),
			p.msg(lpOwner, "bad", Tag{"Action", "Answer"}),
		} {
			r := p.Handle(m)
			if r.Error != "" {
				t.Fatalf("%s: %s", m.Data, r.Error)
			}
			out = append(out, r.Output.Data)
			if links() == 2 { // suspended
				if _, err := p.Fork(); !errors.Is(err, luaclone.ErrNotCloneable) {
					t.Fatalf("fork of a suspended pcall: %v", err)
				}
			} else if links() != 0 {
				t.Fatalf("%d links", links())
			}
		}
		if !strings.Contains(out[1], "ok=true 42") || !strings.Contains(out[3], `ok=false [string "aos"]:4: bad answer`) {
			t.Fatalf("outputs %q", out)
		}
		return out
	}
	if a, b := run(), run(); strings.Join(a, "|") != strings.Join(b, "|") {
		t.Fatalf("replay differs:\n%q\n%q", a, b)
	}
}
