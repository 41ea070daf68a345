package aos

import "testing"

// TestTableLibAgainstWasm: table.insert, table.remove and setmetatable check their arguments as Lua 5.3
// does (values from the wasm; the messages' wording and position are the error texts' business).
func TestTableLibAgainstWasm(t *testing.T) {
	pe := func(call string) string {
		return "local ok, e = pcall(" + call + ") return tostring(ok) .. ' ' .. tostring(e)"
	}
	runWasmCases(t, []wasmCase{
		{pe("table.insert, {}, 1, 2, 3"), "has: wrong number of arguments to 'insert'"},
		{pe("table.insert, {1}"), "has: wrong number of arguments to 'insert'"},
		{pe("table.insert, {1}, 5, 2"), "has: (position out of bounds)"},
		{pe("table.insert, {1}, 0, 2"), "has: (position out of bounds)"},
		{pe("table.insert, {}, 1.5, 1"), "has: (number has no integer representation)"},
		{"local t = {1} table.insert(t, 2, 2) return #t", "2"},
		{"local t = {1, 2, 3} table.insert(t, 1, 0) table.insert(t, 'x') table.insert(t, 3, 'm') return table.concat(t, ',')", "0,1,m,2,3,x"},
		{pe("table.remove, {1,2,3}, 7"), "has: bad argument #1"},
		{pe("table.remove, {1,2,3}, -1"), "has: (position out of bounds)"},
		{"return tostring(table.remove({1,2,3}, 4)) .. tostring(table.remove({}, 0)) .. tostring(table.remove({}))", "nilnilnil"},
		{"local t = {1, 2, 3} local a = table.remove(t, 1) local b = table.remove(t) return a .. b .. #t .. t[1]", "1312"},
		{pe("setmetatable, 1, {}"), "has: (table expected, got number)"},
		{pe("setmetatable, {}, 1"), "has: (nil or table expected)"},
		{pe("setmetatable, {}"), "has: (nil or table expected)"},
		{pe("setmetatable, setmetatable({}, {__metatable = 'locked'}), {}"), "has: cannot change a protected metatable"},
		{"local t = setmetatable({}, {__index = function(_, i) return i * 10 end, __len = function() return 2 end}) table.insert(t, 2, 'x') return tostring(rawget(t, 3)) .. ' ' .. tostring(rawget(t, 2))", "20 x"},
	})
}
