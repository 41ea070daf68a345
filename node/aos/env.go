package aos

import (
	lua "github.com/yuin/gopher-lua"

	"github.com/aonode/aonode/internal/luavm"
)

// The env (ao.env: the process's and module's ids, owners and tags) is the same for every message of a
// process, yet it was built anew for each one: with its tag tables and the name -> value table the
// runtime makes of the process's tags (Tab), a dozen tables of two Go maps each. Handle gives the runtime
// the env tables of the previous message again when they are exactly as a new env would be (every table
// plain, holding the same fields in the same order, nothing added, changed or removed: checked field by
// field, see intact), after undoing the runtime's own change (Process.Tags back to the tag list,
// Process.TagArray cleared); otherwise it builds a new env. The runtime then turns Process.Tags into the
// Tab table of the previous message again when that table too is still exactly what Tab would give
// (process.lua, native tabAgain). Lua code sees the same values, keys and iteration order either way; only
// a table kept from an earlier message is now the same table as the current one.

// envCache is the env tables of the previous message.
type envCache struct {
	env, proc, mod    *lua.LTable
	procTags, modTags *lua.LTable
	procList, modList []lua.LValue // the tag tables
}

var (
	kTagArray = lua.LValue(lua.LString("TagArray"))
	envKeys   = []lua.LValue{kProcess, kModule}
	infoKeys  = []lua.LValue{kId, kOwner, kTags}
	tagKeys   = []lua.LValue{kName, kValue}
	procKeys  = []lua.LValue{kId, kOwner, kTags, kTagArray} // Process once the runtime added TagArray
)

// table parts (internal/luavm).
func tableArray(t *lua.LTable) []lua.LValue             { return luavm.TableArray(t) }
func tableDict(t *lua.LTable) map[lua.LValue]lua.LValue { return luavm.TableDict(t) }
func tableStrdict(t *lua.LTable) map[string]lua.LValue  { return luavm.TableStrdict(t) }
func tableKeys(t *lua.LTable) []lua.LValue              { return luavm.TableKeys(t) }

// exactFields reports whether t is a plain table whose key list is exactly keys (no other key ever set),
// holding vals: a value, nil for any value, or lua.LNil for a key set once but now absent.
func exactFields(t *lua.LTable, keys, vals []lua.LValue) bool {
	if t.Metatable != lua.LNil || len(tableArray(t)) != 0 || len(tableDict(t)) != 0 {
		return false
	}
	sd, ks := tableStrdict(t), tableKeys(t)
	if len(ks) != len(keys) {
		return false
	}
	present := 0
	for i, k := range keys {
		if ks[i] != k {
			return false
		}
		v, ok := sd[string(k.(lua.LString))]
		want := vals[i]
		if want == lua.LNil {
			if ok {
				return false
			}
			continue
		}
		if !ok || (want != nil && v != want) {
			return false
		}
		present++
	}
	return len(sd) == present
}

// exactList reports whether t is a plain table holding exactly the list elems.
func exactList(t *lua.LTable, elems []lua.LValue) bool {
	if t.Metatable != lua.LNil || len(tableDict(t)) != 0 || len(tableStrdict(t)) != 0 || len(tableKeys(t)) != 0 {
		return false
	}
	a := tableArray(t)
	if len(a) != len(elems) {
		return false
	}
	for i, e := range elems {
		if a[i] != e {
			return false
		}
	}
	return true
}

// tagsIntact reports whether list holds the tag tables tabs, each exactly { name = tags[i].Name, value
// = tags[i].Value }.
func tagsIntact(list *lua.LTable, tabs []lua.LValue, tags []Tag) bool {
	if len(tabs) != len(tags) || !exactList(list, tabs) {
		return false
	}
	for i, tg := range tags {
		t := tabs[i].(*lua.LTable)
		if !exactFields(t, tagKeys, []lua.LValue{nil, nil}) || !isString(t.RawGetString("name"), tg.Name) ||
			!isString(t.RawGetString("value"), tg.Value) {
			return false
		}
	}
	return true
}

// isString reports whether v is the string s.
func isString(v lua.LValue, s string) bool {
	x, ok := v.(lua.LString)
	return ok && string(x) == s
}

// intact reports whether the cached env is exactly what envTable would build, once the runtime's change
// to Process is undone; it returns the Tab table the runtime left in Process.Tags, if any.
func (c *envCache) intact(env Env) (tab lua.LValue, ok bool) {
	if !exactFields(c.env, envKeys, []lua.LValue{c.proc, c.mod}) ||
		!exactFields(c.mod, infoKeys, []lua.LValue{lua.LString(env.Module.Id), lua.LString(env.Module.Owner), c.modTags}) ||
		!tagsIntact(c.procTags, c.procList, env.Process.Tags) || !tagsIntact(c.modTags, c.modList, env.Module.Tags) {
		return nil, false
	}
	id, owner := lua.LValue(lua.LString(env.Process.Id)), lua.LValue(lua.LString(env.Process.Owner))
	switch {
	case exactFields(c.proc, procKeys, []lua.LValue{id, owner, nil, c.procTags}):
		return c.proc.RawGetString("Tags"), true // as the runtime leaves it: Tags is its Tab table
	case exactFields(c.proc, infoKeys, []lua.LValue{id, owner, c.procTags}):
		return lua.LNil, true // as built
	case exactFields(c.proc, procKeys, []lua.LValue{id, owner, c.procTags, lua.LNil}):
		return lua.LNil, true // as reset (the runtime stopped before it set TagArray)
	}
	return nil, false
}

// envArgs are the env table and the Tab table of the previous message (or nil) the runtime is given.
func (p *Process) envArgs() (*lua.LTable, lua.LValue) {
	if p.rt.noEnvReuse {
		return p.envTable().env, lua.LNil
	}
	if c := p.envCache; c != nil {
		if tab, ok := c.intact(p.env); ok {
			if tab != lua.LNil {
				c.proc.RawSetString("Tags", c.procTags)
				c.proc.RawSetString("TagArray", lua.LNil)
			}
			return c.env, tab
		}
	}
	c := p.envTable()
	p.envCache = c
	return c.env, lua.LNil
}

// tabAgain(P, prev) is Tab(P) for the env's Process: prev, the Tab table of the previous message, when it
// holds exactly what Tab(P) would (P of the plain shape, every tag value a string), else a new table as
// the Go Tab makes it, or nil when P is not of the plain shape (the runtime then calls Tab).
func tabAgain(L *lua.LState) int {
	tags := plainTags(L.Get(1))
	if tags == nil {
		L.Push(lua.LNil)
		return 1
	}
	if prev := plainTable(L.Get(2)); prev != nil && sameTab(prev, tags) {
		L.Push(prev)
		return 1
	}
	return tagsByName(L)
}

// sameTab reports whether t is exactly Tab of the plain tag list tags whose values are all strings: the
// first value of each name, names in the order they first appear.
func sameTab(t, tags *lua.LTable) bool {
	var nbuf, vbuf [16]lua.LValue
	names, vals := nbuf[:0], vbuf[:0]
	for i := 1; ; i++ {
		tag, ok := tags.RawGetInt(i).(*lua.LTable)
		if !ok {
			break
		}
		name, value := tag.RawGetString("name"), tag.RawGetString("value")
		if _, ok := value.(lua.LString); !ok || len(names) == 64 {
			return false
		}
		seen := false
		for _, n := range names {
			if n == name {
				seen = true
				break
			}
		}
		if !seen {
			names, vals = append(names, name), append(vals, value)
		}
	}
	return exactFields(t, names, vals)
}
