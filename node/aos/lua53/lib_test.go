package lua53

import "testing"

func TestMathAdditions(t *testing.T) {
	checkValues(t, []valueCase{
		{"type", `return math.type(1), math.type(-7), math.type(1.5), math.type(1/0), math.type("1"), math.type(nil)`,
			[]any{"integer", "integer", "float", "float", nil, nil}},
		{"tointeger", `return math.tointeger(3.0), math.tointeger(3.5), math.tointeger("8"), math.tointeger("x"), math.tointeger({})`,
			[]any{3, nil, 8, nil, nil}},
		{"ult", "return math.ult(1, -1), math.ult(-1, 1), math.ult(1, 2), math.ult(2, 2)", []any{true, false, true, false}},
		{"limits", "return math.mininteger == -2^63, math.maxinteger + 0.0 == 2^63, math.mininteger < math.maxinteger",
			[]any{true, true, true}},
		{"limits are integers", "return math.type(math.maxinteger), math.type(math.mininteger)", []any{"integer", "integer"}},
		{"log with base", "return math.log(8, 2), math.log(1000, 10), math.log(100, 100), math.log(1)", []any{3, 3, 1, 0}},
		{"rawlen", `return rawlen(setmetatable({1, 2}, {__len = function() return 9 end})), rawlen("abc")`, []any{2, 3}},
	})
	checkErrors(t, []errorCase{
		{"type needs a value", "return math.type()", "value expected"},
		{"ult non-integral", "return math.ult(1.5, 2)", "number has no integer representation"},
		{"ult non-number", "return math.ult({}, 2)", "number expected, got table"},
		{"rawlen of a number", "return rawlen(1)", "table or string expected"},
	})
}

func TestUTF8(t *testing.T) {
	checkValues(t, []valueCase{
		{"char", "return utf8.char(72, 0x20AC, 0x10FFFF), utf8.char()", []any{"H\u20ac\U0010FFFF", ""}},
		{"charpattern", "return utf8.charpattern", []any{"[\x00-\x7F\xC2-\xF4][\x80-\xBF]*"}},
		{"charpattern matches", `local n = 0 for c in ("h€llo"):gmatch(utf8.charpattern) do n = n + 1 end return n`, []any{5}},
		{"codepoint", `return utf8.codepoint("h€llo", 1, -1)`, []any{104, 8364, 108, 108, 111}},
		{"codepoint default", `return utf8.codepoint("h€", 2), utf8.codepoint("abc", 3, 2)`, []any{8364}},
		{"len", `return utf8.len("h€llo"), utf8.len(""), utf8.len("abc", 4), utf8.len("h€llo", -2)`, []any{5, 0, 0, 2}},
		{"len invalid byte", `return utf8.len("abc\xffdef")`, []any{nil, 4}},
		{"len starting mid-character", `return utf8.len("h€", 3)`, []any{nil, 3}},
		{"len overlong", `return utf8.len("\xC0\x80")`, []any{nil, 1}},
		{"len above U+10FFFF", `return utf8.len("\xF4\x90\x80\x80")`, []any{nil, 1}},
		{"len surrogate accepted", `return utf8.len("\xED\xA0\x80")`, []any{1}},
		{"len truncated", `return utf8.len("a\xE2\x82")`, []any{nil, 2}},
		{"offset", `local s = "h€llo" return utf8.offset(s, 3), utf8.offset(s, -1), utf8.offset(s, 0, 3), utf8.offset(s, 6), utf8.offset(s, 7), utf8.offset(s, -5), utf8.offset(s, -6)`,
			[]any{5, 7, 2, 8, nil, 1, nil}},
		{"codes", `local t = {} for p, c in utf8.codes("h€l") do t[#t + 1] = p .. ":" .. c end return table.concat(t, ",")`,
			[]any{"1:104,2:8364,5:108"}},
		{"round trip", `
local cps = {0, 0x7F, 0x80, 0x7FF, 0x800, 0xFFFF, 0x10000, 0x10FFFF, 0x20AC}
local s = utf8.char(unpack(cps))
local back = {utf8.codepoint(s, 1, -1)}
for i, c in ipairs(cps) do if back[i] ~= c then return false, i end end
return #back == #cps, utf8.len(s)`, []any{true, 9}},
		{"require", `return require("utf8") == utf8`, []any{true}},
	})
	checkErrors(t, []errorCase{
		{"char out of range", "return utf8.char(-1)", "value out of range"},
		{"char beyond unicode", "return utf8.char(0x110000)", "value out of range"},
		{"codepoint continuation", `return utf8.codepoint("h€", 3)`, "invalid UTF-8 code"},
		{"codepoint out of range", `return utf8.codepoint("abc", 4)`, "out of range"},
		{"len initial position", `return utf8.len("abc", 5)`, "initial position out of string"},
		{"len final position", `return utf8.len("abc", 1, 4)`, "final position out of string"},
		{"offset continuation", `return utf8.offset("h€", 1, 3)`, "initial position is a continuation byte"},
		{"offset position", `return utf8.offset("abc", 1, 5)`, "position out of range"},
		{"codes invalid", `for p, c in utf8.codes("a\xff") do end`, "invalid UTF-8 code"},
	})
}

