package aos

import (
	lua "github.com/yuin/gopher-lua"

	"github.com/aonode/aonode/internal/luavm"
)

// fieldTable builds the string-keyed tables made for every message (the message, its tags and the env
// here, the outbox, tags and records of the Go helpers in native.go) in one step. gopher-lua's
// RawSetString boxes each key anew and grows the table's key list and key index one key at a time: several
// allocations per field, and the message table grows again when the runtime adds its fields. The result is
// exactly the table the same RawSetString calls would make (keys in the order set, all live), with the key
// list and index sized for the fields plus those the runtime adds later. gopher-lua keeps those parts in
// unexported fields, set through internal/luavm (whose layout check New requires).
type fieldTable struct {
	t       *lua.LTable
	keys    []lua.LValue
	k2i     map[lua.LValue]int
	strdict map[string]lua.LValue
	deleted bool // a key was cleared: a key missing from strdict may still be in keys
}

// newFieldTable starts a table of n fields with room for extra more.
func newFieldTable(L *lua.LState, n, extra int) fieldTable {
	b := fieldTable{k2i: make(map[lua.LValue]int, n+extra), strdict: make(map[string]lua.LValue, n+extra)}
	// The table and its key list in one allocation when the list is small (a table as CreateTable(0, 0)
	// makes it: no parts, no metatable).
	switch c := n + extra; {
	case c <= 2:
		x := &struct {
			t    lua.LTable
			keys [2]lua.LValue
		}{t: lua.LTable{Metatable: lua.LNil}}
		b.t, b.keys = &x.t, x.keys[:0]
	case c <= 4:
		x := &struct {
			t    lua.LTable
			keys [4]lua.LValue
		}{t: lua.LTable{Metatable: lua.LNil}}
		b.t, b.keys = &x.t, x.keys[:0]
	case c <= 8:
		x := &struct {
			t    lua.LTable
			keys [8]lua.LValue
		}{t: lua.LTable{Metatable: lua.LNil}}
		b.t, b.keys = &x.t, x.keys[:0]
	default:
		b.t, b.keys = L.CreateTable(0, 0), make([]lua.LValue, 0, c)
	}
	return b
}

// set sets field key, an LString (boxed once: see the k* variables, or a key taken from a Lua value), to
// v, as RawSetString does.
func (b *fieldTable) set(key lua.LValue, v lua.LValue) {
	k := string(key.(lua.LString))
	if v == lua.LNil {
		delete(b.strdict, k) // a key once set keeps its place, as in gopher-lua
		b.deleted = true
		return
	}
	n := len(b.strdict)
	b.strdict[k] = v
	if len(b.strdict) == n {
		return // an existing field
	}
	if b.deleted {
		if _, ok := b.k2i[key]; ok {
			return // a cleared field set again, in its old place
		}
	}
	b.k2i[key] = len(b.keys)
	b.keys = append(b.keys, key)
}

// get is field key (an LString) so far.
func (b *fieldTable) get(key lua.LValue) lua.LValue {
	k := string(key.(lua.LString))
	if v, ok := b.strdict[k]; ok {
		return v
	}
	return lua.LNil
}

// table is the built table.
func (b *fieldTable) table() *lua.LTable {
	luavm.SetTableParts(b.t, luavm.TableParts{Strdict: b.strdict, Keys: b.keys, K2i: b.k2i})
	return b.t
}

// Field names of the tables the host builds, boxed once.
var (
	kName, kValue = lua.LValue(lua.LString("name")), lua.LValue(lua.LString("value"))
	kId, kOwner   = lua.LValue(lua.LString("Id")), lua.LValue(lua.LString("Owner"))
	kTags, kData  = lua.LValue(lua.LString("Tags")), lua.LValue(lua.LString("Data"))
	kSignature    = lua.LValue(lua.LString("Signature"))
	kFrom         = lua.LValue(lua.LString("From"))
	kTarget       = lua.LValue(lua.LString("Target"))
	kAnchor       = lua.LValue(lua.LString("Anchor"))
	kForwardedBy  = lua.LValue(lua.LString("Forwarded-By"))
	kHashChain    = lua.LValue(lua.LString("Hash-Chain"))
	kEpoch        = lua.LValue(lua.LString("Epoch"))
	kNonce        = lua.LValue(lua.LString("Nonce"))
	kTimestamp    = lua.LValue(lua.LString("Timestamp"))
	kBlockHeight  = lua.LValue(lua.LString("Block-Height"))
	kCron         = lua.LValue(lua.LString("Cron"))
	kReadOnly     = lua.LValue(lua.LString("Read-Only"))
	kProcess      = lua.LValue(lua.LString("Process"))
	kModule       = lua.LValue(lua.LString("Module"))
	kOutput       = lua.LValue(lua.LString("Output"))
	kMessages     = lua.LValue(lua.LString("Messages"))
	kSpawns       = lua.LValue(lua.LString("Spawns"))
	kAssignments  = lua.LValue(lua.LString("Assignments"))
)
