package aos

import (
	"reflect"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// Go versions of the runtime's hottest Lua helpers. On gopher-lua, the Lua versions cost a gsub or a
// pattern match per call (the pattern compiled again on every call), an iterator call and two boxed
// numbers per ipairs step, and several allocations per field of every table they build; together they
// were most of the time a message took. Each runtime module that uses them gets them as the second
// argument of its chunk (loadWithNatives) and keeps its Lua definition as the fallback, used when the
// module is loaded again without them; both give the same results (native_test.go). Lua code reaches them
// only through those modules' locals, so user code that replaces a public function (utils.normalize,
// Tab, ...) still gets its own used. They are top-level functions (no captured Go state), so snapshots
// and forks restore them by their code.

// nativeModules are the runtime modules whose chunk gets a table of Go helpers as its second argument,
// in load order.
var nativeModules = []string{"utils", "ao", "process"}

// natives is the table of Go helpers of a module.
func natives(L *lua.LState, file string) *lua.LTable {
	t := L.CreateTable(0, 2)
	switch file {
	case "utils":
		t.RawSetString("normalize", L.NewFunction(utilsNormalize))
		t.RawSetString("isPattern", L.NewFunction(utilsIsPattern))
	case "ao":
		t.RawSetString("contains", L.NewFunction(listContains))
		t.RawSetString("copy", L.NewFunction(shallowCopy))
		t.RawSetString("tag", L.NewFunction(newTag))
		t.RawSetString("outbox", L.NewFunction(newOutbox))
		t.RawSetString("record", L.NewFunction(newRecord))
		t.RawSetString("commaParts", L.NewFunction(commaParts))
	case "process":
		t.RawSetString("record", L.NewFunction(newRecord))
		t.RawSetString("normalizeMsg", L.NewFunction(normalizeMsg))
		t.RawSetString("tab", L.NewFunction(tagsByName))
	}
	return t
}

// utilsNormalize is utils.normalize: a string in AOS's title case, anything else as it is.
func utilsNormalize(L *lua.LState) int {
	v := L.Get(1)
	if s, ok := v.(lua.LString); ok {
		if n := normalizeKey(string(s)); n != string(s) {
			v = lua.LString(n)
		}
	}
	L.Push(v) // an unchanged string is pushed as it came: no new string
	return 1
}

// normalizeKey turns a key into AOS's title case: '_' becomes '-', a letter at the start or after a '-'
// is upper case, every other letter lower case ("x_reference" -> "X-Reference"). Letters are ASCII only:
// real AOS runs C Lua, whose %l, string.upper and string.lower are byte-wise in the C locale, so other
// bytes (UTF-8 included) are left as they are.
func normalizeKey(s string) string {
	i := 0
	for i < len(s) && titleByte(s, i) == s[i] {
		i++
	}
	if i == len(s) {
		return s // already normalized: the common case, no allocation
	}
	b := []byte(s)
	for ; i < len(b); i++ {
		b[i] = titleByte(s, i)
	}
	return string(b)
}

// titleByte is byte i of s once normalized; it depends only on s[i] and s[i-1].
func titleByte(s string, i int) byte {
	c := s[i]
	if c == '_' {
		return '-'
	}
	upper := i == 0 || s[i-1] == '-' || s[i-1] == '_'
	switch {
	case upper && 'a' <= c && c <= 'z':
		return c - 'a' + 'A'
	case !upper && 'A' <= c && c <= 'Z':
		return c - 'A' + 'a'
	}
	return c
}

// patternMagic are the bytes that make a string a Lua pattern for utils.matchesPattern (a lone '-' does
// not count, as in AOS).
const patternMagic = "^$()%.[]*+?"

// utilsIsPattern(s) reports whether the string s holds a pattern magic character.
func utilsIsPattern(L *lua.LState) int {
	L.Push(lua.LBool(strings.ContainsAny(L.CheckString(1), patternMagic)))
	return 1
}

// listContains(list, v) reports whether v is among list[1], list[2], ... up to the first nil: the loop
// `for _, x in ipairs(list) do if x == v ...` without an iterator call and two boxed numbers per element.
// Elements are read raw and compared with ==, as that loop does.
func listContains(L *lua.LState) int {
	list := L.CheckTable(1)
	v := L.Get(2)
	for i := 1; ; i++ {
		x := list.RawGetInt(i)
		if x == lua.LNil {
			L.Push(lua.LFalse)
			return 1
		}
		if L.Equal(x, v) {
			L.Push(lua.LTrue)
			return 1
		}
	}
}

/* ---- base library functions without per-call allocations ---- */

// gopher-lua's type, ipairs, select and coroutine.status box a new string or number on every call (a heap allocation each,
// and ipairs two per element); these return the same values from preboxed ones. Behaviour, errors
// included, is gopher-lua's.

// boxedInts are the LValues of the small integers, made once.
var boxedInts = func() (b [1024]lua.LValue) {
	for i := range b {
		b[i] = lua.LNumber(i)
	}
	return b
}()

// boxInt is n as an LValue, preboxed when small.
func boxInt(n int) lua.LValue {
	if n >= 0 && n < len(boxedInts) {
		return boxedInts[n]
	}
	return lua.LNumber(n)
}

// typeNames are the results of type(), by value type.
var typeNames = func() (names [lua.LTChannel + 1]lua.LValue) {
	for t := range names {
		names[t] = lua.LString(lua.LValueType(t).String())
	}
	return names
}()

func baseType(L *lua.LState) int {
	t := L.CheckAny(1).Type()
	if int(t) >= 0 && int(t) < len(typeNames) {
		L.Push(typeNames[t])
	} else {
		L.Push(lua.LString(t.String()))
	}
	return 1
}

// baseIpairs is ipairs; its iterator is its upvalue, as in gopher-lua.
func baseIpairs(L *lua.LState) int {
	tb := L.CheckTable(1)
	L.Push(L.Get(lua.UpvalueIndex(1)))
	L.Push(tb)
	L.Push(boxInt(0))
	return 3
}

func ipairsAux(L *lua.LState) int {
	tb := L.CheckTable(1)
	i := L.CheckInt(2) + 1
	v := tb.RawGetInt(i)
	if v == lua.LNil {
		return 0
	}
	L.Pop(1)
	L.Push(boxInt(i))
	L.Push(v)
	return 2
}

func baseSelect(L *lua.LState) int {
	L.CheckTypes(1, lua.LTNumber, lua.LTString)
	switch lv := L.Get(1).(type) {
	case lua.LNumber:
		idx := int(lv)
		num := L.GetTop()
		if idx < 0 {
			idx = num + idx
		} else if idx > num {
			idx = num
		}
		if 1 > idx {
			L.ArgError(1, "index out of range")
		}
		return num - idx
	case lua.LString:
		if string(lv) != "#" {
			L.ArgError(1, "invalid string '"+string(lv)+"'")
		}
		L.Push(boxInt(L.GetTop() - 1))
		return 1
	}
	return 0
}

// statusNames are the results of coroutine.status.
var statusNames = map[string]lua.LValue{}

func init() {
	for _, s := range []string{"running", "suspended", "normal", "dead"} {
		statusNames[s] = lua.LString(s)
	}
}

func coStatus(L *lua.LState) int {
	s := L.Status(L.CheckThread(1))
	if v, ok := statusNames[s]; ok {
		L.Push(v)
	} else {
		L.Push(lua.LString(s))
	}
	return 1
}

// installBaseBuiltins puts the allocation-free base functions in _G.
func installBaseBuiltins(L *lua.LState) {
	g := L.G.Global
	g.RawSetString("type", L.NewFunction(baseType))
	g.RawSetString("ipairs", L.NewClosure(baseIpairs, L.NewFunction(ipairsAux)))
	g.RawSetString("select", L.NewFunction(baseSelect))
	g.RawGetString("coroutine").(*lua.LTable).RawSetString("status", L.NewFunction(coStatus))
}

// shallowCopy(t) is a new table with t's entries, set in the order pairs gives them: the loop
// `local c = {} for k, v in pairs(t) do c[k] = v end` in one call, its parts sized once.
func shallowCopy(L *lua.LState) int {
	src := L.CheckTable(1)
	n, strKeys := 0, true
	for k, _ := src.Next(lua.LNil); k != lua.LNil; k, _ = src.Next(k) {
		n++
		_, isStr := k.(lua.LString)
		strKeys = strKeys && isStr
	}
	if !strKeys {
		dst := L.CreateTable(0, n)
		for k, v := src.Next(lua.LNil); k != lua.LNil; k, v = src.Next(k) {
			dst.RawSet(k, v)
		}
		L.Push(dst)
		return 1
	}
	dst := newFieldTable(L, n, 0)
	for k, v := src.Next(lua.LNil); k != lua.LNil; k, v = src.Next(k) {
		dst.set(k, v)
	}
	L.Push(dst.table())
	return 1
}

// newTag(name, value) is the tag table { name = name, value = value }.
func newTag(L *lua.LState) int {
	t := newFieldTable(L, 2, 0)
	t.set(kName, L.Get(1))
	t.set(kValue, L.Get(2))
	L.Push(t.table())
	return 1
}

// newRecord(k1, v1, k2, v2, ...) is the table { [k1] = v1, [k2] = v2, ... } of string keys, with room
// for two more fields (the runtime adds onReply and receive to a sent message).
func newRecord(L *lua.LState) int {
	n := L.GetTop() / 2
	t := newFieldTable(L, n, 2)
	for i := 1; i <= 2*n; i += 2 {
		k := L.Get(i)
		if _, ok := k.(lua.LString); !ok {
			L.TypeError(i, lua.LTString)
		}
		t.set(k, L.Get(i+1)) // the key as Lua holds it: no new box
	}
	L.Push(t.table())
	return 1
}

// commaParts(s) is the list of the non-empty runs of s between commas: what string.gmatch(s, "[^,]+")
// gives, in order.
func commaParts(L *lua.LState) int {
	s := L.CheckString(1)
	t := L.CreateTable(strings.Count(s, ",")+1, 0)
	for _, part := range strings.Split(s, ",") {
		if part != "" {
			t.Append(lua.LString(part))
		}
	}
	L.Push(t)
	return 1
}

// newOutbox() is an empty outbox, { Output = {}, Messages = {}, Spawns = {}, Assignments = {} }.
func newOutbox(L *lua.LState) int {
	t := newFieldTable(L, 4, 0)
	for _, k := range []lua.LValue{kOutput, kMessages, kSpawns, kAssignments} {
		t.set(k, L.CreateTable(0, 0)) // as {} makes them
	}
	L.Push(t.table())
	return 1
}

/* ---- the message's tags ---- */

// The runtime's message preparation (process.lua normalizeMsg and Tab) in Go, for the shape every message
// the host builds has: a table without metatable whose Tags is a list of tables without metatables with
// string names. For any other shape they return nil and the Lua code does the work, so the result is the
// Lua loops' in every case.

// plainTable is v as a table without metatable, or nil.
func plainTable(v lua.LValue) *lua.LTable {
	if t, ok := v.(*lua.LTable); ok && t.Metatable == lua.LNil {
		return t
	}
	return nil
}

// plainTags is msg.Tags when msg and every tag up to the first nil are plain tables and every tag's name
// is a string, or nil.
func plainTags(msg lua.LValue) *lua.LTable {
	m := plainTable(msg)
	if m == nil {
		return nil
	}
	tags := plainTable(m.RawGetString("Tags"))
	if tags == nil {
		return nil
	}
	for i := 1; ; i++ {
		v := tags.RawGetInt(i)
		if v == lua.LNil {
			return tags
		}
		tag := plainTable(v)
		if tag == nil {
			return nil
		}
		if _, ok := tag.RawGetString("name").(lua.LString); !ok {
			return nil
		}
	}
}

// normalizePC identifies utilsNormalize among Go functions.
var normalizePC = reflect.ValueOf(utilsNormalize).Pointer()

// isNativeNormalize reports whether v is the Go utils.normalize (user code may have replaced it).
func isNativeNormalize(v lua.LValue) bool {
	f, ok := v.(*lua.LFunction)
	return ok && f.IsG && reflect.ValueOf(f.GFunction).Pointer() == normalizePC
}

// normalizeMsg(msg, normalize) is normalizeMsg's loops (renaming msg's keys and its tag names to
// normalize's title case) when normalize is the Go utils.normalize and msg has the plain shape; it
// returns true when it did the work.
func normalizeMsg(L *lua.LState) int {
	tags := plainTags(L.Get(1))
	if tags == nil || !isNativeNormalize(L.Get(2)) {
		L.Push(lua.LFalse)
		return 1
	}
	msg := L.Get(1).(*lua.LTable)
	renames, ok := keyRenames(msg)
	if !ok {
		L.Push(lua.LFalse)
		return 1
	}
	for _, r := range renames {
		msg.RawSetString(r.from, lua.LNil)
		msg.RawSetString(r.to, r.v)
	}
	normalizeTagNames(tags)
	L.Push(lua.LTrue)
	return 1
}

// normalizeTagNames puts the names of a plain tag list (see plainTags) in title case.
func normalizeTagNames(tags *lua.LTable) {
	for i := 1; ; i++ {
		tag, ok := tags.RawGetInt(i).(*lua.LTable)
		if !ok {
			return
		}
		name := string(tag.RawGetString("name").(lua.LString))
		if n := normalizeKey(name); n != name {
			tag.RawSetString("name", lua.LString(n))
		}
	}
}

// rename is a key of a message that normalizeMsg moves to its title-case name.
type rename struct {
	from, to string
	v        lua.LValue
}

// keyRenames lists the string keys of t that are not in title case, in pairs order (the Lua loop finds
// them all before it clears each old key and sets the new one). It fails when a key would become "Tags":
// the tags the loop normalizes next would then be another value, so the Lua code must do it all.
func keyRenames(t *lua.LTable) ([]rename, bool) {
	var renames []rename
	for k, v := t.Next(lua.LNil); k != lua.LNil; k, v = t.Next(k) {
		if s, ok := k.(lua.LString); ok {
			if n := normalizeKey(string(s)); n != string(s) {
				if n == "Tags" {
					return nil, false
				}
				renames = append(renames, rename{string(s), n, v})
			}
		}
	}
	return renames, true
}

// tagsByName(msg) is Tab(msg) (tag name -> value, the first tag of a name wins) for a msg of the plain
// shape, else nil.
func tagsByName(L *lua.LState) int {
	tags := plainTags(L.Get(1))
	if tags == nil {
		L.Push(lua.LNil)
		return 1
	}
	n := 0
	for tags.RawGetInt(n+1) != lua.LNil {
		n++
	}
	out := newFieldTable(L, n, 0)
	for i := 1; i <= n; i++ {
		tag := tags.RawGetInt(i).(*lua.LTable)
		name := tag.RawGetString("name")
		if cur := out.get(name); cur == lua.LNil || cur == lua.LFalse {
			out.set(name, tag.RawGetString("value"))
		}
	}
	L.Push(out.table())
	return 1
}
