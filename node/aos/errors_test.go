package aos

import (
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestErrorsLikeLua53 runs every chunk of testdata/lua53-errors/corpus.txt in a process, as an Eval loads
// and runs it (load(code, "aos") under pcall), and compares what fails, and how, with what Lua 5.3.6 gives
// for the same chunk (lua53.txt, written by run53.lua with lua5.3): wording, variable names, positions,
// levels, non-string error values, argument errors of the base library, coroutine errors.
func TestErrorsLikeLua53(t *testing.T) {
	corpus, err := os.ReadFile("testdata/lua53-errors/corpus.txt")
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("testdata/lua53-errors/lua53.txt")
	if err != nil {
		t.Fatal(err)
	}
	chunks := strings.Split(strings.TrimRight(string(corpus), "\n"), "\n")
	expected := strings.Split(strings.TrimRight(string(want), "\n"), "\n")
	if len(chunks) != len(expected) {
		t.Fatalf("%d chunks, %d results: regenerate lua53.txt", len(chunks), len(expected))
	}
	p := lpBoot(t, Options{})
	for i, code := range chunks {
		src := "local code = [==[" + strings.ReplaceAll(code, `\n`, "\n") + "]==]\n" + `local f, err = load(code, "aos")
local res
if not f then
  res = "COMPILE " .. tostring(err)
else
  local ok, e = pcall(f)
  if ok then res = "OK" else res = (type(e) == "string") and e or ("<" .. type(e) .. ">") end
end
return (res:gsub("\n", "\\n"))`
		r := p.eval(src)
		if r.Error != "" {
			t.Errorf("%s\n  the Eval failed: %s", code, r.Error)
			continue
		}
		if r.Output.Data != expected[i] {
			t.Errorf("%s\n  Lua 5.3: %s\n  aonode:  %s", code, expected[i], r.Output.Data)
		}
	}
}

// The stack below user code is AOS's, as the aos 2.0.0 wasm shows it: tracebacks from a handler, a pattern
// and an Eval, and error levels that reach into the runtime. Expected values are the wasm's answers to the
// same messages.
func TestErrorsLikeAOS(t *testing.T) {
	const (
		handleTail  = "\n\t[C]: in function 'pcall'\n\t[string \".handlers\"]:555: in function '.handlers.evaluate'\n\t[C]: in function 'pcall'\n\t[string \".process\"]:695: in function <[string \".process\"]:693>"
		patternTail = "\n\t[string \".handlers\"]:499: in function '.handlers.evaluate'\n\t[C]: in function 'pcall'\n\t[string \".process\"]:695: in function <[string \".process\"]:693>"
		evalTail    = "\n\t[string \".eval\"]:27: in function <[string \".eval\"]:7>\n\t(...tail calls...)" + handleTail
		failed      = "\n\n\x1b[31merror:\n\x1b[0m"
	)
	p := lpBoot(t, Options{})
	p.mustEval(`Handlers.add('T', 'T', function(m) print(debug.traceback()) end)
Handlers.add('P', function(m) if m.Action == 'P' then print(debug.traceback()) end return false end, function() end)
local function inner() print(debug.traceback()) end
Handlers.add('N', 'N', function(m) inner() end)
Handlers.add('R', 'R', { [function(m) return true end] = function(m) print(debug.traceback()) end })
Handlers.add('X', 'X', function(m) print(select(2, xpcall(function() local x = nil; return x.y end, debug.traceback))) end)
Handlers.add('L2', 'L2', function(m) error('lvl2', 2) end)
Handlers.add('P2', function(m) if m.Action == 'P2' then error('plvl2', 2) end return false end, function() end)`)
	for _, c := range []struct{ action, output, err string }{
		{"T", "stack traceback:\n\t[string \"aos\"]:1: in function <[string \"aos\"]:1>\n\t(...tail calls...)" + handleTail, ""},
		{"P", "stack traceback:\n\t[string \"aos\"]:2: in function <[string \"aos\"]:2>\n\t(...tail calls...)" + patternTail, ""},
		{"N", "stack traceback:\n\t[string \"aos\"]:3: in upvalue 'inner'\n\t[string \"aos\"]:4: in function <[string \"aos\"]:4>\n\t(...tail calls...)" + handleTail, ""},
		{"R", "stack traceback:\n\t[string \"aos\"]:5: in function <[string \"aos\"]:5>\n\t(...tail calls...)" + handleTail, ""},
		{"X", "[string \"aos\"]:6: attempt to index a nil value (local 'x')\nstack traceback:\n\t[string \"aos\"]:6: in function <[string \"aos\"]:6>\n\t[C]: in function 'xpcall'\n\t[string \"aos\"]:6: in function <[string \"aos\"]:6>\n\t(...tail calls...)" + handleTail, ""},
		{"L2", "", "\x1b[31mError\x1b[90m handling message with Action = L2\x1b[0m\n\x1b[32m[string \".handlers\"]:559: lvl2\x1b[0m\n\n\x1b[90mstack traceback:\n\t[string \".process\"]:753: in function '.process.handle'\x1b[0m" + failed + "[string \".handlers\"]:559: lvl2"},
		{"P2", "", "\x1b[31mError\x1b[90m handling message with Action = P2\x1b[0m\n\x1b[32m[string \".handlers\"]:499: plvl2\x1b[0m\n\n\x1b[90mstack traceback:\n\t[string \".process\"]:753: in function '.process.handle'\x1b[0m" + failed + "[string \".handlers\"]:499: plvl2"},
	} {
		r := p.Handle(p.msg(lpUser, "", Tag{"Action", c.action}))
		out := r.Output.Data
		if c.action == "P" { // the message then goes to the Inbox, which says so
			out, _, _ = strings.Cut(out, "\n\x1b[90mNew Message")
		}
		if out != c.output || r.Error != c.err {
			t.Errorf("%s:\n  output %q\n  want   %q\n  error  %q\n  want   %q", c.action, out, c.output, r.Error, c.err)
		}
	}
	for _, c := range []struct{ code, output, err string }{
		{"return debug.traceback()", "stack traceback:\n\t[string \"aos\"]:1: in local 'func'" + evalTail, ""},
		{`return debug.traceback("msg")`, "msg\nstack traceback:\n\t[string \"aos\"]:1: in local 'func'" + evalTail, ""},
		{`local function f() return debug.traceback("x", 1) end return f()`, "x\nstack traceback:\n\t[string \"aos\"]:1: in function <[string \"aos\"]:1>\n\t(...tail calls...)" + evalTail, ""},
		{`error("x", 2)`, "", failed + "[string \".handlers\"]:559: [string \".eval\"]:27: x"},
		{`error("x", 3)`, "", failed + "[string \".handlers\"]:559: x"},
		{`local function f() error("y", 2) end f()`, "", failed + "[string \".handlers\"]:559: [string \"aos\"]:1: y"},
		{`local function f() error("y", 3) end f()`, "", failed + "[string \".handlers\"]:559: [string \".eval\"]:27: y"},
		{`return select(2, pcall(error, "z", 2))`, "[string \"aos\"]:1: z", ""},
		{`return select(2, pcall(error, "z", 3))`, "[string \".eval\"]:27: z", ""},
	} {
		r := p.eval(c.code)
		if r.Output.Data != c.output || r.Error != c.err {
			t.Errorf("%s:\n  output %q\n  want   %q\n  error  %q\n  want   %q", c.code, r.Output.Data, c.output, r.Error, c.err)
		}
	}
}

// A traceback of more than 21 levels shows the first 10, "...", and the last 11, as Lua 5.3's does.
func TestTracebackLevels(t *testing.T) {
	p := lpBoot(t, Options{})
	r := p.mustEval(`local function deep(n) if n == 0 then return debug.traceback() end local t = deep(n - 1) return t end
return deep(30)`)
	lines := strings.Split(r.Output.Data, "\n")
	levels, dots := 0, -1
	for i, l := range lines[1:] {
		switch l {
		case "\t...":
			dots = levels
		case "\t(...tail calls...)":
		default:
			levels++
			if i == 0 && l != "\t[string \"aos\"]:1: in upvalue 'deep'" {
				t.Errorf("first level %q", l)
			}
		}
	}
	if levels != 10+11 || dots != 10 || lines[len(lines)-1] != "\t[string \".process\"]:695: in function <[string \".process\"]:693>" {
		t.Fatalf("%d levels, ... after %d:\n%s", levels, dots, r.Output.Data)
	}
}

// pcall and xpcall run their function under an error handler. gopher-lua leaves the upvalues of the frames
// an error unwinds open under one; they are closed before the frames go, so closures keep the values.
// Without a handler gopher-lua closes every open upvalue of the thread, those of frames that live on
// included; pcall no longer does that either.
func TestCaughtErrorsKeepUpvalues(t *testing.T) {
	p := lpBoot(t, Options{})
	for _, c := range []struct{ code, want string }{
		// a local of a frame the error unwound, captured before the error
		{`local f
pcall(function() local v = 'kept'; f = function() return v end; error('x') end)
local a, b, c = 'p', 'q', 'r'
return f()`, "kept"},
		{`local f
xpcall(function() local v = 'kept'; f = function() return v end; error('x') end, function(e) return e end)
local a, b, c = 'p', 'q', 'r'
return f()`, "kept"},
		{`local f
pcall(function() local v = 1; f = function() v = v + 1; return v end; local t = nil; return t.x end)
f()
return f()`, "3"},
		// a local of the live frame stays shared with its closure
		{`local count = 0
local function inc() count = count + 1 end
inc()
pcall(error, 'x')
inc()
return count`, "2"},
		{`local count = 0
local function inc() count = count + 1 end
inc()
xpcall(error, function(e) return e end)
inc()
return count`, "2"},
		// a nested pcall inside the handler's pcall
		{`local f
pcall(function()
  pcall(error, 'inner')
  local v = 'outer kept'
  f = function() return v end
  error('outer')
end)
local a, b = 1, 2
return f()`, "outer kept"},
	} {
		if r := p.mustEval(c.code); r.Output.Data != c.want {
			t.Errorf("%s\n  got %q, want %q", c.code, r.Output.Data, c.want)
		}
	}
}

// An Eval that returns a second value fails with that value as the Error, as AOS's result has it: a JSON
// number, boolean, object or array when it is one (numbers written as Lua 5.3's json module writes them).
// The text of Error says the same; a value JSON cannot hold keeps its Lua text.
func TestErrorValue(t *testing.T) {
	p := lpBoot(t, Options{})
	for _, c := range []struct{ code, text, json string }{
		{"return 1, 2", "2", "2"},
		{"math.modf(-3.7)", "-0.7", "-0.7"},
		{"return 1, 2^53", "9007199254741000", "9007199254741000"},
		{"return 1, true", "true", "true"},
		{"return 1, { b = { 1, 2 }, a = 'x<y' }", `{"a":"x<y","b":[1,2]}`, `{"a":"x<y","b":[1,2]}`},
		{"return 1, {}", "[]", "[]"},
		{"return 1, 'plain'", "plain", `"plain"`},
	} {
		r := p.eval(c.code)
		raw, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		var back struct{ Error json.RawMessage }
		if err := json.Unmarshal(raw, &back); err != nil {
			t.Fatal(err)
		}
		wire, err := plainJSON(back.Error) // json.Marshal may escape <, > and & in it
		if err != nil {
			t.Fatal(err)
		}
		if r.Error != c.text || string(wire) != c.json {
			t.Errorf("%s: Error %q, JSON %s; want %q, %s", c.code, r.Error, back.Error, c.text, c.json)
		}
		var decoded Result
		if err := json.Unmarshal(raw, &decoded); err != nil {
			t.Fatal(err)
		}
		if decoded.Error != r.Error || string(decoded.ErrorValue) != string(r.ErrorValue) {
			t.Errorf("%s: decoded Error %q (%s), was %q (%s)", c.code, decoded.Error, decoded.ErrorValue, r.Error, r.ErrorValue)
		}
	}
	// a function has no JSON form: its text
	if r := p.eval("return 1, print"); !strings.HasPrefix(r.Error, "function: 0x") || r.ErrorValue != nil {
		t.Errorf("function error: %q (%s)", r.Error, r.ErrorValue)
	}
	var none Result
	if err := json.Unmarshal([]byte(`{"Messages":[],"Spawns":[],"Assignments":[],"Output":{"data":"x"},"GasUsed":3}`), &none); err != nil || none.Error != "" || none.ErrorValue != nil || none.Output.Data != "x" || none.GasUsed != 3 {
		t.Errorf("decoded a result without Error: %+v, %v", none, err)
	}
}

// Walking a deep stack (a traceback, an error level) costs in proportion to its depth: a loop of them
// stops at the compute limit after a number of walks that the depth bounds.
func TestStackWalksAreCharged(t *testing.T) {
	for _, walk := range []string{"debug.traceback()", `pcall(error, "x", 1e8)`} {
		p := lpBoot(t, Options{ComputeLimit: 2_000_000})
		r := p.eval(`Count = 0
local function f(d) if d == 0 then while true do ` + walk + ` Count = Count + 1 end end return 1 + f(d - 1) end
return f(10000)`)
		if !strings.Contains(r.Error, "compute limit exceeded") {
			t.Fatalf("%s: %q", walk, r.Error)
		}
		n := p.mustEval("return Count").Output.Data
		if count, _ := strconv.Atoi(n); count == 0 || count > 2_000_000/(10000/frameStepsPerInstruction) {
			t.Errorf("%s: %s walks of 10,000 frames under a limit of 2,000,000 instructions", walk, n)
		}
	}
}
