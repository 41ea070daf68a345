package aos

import "testing"

// TestPrettyAndDumpAgainstWasm: .pretty and .dump (Dump) as the wasm has them. Keys are sorted or single
// where pairs order would show.
func TestPrettyAndDumpAgainstWasm(t *testing.T) {
	p := func(expr string) string { return "local p = require('.pretty') return " + expr }
	pe := func(args string) string {
		return "local p = require('.pretty') local ok, e = pcall(p.tprint, " + args + ") return tostring(ok) .. ' ' .. tostring(e)"
	}
	runWasmCases(t, []wasmCase{
		{p("p.tprint({ a = 1 }) .. '|' .. p.tprint({ x = { y = true } }, 2) .. '|' .. p.tprint({}) .. '|' .. p.tprint({ 'q' })"), "a: 1\n|  x: \n   y: true\n||1: q\n"},
		{pe("{ f = print }"), `false [string ".pretty"]:27: attempt to concatenate a function value (local 'v')`},
		{pe("{ [{}] = 1 }"), `false [string ".pretty"]:13: attempt to concatenate a table value (local 'k')`},
		{pe("nil"), `false [string ".pretty"]:11: bad argument #1 to 'for iterator' (table expected, got nil)`},
		{p("p.tprint({ 1.5, true }) .. '|' .. p._version"), "1: 1.5\n2: true\n|0.0.1"},
		{"return Dump({ 1, 'two', x = { y = true }, ['a b'] = 3, [2.5] = 'f', ['end'] = 1 })",
			"{\n    [1] = 1,\n    [2] = \"two\",\n    [2.5] = \"f\",\n    [\"a b\"] = 3,\n    [\"end\"] = 1,\n    x = {\n        y = true\n    }\n}"},
		{"return Dump('str') .. ' ' .. Dump(5) .. ' ' .. Dump(nil) .. ' ' .. Dump(true)", `"str" "5" "nil" "true"`},
		{`return Dump({ a = 'line\nbreak', b = 'q"uote', c = '\0\1\127' })`, "{\n    a = \"line\\\nbreak\",\n    b = \"q\\\"uote\",\n    c = \"\\0\\1\\127\"\n}"},
		{"return Dump({ 1, 2 }, 0) .. '|' .. Dump({ a = { b = 1 } }, 2, 3)", "{ [1] = 1, [2] = 2 }|{\n     a = {\n       b = 1\n     }\n   }"},
		{"local t = { } t.self = t t.list = { t } return (Dump(t):gsub('0x%x+', 'ADDR'))", "{\n    list = {\n        [1] = \"<Circular table: ADDR>\"\n    },\n    self = \"<Circular table: ADDR>\"\n}"},
		{"return (Dump({ f = print }):gsub('0x%x+', 'ADDR'))", "{\n    f = \"function: ADDR\"\n}"},
		{"local t = {} t.self = t return Dump(t, nil, nil, function(v, d, ty, use, key) if use == 'circular' then return 'CIRC' end return v end)", "{\n    self = \"CIRC\"\n}"},
		{"return Dump(setmetatable({ a = 1 }, { __tostring = function() return 'T' end }))", "{\n    a = 1\n}"},
		{"return Dump({ a = 1 }, nil, nil, function(v, d, ty, use, key) if use == 'val' then return d * 100 end return v end)", "{\n    a = 100\n}"},
		{"return (Dump({ x = { y = 1 } }, nil, nil, function(v, d, ty, use, key, u) if use == 'val' and ty == 'table' then return v, true end return v end):gsub('0x%x+', 'ADDR'))", "{\n    x = \"table: ADDR\"\n}"},
		{"return Dump({ 3, 1, 2, b = 1, a = 2, [10] = 'x', [-1] = 'n' })", "{\n    [-1] = \"n\",\n    [1] = 3,\n    [2] = 1,\n    [3] = 2,\n    [10] = \"x\",\n    a = 2,\n    b = 1\n}"},
		{"local ok, e = pcall(Dump, {}, -1) return e", "has: indent must be unsigned integer"},
		{"local ok, e = pcall(Dump, {}, 1.5) return e", "has: indent must be unsigned integer"},
		{"local ok, e = pcall(Dump, {}, 'x') return e", "has: indent must be unsigned integer"},
		{"local ok, e = pcall(Dump, {}, 1, 1.5) return e", "has: padding must be unsigned integer"},
		{"local ok, e = pcall(Dump, {}, nil, nil, 5) return e", "has: filter must be function"},
		{"return Dump({ a = 1, b = 2, c = { d = 3 } }, nil, nil, function(v, depth, t, use, key) if use == 'key' and v == 'b' then return nil end return v end)", "{\n    a = 1,\n    c = {\n        d = 3\n    }\n}"},
		{"return Dump({ a = 'x' }, nil, nil, function(v, depth, t, use) if use == 'val' and t == 'string' then return 'RAW', true end return v end)", "{\n    a = RAW\n}"},
		{"return Dump({ [true] = 1, [false] = 2 })", "{\n    [false] = 2,\n    [true] = 1\n}"},
		{"return type(require('.dump')) .. ' ' .. tostring(require('.dump') == Dump)", "function true"},
		{"return Dump({ {}, { {} } })", "{\n    [1] = {},\n    [2] = {\n        [1] = {}\n    }\n}"},
		{"return Dump({ [{ 1 }] = 'k' })", "{\n    [{\n        [1] = 1\n    }] = \"k\"\n}"},
		{"return Dump({ ['a.b'] = 1, _x = 2, ['1a'] = 3, A9 = 4, ['and'] = 5 })", "{\n    A9 = 4,\n    [\"1a\"] = 3,\n    [\"a.b\"] = 1,\n    [\"and\"] = 5,\n    _x = 2\n}"},
		{"return Dump({ a = { b = { c = {} } } }, 1)", "{\n a = {\n  b = {\n   c = {}\n  }\n }\n}"},
		{"local ok, e = pcall(Dump, { a = 1 }, nil, nil, function() error('boom') end) return e", "has: boom"},
	})
}
