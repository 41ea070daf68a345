package aos

import (
	"math"
	"sort"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/aonode/aonode/internal/luavm"
	"github.com/aonode/aonode/node/aos/lua53"
	"github.com/aonode/aonode/node/aos/strlib"
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
		t.RawSetString("initTags", L.NewFunction(aoInitTags))
		t.RawSetString("liftTags", L.NewFunction(liftTags))
		t.RawSetString("addFields", L.NewFunction(addFields))
		t.RawSetString("send", L.NewFunction(sendMessage))
		t.RawSetString("sameOutbox", L.NewFunction(sameOutbox))
	case "process":
		t.RawSetString("record", L.NewFunction(newRecord))
		t.RawSetString("normalizeMsg", L.NewFunction(normalizeMsg))
		t.RawSetString("tab", L.NewFunction(tagsByName))
		t.RawSetString("prompt", L.NewFunction(prompt))
		t.RawSetString("tabAgain", L.NewFunction(tabAgain))
		t.RawSetString("outputOnly", L.NewFunction(outputOnly))
		t.RawSetString("installed", L.NewFunction(installed))
		t.RawSetString("mathRandom", L.NewFunction(chanceMathRandom))
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
// Elements are read as ipairs reads them (through __index when list has a metatable) and compared with ==,
// as that loop does.
func listContains(L *lua.LState) int {
	list := L.CheckTable(1)
	v := L.Get(2)
	for i := int64(1); ; i++ {
		x := seqGet(L, list, i)
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

// baseIpairs is Lua 5.3's ipairs(v) (built with 5.2 compatibility, as real AOS is): v's __ipairs
// metamethod when it has one, else the iterator (its upvalue, as in gopher-lua), v, 0. v may be any value,
// as in 5.3; the iterator's first read of a value that cannot be indexed is the error.
func baseIpairs(L *lua.LState) int { return pairsMeta(L, "__ipairs", boxInt(0)) }

// ipairsIndexCost is the charge, in instructions, of one ipairs step that reads through __index.
const ipairsIndexCost = 6

// ipairsAux reads v[i] as 5.3's does (lua_geti): raw for a table without a metatable, else through
// __index.
func ipairsAux(L *lua.LState) int {
	i := L.CheckInt(2) + 1
	var v lua.LValue
	if tb, ok := L.Get(1).(*lua.LTable); ok && tb.Metatable == lua.LNil {
		v = tb.RawGetInt(i)
	} else {
		// A step that reads through __index from Go takes several times a Lua loop's t[i] (uncharged, 20
		// million instructions of it took 4.2 s against 1.0 s): charged extra, the compute limit bounds it
		// in time alike (about 0.8 s).
		charge(L, ipairsIndexCost)
		v = L.GetTable(L.Get(1), lua.LNumber(i))
	}
	if v == lua.LNil {
		return 0
	}
	L.Pop(1)
	L.Push(boxInt(i))
	L.Push(v)
	return 2
}

// baseSelect is Lua 5.3's select(n, ...): "#" (a string starting with '#') counts the values, any other
// first argument must be an integer (a numeric string is one).
func baseSelect(L *lua.LState) int {
	num := L.GetTop()
	if s, ok := L.Get(1).(lua.LString); ok && len(s) > 0 && s[0] == '#' {
		L.Push(boxInt(num - 1))
		return 1
	}
	i := lua53.CheckInteger(L, 1)
	if i < 0 {
		i += int64(num)
	} else if i > int64(num) {
		i = int64(num)
	}
	if i < 1 {
		L.ArgError(1, "index out of range")
	}
	return num - int(i)
}

// statusNames are the results of coroutine.status.
var statusNames = map[string]lua.LValue{}

func init() {
	for _, s := range []string{"running", "suspended", "normal", "dead"} {
		statusNames[s] = lua.LString(s)
	}
}

// coYield is coroutine.yield, which refuses to yield out of a Go-level protected call (xpcall, a pcall that
// runs as a Go call) or a nested main loop (a metamethod, a Go builtin calling back into Lua) with Lua's
// error for a call it cannot yield across. Lua 5.3 can yield out of some of these; gopher-lua cannot, and
// trying left the thread corrupt (a Go nil dereference reached the process as its error).
func coYield(L *lua.LState) int {
	if luavm.HasErrorFunc(L) || threadLoops(L) > 1 {
		L.RaiseError("attempt to yield across a C-call boundary")
	}
	return -1 // gopher-lua's yield: the values on the stack go to the resumer
}

func coStatus(L *lua.LState) int {
	co, ok := L.Get(1).(*lua.LState)
	if !ok {
		L.ArgError(1, "thread expected") // 5.3's wording, without the type
	}
	s := L.Status(co)
	if co != L && co == virtualThread(L, L) {
		s = "running" // it called the pcall whose child is running (pcall.go)
	}
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
	co := g.RawGetString("coroutine").(*lua.LTable)
	co.RawSetString("status", L.NewFunction(coStatus))
	co.RawSetString("yield", L.NewFunction(coYield))
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
	L.Push(copyFields(L, src))
	return 1
}

// copyFields is shallowCopy of a table whose keys are all strings.
func copyFields(L *lua.LState, src *lua.LTable) *lua.LTable {
	n := 0
	for k, _ := src.Next(lua.LNil); k != lua.LNil; k, _ = src.Next(k) {
		n++
	}
	dst := newFieldTable(L, n, 0)
	for k, v := src.Next(lua.LNil); k != lua.LNil; k, v = src.Next(k) {
		dst.set(k, v)
	}
	return dst.table()
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

// isNativeNormalize reports whether v is the Go utils.normalize (user code may have replaced it).
func isNativeNormalize(v lua.LValue) bool {
	f, ok := v.(*lua.LFunction)
	return ok && f.IsG && luavm.SameCode(f.GFunction, utilsNormalize)
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

/* ---- per-message runtime work ---- */

// The runtime's per-message loops over the env's tags, the message's tags and an outgoing message's
// fields, and its prompt, in Go. Like the helpers above, each does the work only when every table it reads
// is a plain table of the shape the Lua loop expects (so that no metamethod or error of the Lua loop can
// be skipped), and otherwise returns false before changing anything, for the Lua code to do it all.

// plainList is t as a plain table whose entries 1, 2, ... up to the first nil are all plain tables, or
// nil.
func plainList(v lua.LValue) *lua.LTable {
	t := plainTable(v)
	if t == nil {
		return nil
	}
	for i := 1; ; i++ {
		e := t.RawGetInt(i)
		if e == lua.LNil {
			return t
		}
		if plainTable(e) == nil {
			return nil
		}
	}
}

// each calls fn with the entries of a plainList up to the first nil.
func each(list *lua.LTable, fn func(e *lua.LTable)) {
	for i := 1; ; i++ {
		e, ok := list.RawGetInt(i).(*lua.LTable)
		if !ok {
			return
		}
		fn(e)
	}
}

var (
	kModuleName    = lua.LString("Module")
	kAuthorityName = lua.LString("Authority")
)

// aoInitTags(ao, env) is the tag loops of ao.init: the Module tag names ao._module when it is "", and the
// parts of every Authority tag (commaParts) missing from ao.authorities are appended to it. It returns
// true when it did the work: ao, env, env.Process and ao.authorities plain tables, env.Process.Tags a
// plain list of plain tags, and every Authority tag's value a string.
func aoInitTags(L *lua.LState) int {
	ao, env := plainTable(L.Get(1)), plainTable(L.Get(2))
	var proc, auths, tags *lua.LTable
	if ao != nil && env != nil {
		proc = plainTable(env.RawGetString("Process"))
		auths = plainTable(ao.RawGetString("authorities"))
	}
	if proc != nil {
		tags = plainList(proc.RawGetString("Tags"))
	}
	ok := tags != nil && auths != nil
	if ok {
		each(tags, func(tag *lua.LTable) {
			if tag.RawGetString("name") == kAuthorityName {
				_, isStr := tag.RawGetString("value").(lua.LString)
				ok = ok && isStr
			}
		})
	}
	if !ok {
		L.Push(lua.LFalse)
		return 1
	}
	if ao.RawGetString("_module") == lua.LString("") {
		each(tags, func(tag *lua.LTable) {
			if tag.RawGetString("name") == kModuleName {
				ao.RawSetString("_module", tag.RawGetString("value"))
			}
		})
	}
	each(tags, func(tag *lua.LTable) {
		if tag.RawGetString("name") != kAuthorityName {
			return
		}
		for _, part := range strings.Split(string(tag.RawGetString("value").(lua.LString)), ",") {
			if part != "" && !rawContains(L, auths, lua.LString(part)) {
				auths.Append(lua.LString(part))
			}
		}
	})
	L.Push(lua.LTrue)
	return 1
}

// rawContains is listContains's loop for a string v (which == compares raw).
func rawContains(L *lua.LState, list *lua.LTable, v lua.LValue) bool {
	for i := int64(1); ; i++ {
		x := seqGet(L, list, i)
		if x == lua.LNil {
			return false
		}
		if x == v {
			return true
		}
	}
}

// liftTags(msg, nonExtractable) is ao.normalize's loop: every tag of msg whose name is not in the list
// nonExtractable is set on msg (a later tag of the same name wins). It returns true when it did the work:
// msg of the plain shape (see plainTags), no tag being msg or its tag list, and nonExtractable a table.
func liftTags(L *lua.LState) int {
	tags := plainTags(L.Get(1))
	list, isTable := L.Get(2).(*lua.LTable)
	if tags == nil || !isTable {
		L.Push(lua.LFalse)
		return 1
	}
	msg := L.Get(1).(*lua.LTable)
	ok := true
	each(tags, func(tag *lua.LTable) { ok = ok && tag != msg && tag != tags })
	if !ok {
		L.Push(lua.LFalse)
		return 1
	}
	each(tags, func(tag *lua.LTable) {
		name := tag.RawGetString("name")
		if !rawContains(L, list, name) {
			rawSetField(msg, name, tag.RawGetString("value"))
		}
	})
	L.Push(lua.LTrue)
	return 1
}

// ownTostring reports whether the global tostring, which the Lua definitions call to turn numbers and
// booleans into text, is still the runtime's own (read raw: a lookup through a metatable of _G is left
// to the Lua code, which makes it as many times as it makes it).
func ownTostring(L *lua.LState) bool {
	f, ok := L.G.Global.RawGetString("tostring").(*lua.LFunction)
	return ok && f.IsG && luavm.SameCode(f.GFunction, orig.tostring)
}

// sortedStringKeys is sortedKeys: the string keys of a plain table in byte order.
func sortedStringKeys(t *lua.LTable) []string {
	var buf [8]string
	ks := buf[:0]
	for k, _ := t.Next(lua.LNil); k != lua.LNil; k, _ = t.Next(k) {
		if s, ok := k.(lua.LString); ok {
			ks = append(ks, string(s))
		}
	}
	sort.Strings(ks)
	return ks
}

// isArrayTable is ao.lua's isArray for a plain table: only positive integer keys, the highest one #t.
func isArrayTable(t *lua.LTable) bool {
	highest := 0.0
	for k, _ := t.Next(lua.LNil); k != lua.LNil; k, _ = t.Next(k) {
		n, ok := k.(lua.LNumber)
		if !ok || n < 1 || math.Floor(float64(n)) != float64(n) {
			return false
		}
		highest = max(highest, float64(n))
	}
	return highest == float64(t.Len())
}

// sendFieldSkipped are the fields of a message that addFields does not turn into tags.
var sendFieldSkipped = map[string]bool{"Target": true, "Data": true, "Anchor": true, "Tags": true, "From": true}

// addFields(tags, msg) is ao.lua's addFields: msg's own fields (but Target, Data, Anchor, Tags and From)
// in byte order of their names, then msg.Tags (a list as it is, a name -> value table in byte order of the
// names), appended to tags as tag tables. It returns true when it did the work: tags and msg plain tables,
// msg.Tags not a table or a plain table, and tostring the runtime's own.
func addFields(L *lua.LState) int {
	tags := plainTable(L.Get(1))
	msgTags, ok := fieldsShape(L.Get(2))
	if tags == nil || !ok || !ownTostring(L) {
		L.Push(lua.LFalse)
		return 1
	}
	appendFields(L, tags, L.Get(2).(*lua.LTable), msgTags)
	L.Push(lua.LTrue)
	return 1
}

// fieldsShape reports whether msg is a message appendFields handles (a plain table whose Tags is no
// table or a plain table), and gives its Tags table if any.
func fieldsShape(v lua.LValue) (*lua.LTable, bool) {
	msg := plainTable(v)
	if msg == nil {
		return nil, false
	}
	if t, isTable := msg.RawGetString("Tags").(*lua.LTable); isTable {
		return plainTable(t), plainTable(t) != nil
	}
	return nil, true
}

// appendFields is addFields's work, for a msg of fieldsShape.
func appendFields(L *lua.LState, tags, msg, msgTags *lua.LTable) {
	add := func(t *lua.LTable, skip map[string]bool) {
		for _, k := range sortedStringKeys(t) {
			if skip[k] {
				continue
			}
			// any value, as AOS puts it (the result's JSON shows numbers, booleans and tables as such)
			if v := t.RawGetString(k); v != lua.LNil {
				tb := newFieldTable(L, 2, 0)
				tb.set(kName, lua.LString(k))
				tb.set(kValue, v)
				tags.Append(tb.table())
			}
		}
	}
	add(msg, sendFieldSkipped)
	if msgTags != nil {
		if isArrayTable(msgTags) {
			for i := 1; ; i++ {
				v := msgTags.RawGetInt(i)
				if v == lua.LNil {
					break
				}
				tags.Append(v)
			}
		} else {
			add(msgTags, nil)
		}
	}
}

var (
	kReference   = lua.LValue(lua.LString("Reference"))
	kDataProto   = lua.LValue(lua.LString("Data-Protocol"))
	kVariant     = lua.LValue(lua.LString("Variant"))
	kType        = lua.LValue(lua.LString("Type"))
	vAo          = lua.LValue(lua.LString("ao"))
	vVariant     = lua.LValue(lua.LString("ao.TN.1"))
	vMessageType = lua.LValue(lua.LString("Message"))
)

// sendMessage(ao, msg) is ao.send's queueing of msg: ao.reference counts one more, and the message
// (Target, Data, an Anchor of the reference padded to 32 digits, and Tags: Data-Protocol, Variant, Type,
// Reference, then msg's fields as addFields adds them) is built and a copy of it appended to
// ao.outbox.Messages. It returns the message and the reference as text, or false when ao (with
// reference a number, outbox and outbox.Messages plain tables) or msg (see fieldsShape) is not of the
// shape it handles, or tostring is not the runtime's own; the Lua code then does it all.
func sendMessage(L *lua.LState) int {
	ao := plainTable(L.Get(1))
	msgTags, ok := fieldsShape(L.Get(2))
	var ref lua.LNumber
	var queue *lua.LTable
	if ao != nil && ok {
		ref, ok = ao.RawGetString("reference").(lua.LNumber)
		if outbox := plainTable(ao.RawGetString("outbox")); outbox != nil {
			queue = plainTable(outbox.RawGetString("Messages"))
		}
	}
	if ao == nil || !ok || queue == nil || !ownTostring(L) {
		L.Push(lua.LFalse)
		return 1
	}
	msg := L.Get(2).(*lua.LTable)
	ref++
	ao.RawSetString("reference", ref)
	refText := numberText(L, ref)
	pad := ""
	if n := 32 - len(lua.LVAsString(refText)); n >= 1 {
		pad = strings.Repeat("0", n)
	}
	tags := L.CreateTable(4, 0)
	for _, tv := range [4][2]lua.LValue{{kDataProto, vAo}, {kVariant, vVariant}, {kType, vMessageType}, {kReference, refText}} {
		tb := newFieldTable(L, 2, 0)
		tb.set(kName, tv[0])
		tb.set(kValue, tv[1])
		tags.Append(tb.table())
	}
	message := newFieldTable(L, 4, 2) // the runtime adds onReply and receive
	message.set(kTarget, msg.RawGetString("Target"))
	message.set(kData, msg.RawGetString("Data"))
	message.set(kAnchor, lua.LString(pad+lua.LVAsString(refText)))
	message.set(kTags, tags)
	appendFields(L, tags, msg, msgTags)
	m := message.table()
	queue.Append(copyFields(L, m))
	L.Push(m)
	L.Push(refText)
	return 2
}

// prompt(Colors, Name, Inbox, version, tostring) is Prompt()'s text when Colors is a plain table whose
// green, gray, blue, red and reset are strings, Name and version are strings, Inbox is a plain table (#
// without metamethods) and tostring is gopher-lua's; else nil.
func prompt(L *lua.LState) int {
	colors, inbox := plainTable(L.Get(1)), plainTable(L.Get(3))
	name, ok1 := L.Get(2).(lua.LString)
	version, ok2 := L.Get(4).(lua.LString)
	ts, ok3 := L.Get(5).(*lua.LFunction)
	if colors == nil || inbox == nil || !ok1 || !ok2 || !ok3 || !ts.IsG || !luavm.SameCode(ts.GFunction, orig.tostring) {
		L.Push(lua.LNil)
		return 1
	}
	var c [5]string
	for i, k := range []string{"green", "gray", "blue", "red", "reset"} {
		s, ok := colors.RawGetString(k).(lua.LString)
		if !ok {
			L.Push(lua.LNil)
			return 1
		}
		c[i] = string(s)
	}
	green, gray, blue, red, reset := c[0], c[1], c[2], c[3], c[4]
	L.Push(lua.LString(green + string(name) + gray + "@" + blue + "aos-" + string(version) + gray +
		"[Inbox:" + red + string(numberText(L, lua.LNumber(inbox.Len())).(lua.LString)) + gray + "]" + reset + "> "))
	return 1
}

// installed(Handlers, own, name, pattern [, resolver]) tells whether the runtime's registration of a
// handler is still in place: Handlers is own[1], a plain table whose add, append and generateResolver are
// own[2], own[3] and own[4], and the first entry named name of its plain list (see handlerNamed) has
// this pattern, this resolver as its handle and no maxRuns. Its second result is that entry's handle
// when the rest but the resolver holds.
func installed(L *lua.LState) int {
	own, h := plainTable(L.Get(2)), plainTable(L.Get(1))
	pattern, resolver := L.Get(4), L.Get(5)
	var o *lua.LTable
	if own != nil && h != nil && own.RawGetInt(1) == lua.LValue(h) && h.RawGetString("add") == own.RawGetInt(2) &&
		h.RawGetString("append") == own.RawGetInt(3) && h.RawGetString("generateResolver") == own.RawGetInt(4) {
		o = firstNamed(h.RawGetString("list"), L.Get(3))
	}
	if o == nil || o.RawGetString("pattern") != pattern || o.RawGetString("maxRuns") != lua.LNil {
		L.Push(lua.LFalse)
		L.Push(lua.LNil)
		return 2
	}
	handle := o.RawGetString("handle")
	L.Push(lua.LBool(resolver != lua.LNil && handle == resolver))
	L.Push(handle)
	return 2
}

// firstNamed is the first entry of list whose name is name, when list and its entries up to that one are
// plain tables (as findIndexByProp finds it); else nil.
func firstNamed(v, name lua.LValue) *lua.LTable {
	list := plainTable(v)
	if list == nil {
		return nil
	}
	for i := 1; ; i++ {
		e := plainTable(list.RawGetInt(i))
		if e == nil {
			return nil
		}
		if e.RawGetString("name") == name {
			return e
		}
	}
}

// outputOnly(ao, own) reports whether a message's result is its Output and the outbox: ao (a plain table)
// has own as its result function, and its outbox is a plain table without Error.
func outputOnly(L *lua.LState) int {
	ao := plainTable(L.Get(1))
	ok := ao != nil && ao.RawGetString("result") == L.Get(2)
	if ok {
		outbox := plainTable(ao.RawGetString("outbox"))
		ok = outbox != nil && !lua.LVAsBool(outbox.RawGetString("Error"))
	}
	L.Push(lua.LBool(ok))
	return 1
}

// numberText is tostring(n) (the runtime's: Lua 5.3's text of a number, as a number has no __tostring),
// without its formatting for small integers.
func numberText(L *lua.LState, n lua.LNumber) lua.LValue {
	if f := float64(n); f == float64(int64(f)) {
		if i := int64(f); i >= 0 && i < int64(len(smallNumberTexts)) {
			return smallNumberTexts[i]
		}
	}
	return lua.LString(strlib.NumberToString(float64(n)))
}

// smallNumberTexts are the texts of 0..1023, made once.
var smallNumberTexts = func() (t [1024]lua.LValue) {
	for i := range t {
		t[i] = lua.LString(strconv.Itoa(i))
	}
	return t
}()

// rawSetField is t.RawSetString(string(key), v) for a key already boxed as an LString.
func rawSetField(t *lua.LTable, key, v lua.LValue) { luavm.SetStringKey(t, key, v) }

// boxNumber is lua.LNumber(n) as an LValue, preboxed when small.
func boxNumber(n int64) lua.LValue {
	if n >= 0 && n < int64(len(boxedInts)) {
		return boxedInts[n]
	}
	return lua.LNumber(n)
}

// outboxKeys are the fields of an empty outbox, in newOutbox's order.
var outboxKeys = []lua.LValue{kOutput, kMessages, kSpawns, kAssignments}

// sameOutbox(outbox) is outbox when it is still exactly an empty outbox as newOutbox makes it (its four
// fields, each a plain table that never held anything), else a new empty outbox.
func sameOutbox(L *lua.LState) int {
	if t := plainTable(L.Get(1)); t != nil && exactFields(t, outboxKeys, []lua.LValue{nil, nil, nil, nil}) {
		empty := true
		for _, k := range outboxKeys {
			f := plainTable(t.RawGetString(string(k.(lua.LString))))
			empty = empty && f != nil && len(tableArray(f)) == 0 && tableDict(f) == nil && tableStrdict(f) == nil &&
				tableKeys(f) == nil
		}
		if empty {
			L.Push(t)
			return 1
		}
	}
	return newOutbox(L)
}