func TestStringPack(t *testing.T) {
	checkValues(t, []valueCase{
		{"int round trip", `return string.unpack("<i4", string.pack("<i4", -2))`, []any{-2, 5}},
		{"endianness", `return string.pack(">I2", 258), string.pack("<I2", 258), string.pack("=I2", 258)`, []any{"\x01\x02", "\x02\x01", "\x02\x01"}},
		{"bytes", `return string.pack("b", -1), string.unpack("B", "\xff"), string.unpack("b", "\xff")`, []any{"\xff", 255, -1, 2}},
		{"odd sizes sign-extend", `return string.unpack("<i3", "\xff\xff\x7f"), string.unpack("<i3", "\x00\x00\x80")`, []any{8388607, -8388608, 4}},
		{"wide integers", `local s = string.pack(">i16", -1) return #s, string.unpack(">i16", s), string.unpack("<I9", string.pack("<I9", 5))`, []any{16, -1, 5, 10}},
		{"mininteger", `return string.pack("<j", math.mininteger) == "\0\0\0\0\0\0\0\x80"`, []any{true}},
		{"floats", `return string.unpack("<d", string.pack("<d", 1.5)), string.unpack(">f", string.pack(">f", 0.25)), #string.pack("n", 1)`, []any{1.5, 0.25, 8}},
		{"strings", `return string.pack("z", "hi"), string.pack("s1", "abc"), string.pack("c5", "ab")`, []any{"hi\x00", "\x03abc", "ab\x00\x00\x00"}},
		{"string unpack", `return string.unpack("z s1 c2", "hi\0\3abcxy")`, []any{"hi", "abc", "xy", 10}},
		{"padding", `return string.pack("<i2 x i2", 1, 2)`, []any{"\x01\x00\x00\x02\x00"}},
		{"alignment", `return #string.pack("!4 b Xi4 i4", 1, 2), string.packsize("i4i8"), string.packsize("!i4i8"), string.packsize("!4 i1 i8")`, []any{8, 12, 16, 12}},
		{"unpack from position", `return string.unpack("<I2", "\0\0\1\0", 3), string.unpack("B", "ab", -1)`, []any{1, 98, 3}},
		{"multiple values", `return string.unpack("<i2 i2", "\1\0\2\0")`, []any{1, 2, 5}},
		{"method form", `return ("<i2"):pack(7) == "\7\0"`, []any{true}},
		{"round trip of everything", `
local fmt = "<b B h H i I l L j J T f d n s z x c3 i7 I5"
local vals = {-128, 255, -32768, 65535, -5, 7, -2^40, 2^40, -9, 9, 12, 0.5, -1.25, 3.75, "str", "zs", "abc", -2^50, 2^39}
local packed = string.pack(fmt, unpack(vals))
local back = {string.unpack(fmt, packed)}
for i = 1, #vals do if back[i] ~= vals[i] then return false, i, back[i] end end
return true, back[#vals + 1] == #packed + 1`, []any{true, true}},
	})
	checkErrors(t, []errorCase{
		{"size limits", `return string.pack("i17", 1)`, "integral size (17) out of limits [1,16]"},
		{"signed overflow", `return string.pack("b", 200)`, "integer overflow"},
		{"unsigned overflow", `return string.pack("B", -1)`, "unsigned overflow"},
		{"bad option", `return string.pack("y")`, "invalid format option 'y'"},
		{"short data", `return string.unpack("i4", "abc")`, "data string too short"},
		{"variable length", `return string.packsize("s")`, "variable-length format"},
		{"zeros", `return string.pack("z", "a\0b")`, "string contains zeros"},
		{"non-integral", `return string.pack("i4", 1.5)`, "number has no integer representation"},
		{"wide does not fit", `return string.unpack("<i9", "\0\0\0\0\0\0\0\0\1")`, "9-byte integer does not fit into Lua Integer"},
		{"missing c size", `return string.pack("c")`, "missing size for format option 'c'"},
		{"alignment power of 2", `return string.pack("!3 i4", 1)`, "format asks for alignment not power of 2"},
		{"string too long", `return string.pack("c2", "abc")`, "string longer than given size"},
		{"unfinished z", `return string.unpack("z", "abc")`, "unfinished string for format 'z'"},
		{"X needs a sized option", `return string.pack("Xz")`, "invalid next option for option 'X'"},
		{"initial position", `return string.unpack("b", "a", 3)`, "initial position out of string"},
		{"huge result", `return string.pack("c2000000000", "")`, "format result too large"},
	})
}

