package aos

import (
	"strings"
	"testing"
)

func TestJSONAgainstWasm(t *testing.T) {
	pe := func(args string) string { return "local ok, e = pcall(require('json')." + args + ") return e" }
	runWasmCases(t, []wasmCase{
		// encode: what is an array, an object, or an error
		{pe("encode, function() end"), `[string "json"]:183: unexpected type 'function'`},
		{pe("encode, {1, function() end}"), `[string "json"]:183: unexpected type 'function'`},
		{pe("encode, {a=1, f=function() end}"), `{"a":1}`},
		{pe("encode, {[1]='a',[3]='c'}"), `[string "json"]:91: invalid table: sparse array`},
		{pe("encode, {[1]='a',x='b'}"), `[string "json"]:83: invalid table: mixed or invalid key types`},
		{pe("encode, {[2]='a'}"), `[string "json"]:111: invalid table: mixed or invalid key types`},
		{"local t = {} t.t = t " + pe("encode, t"), `[string "json"]:65: circular reference`},
		{pe("encode, 1/0"), `[string "json"]:149: unexpected number value 'inf'`},
		{pe("encode, 0/0"), `[string "json"]:149: unexpected number value '-nan'`},
		{pe("encode, coroutine.create(print)"), `[string "json"]:183: unexpected type 'thread'`},
		{"return require('json').encode({[1.5]=1})", `error: [string "json"]:111: invalid table: mixed or invalid key types`},
		{"return require('json').encode({[1]=1, [2]=2, [1.5]=3})", `error: [string "json"]:91: invalid table: sparse array`},
		{"return require('json').encode({1.5, 2^53, 123456789012345, 1e15, -0.0, 0.1, 1/3, 100, -7, 2^63, math.pi})",
			`[1.5,9.007199254741e+15,1.2345678901234e+14,1e+15,-0,0.1,0.33333333333333,100,-7,9.2233720368548e+18,3.1415926535898]`},
		{`return require('json').encode('a\0b\1\31\127/\\"\b\f\n\r\t\u{e9}\xff<>&')`, "\"a\\u0000b\\u0001\\u001f\x7f/\\\\\\\"\\b\\f\\n\\r\\t\u00e9\xff<>&\""},
		{"return require('json').encode({})", `[]`},
		{"return require('json').encode({a={}, b={1,{}}})", `{"a":[],"b":[1,[]]}`}, // the wasm: pairs order
		{"return require('json').encode(setmetatable({}, {__index=function(t,k) return k end}))", `[]`},
		{"return require('json').encode({true, false, 'x'})", `[true,false,"x"]`},
		{"return require('json').encode(nil)", `null`},
		{"return require('json').encode(true)", `true`},
		// decode: errors and their positions
		{pe("decode, 5"), `[string "json"]:597: expected argument of type string, got number`},
		{pe("decode"), `[string "json"]:597: expected argument of type string, got nil`},
		{pe(`decode, '{"a":'`), `[string "json"]:261: unexpected character '' at line 1 col 6`},
		{pe(`decode, '"\\udbff\\uffff"'`), `[string "json"]:293: invalid unicode codepoint '111fff'`},
		{pe("decode, '[1,2'"), `[string "json"]:261: expected ']' or ',' at line 1 col 6`},
		{pe("decode, '[1,2 3]'"), `[string "json"]:261: expected ']' or ',' at line 1 col 7`},
		{pe(`decode, '{"a" 1}'`), `[string "json"]:261: expected ':' after key at line 1 col 6`},
		{pe("decode, '{1:2}'"), `[string "json"]:261: expected string for key at line 1 col 2`},
		{pe(`decode, '{"a":1 "b"}'`), `[string "json"]:261: expected '}' or ',' at line 1 col 9`},
		{pe(`decode, '"abc'`), `[string "json"]:261: expected closing quote for string at line 1 col 1`},
		{pe(`decode, '"a\\qb"'`), `[string "json"]:261: invalid escape char 'q' in string at line 1 col 3`},
		{pe(`decode, '"a\\u12"'`), `[string "json"]:261: invalid unicode escape in string at line 1 col 3`},
		{pe(`decode, '"a\nb"'`), `[string "json"]:261: control character in string at line 1 col 3`},
		{pe("decode, '1.2.3'"), `[string "json"]:261: invalid number '1.2.3' at line 1 col 1`},
		{pe("decode, '[1] x'"), `[string "json"]:261: trailing garbage at line 1 col 5`},
		{pe("decode, 'tru'"), `[string "json"]:261: invalid literal 'tru' at line 1 col 1`},
		{pe(`decode, '\n\n  [1,\n  x]'`), `[string "json"]:261: unexpected character 'x' at line 4 col 3`},
		{pe("decode, ''"), `[string "json"]:261: unexpected character '' at line 1 col 1`},
		{pe(`decode, '"\\'`), `[string "json"]:261: invalid escape char '' in string at line 1 col 2`},
		{"return require('json').decode('[1,2]]')", `error: [string "json"]:261: trailing garbage at line 1 col 6`},
		{"return require('json').decode('- 1')", `error: [string "json"]:261: invalid number '-' at line 1 col 1`},
		{`return require('json').decode('["a",,1]')`, `error: [string "json"]:261: unexpected character ',' at line 1 col 6`},
		// decode: values
		{pe(`decode, '"\\ud83d\\ude00"'`), "\U0001F600"},
		{"local t = require('json').decode('[1,2,]') return #t", "2"},
		{`local t = require('json').decode('{"a":1,}') return t.a`, "1"},
		// (#t is 1 in the wasm, a border C Lua's table layout gives; gopher-lua's is 3)
		{"local t = require('json').decode(' [1, null, 3] ') return tostring(t[2]) .. tostring(t[3])", "nil3"},
		{`local t = require('json').decode('"\\u00e9\\/\\b"') return t`, "\u00e9/\b"},
		{"return require('json').decode('0x10')", "16"},
		{"return require('json').decode('-0')", "0"},
		{"return require('json').decode('  true  ')", "true"},
		{"return tostring(require('json').decode('null'))", "nil"},
		{`local t = require('json').decode('{"a":1,"a":2}') return t.a`, "2"},
		{`return require('json').decode('"\\ud800\\u0041"')`, "\u2441"},
		{`return require('json').decode('"\\udc00"')`, "\xed\xb0\x80"},
		{"local s = string.rep('[', 300) .. string.rep(']', 300) local ok, e = pcall(require('json').decode, s) return tostring(ok) .. type(e)", "truetable"},
		{"local t = {} for i=1,300 do t = {t} end local ok, e = pcall(require('json').encode, t) return tostring(ok) .. ' ' .. #tostring(e)", "true 602"},
	})
}

