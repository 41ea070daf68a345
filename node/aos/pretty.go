package aos

import (
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// The `.pretty` module as AOS has it: tprint(t [, indent]) is one "key: value" line per entry, a nested
// table as "key: " and its own lines one space further in, entries in pairs order. Keys and values are
// joined as Lua's .. joins them (strings and numbers; anything else is the concatenation error AOS shows,
// with its position).

const prettyChunk = `[string ".pretty"]`

const (
	prettyLineIter  = 11
	prettyLineKey   = 13
	prettyLineValue = 27
)

func openPretty(L *lua.LState) int {
	t := L.CreateTable(0, 2)
	t.RawSetString("_version", lua.LString("0.0.1"))
	// tostring, as the module found it, turns numbers into text.
	t.RawSetString("tprint", L.NewClosure(prettyTprint, L.G.Global.RawGetString("tostring")))
	L.Push(t)
	return 1
}

func prettyFail(L *lua.LState, line int, msg string) {
	L.Error(lua.LString(prettyChunk+":"+strconv.Itoa(line)+": "+msg), 0)
}

func prettyTprint(L *lua.LState) int {
	indent := 0
	if v := L.Get(2); lua.LVAsBool(v) {
		indent = int(L.CheckNumber(2))
	}
	var b strings.Builder
	prettyTable(L, &b, L.Get(1), indent, 0)
	L.Push(lua.LString(b.String()))
	return 1
}

// concatText is what `..` makes of v (strings and numbers), or ok false.
func concatText(L *lua.LState, v lua.LValue) (string, bool) {
	switch x := v.(type) {
	case lua.LString:
		return string(x), true
	case lua.LNumber:
		L.Push(L.Get(lua.UpvalueIndex(1)))
		L.Push(x)
		L.Call(1, 1)
		s := lua.LVAsString(L.Get(-1))
		L.Pop(1)
		return s, true
	}
	return "", false
}

func prettyTable(L *lua.LState, b *strings.Builder, v lua.LValue, indent, depth int) {
	t, ok := v.(*lua.LTable)
	if !ok {
		prettyFail(L, prettyLineIter, "bad argument #1 to 'for iterator' (table expected, got "+v.Type().String()+")")
	}
	if depth >= jsonMaxDepth {
		L.RaiseError("pretty.tprint: nested too deep (more than %d levels)", jsonMaxDepth)
	}
	pad := strings.Repeat(" ", max(indent, 0))
	for k, val := t.Next(lua.LNil); k != lua.LNil; k, val = t.Next(k) {
		key, ok := concatText(L, k)
		if !ok {
			prettyFail(L, prettyLineKey, "attempt to concatenate a "+k.Type().String()+" value (local 'k')")
		}
		charge(L, 1+int64(len(key))/costBytes)
		chargeAlloc(L, int64(len(pad)+len(key)+3))
		b.WriteString(pad)
		b.WriteString(key)
		b.WriteString(": ")
		switch x := val.(type) {
		case *lua.LTable:
			b.WriteByte('\n')
			prettyTable(L, b, x, indent+1, depth+1)
		case lua.LBool:
			b.WriteString(strconv.FormatBool(bool(x)))
			b.WriteByte('\n')
		default:
			text, ok := concatText(L, val)
			if !ok {
				prettyFail(L, prettyLineValue, "attempt to concatenate a "+val.Type().String()+" value (local 'v')")
			}
			chargeAlloc(L, int64(len(text)+1))
			b.WriteString(text)
			b.WriteByte('\n')
		}
	}
}