func TestTableMove(t *testing.T) {
	const show = "local function show(t, n) local o = {} for i = 1, n do o[i] = tostring(t[i]) end return table.concat(o, ',') end\n"
	checkValues(t, []valueCase{
		{"move down", show + "return show(table.move({1,2,3,4,5}, 2, 4, 1), 5)", []any{"2,3,4,4,5"}},
		{"overlapping move up", show + "return show(table.move({1,2,3,4,5}, 1, 3, 2), 5)", []any{"1,1,2,3,5"}},
		{"overlapping move up by more", show + "return show(table.move({1,2,3,4,5,6}, 1, 4, 3), 6)", []any{"1,2,1,2,3,4"}},
		{"to another table", show + "local a, b = {1,2,3}, {} local r = table.move(a, 1, 3, 2, b) return r == b, show(b, 4), show(a, 3)",
			[]any{true, "nil,1,2,3", "1,2,3"}},
		{"empty range", show + "local a = {1} return table.move(a, 2, 1, 5) == a, show(a, 2)", []any{true, "1,nil"}},
		{"metamethods", `
local log = {}
local src = setmetatable({}, {__index = function(_, k) return k * 10 end})
local dst = setmetatable({}, {__newindex = function(t, k, v) log[#log + 1] = k .. "=" .. v end})
table.move(src, 1, 3, 5, dst)
return table.concat(log, " ")`, []any{"5=10 6=20 7=30"}},
	})
	checkErrors(t, []errorCase{
		{"wrap around", "return table.move({}, 1, math.maxinteger, 2)", "destination wrap around"},
		{"too many", "return table.move({}, -1, math.maxinteger, 1)", "too many elements to move"},
		{"non-integer", "return table.move({}, 1.5, 2, 1)", "number has no integer representation"},
	})
}

// TestDocumentedDifferences pins where this runtime knowingly departs from Lua 5.3 (README.md), so a
// change in behaviour shows up here.
func TestDocumentedDifferences(t *testing.T) {
	checkValues(t, []valueCase{
		{"integral floats are integers", "return math.type(3.0), math.type(2^53)", []any{"integer", "integer"}},
		{"maxinteger is 2^63", "return math.maxinteger == 2^63, math.maxinteger + 1 == math.maxinteger", []any{true, true}},
		{"no integer wrap in + - *", "return math.maxinteger * 2 > 0", []any{true}},
		{"float results print as integers", "return tostring(7 // 2.0), tostring(3 | 0)", []any{"3", "3"}},
		{"precision past 2^53", "return 9007199254740993 == 9007199254740992", []any{true}},
		{"negating mininteger", "return -math.mininteger > 0", []any{true}},
	})
	checkErrors(t, []errorCase{
		{"integral float divided by zero", "return 7.0 // 0", "attempt to divide by zero"},
	})
}

// TestOpenDeterministic: pairs() order follows insertion order in gopher-lua, and every node must build
// the same state, so Open must insert in a fixed order. (gopher-lua's own math, string and table
// libraries are filled from Go maps, so their order already varies; only the tables Open creates are
// checked.)
func TestOpenDeterministic(t *testing.T) {
	const src = `local o = {} for _, name in ipairs({"__lua53", "utf8"}) do
  for k in pairs(_G[name]) do o[#o + 1] = name .. "." .. k end end return table.concat(o, " ")`
	first, err := run(t, src)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		again, err := run(t, src)
		if err != nil || again[0] != first[0] {
			t.Fatalf("pairs order differs between states:\n%v\n%v", first[0], again[0])
		}
	}
}