// TestJSONLimits: nesting past jsonMaxDepth is an error in both directions, never a Go stack overflow, and
// big work is charged to the compute and memory limits.
func TestJSONLimits(t *testing.T) {
	deep := "local ok, e = pcall(require('json').decode, string.rep('[', 20000) .. string.rep(']', 20000)) return e"
	deepEnc := "local t = {} for i = 1, 20000 do t = {t} end local ok, e = pcall(require('json').encode, t) return e"
	runWasmCases(t, []wasmCase{
		{deep, "json.decode: nested too deep (more than 10000 levels)"},
		{deepEnc, "json.encode: nested too deep (more than 10000 levels)"},
	})

	env := Env{Process: ProcessInfo{Id: pid, Owner: owner, Tags: []Tag{{"Type", "Process"}, {"Module", "MOD"}}}, Module: ModuleInfo{Id: "MOD"}}
	p, err := New(env, Options{ComputeLimit: 2_000_000, MemoryLimit: 64 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if r := p.Handle(Message{Id: pid, Owner: owner, From: owner, Target: pid, Tags: env.Process.Tags}); r.Error != "" {
		t.Fatal(r.Error)
	}
	// One encode of a table holding the same 1 MiB string 200 times: 200 MiB of output.
	r := p.Handle(msg(owner, "local s = string.rep('x', 1 << 20) local t = {} for i = 1, 200 do t[i] = s end return #require('json').encode(t)", Tag{"Action", "Eval"}))
	if !strings.Contains(r.Error, "not enough memory") && !strings.Contains(r.Error, "compute limit exceeded") {
		t.Errorf("a 200 MiB encode: %+v", r)
	}
	// Decoding a long document: its values are charged.
	r = p.Handle(msg(owner, "local s = '[' .. string.rep('1,', 3000000) .. '1]' return #require('json').decode(s)", Tag{"Action", "Eval"}))
	if !strings.Contains(r.Error, "compute limit exceeded") {
		t.Errorf("decoding 3 million values under a 2 million instruction limit: %+v", r)
	}
}
