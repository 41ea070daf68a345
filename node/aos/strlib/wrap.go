package strlib

import (
	lua "github.com/yuin/gopher-lua"
)

// Charges for the 5.3 functions this package does not implement (string.pack, unpack, packsize and
// the utf8 library, installed by node/aos/lua53): Open wraps the ones it finds so that each call is
// charged after it returns, by what it processed as its arguments and results show it. Their work per
// call is bounded by their arguments (pack refuses results over 1 GiB), so charging afterwards is
// enough to bound a loop of them.

// costFunc is the instructions a wrapped call costs, from its arguments (args, the stack from 1 on) and
// its results (res).
type costFunc func(args, res []lua.LValue) int64

// wrapCharged replaces t[name], a Go function, with one that calls it and charges cost.
func (l *lib) wrapCharged(L *lua.LState, t *lua.LTable, name string, cost costFunc) {
	fn, ok := t.RawGetString(name).(*lua.LFunction)
	if !ok || !fn.IsG {
		return
	}
	orig := fn.GFunction
	t.RawSetString(name, L.NewFunction(func(L *lua.LState) int {
		nargs := L.GetTop()
		args := make([]lua.LValue, nargs)
		for i := range args {
			args[i] = L.Get(i + 1)
		}
		n := orig(L)
		res := make([]lua.LValue, n)
		for i := range res {
			res[i] = L.Get(L.GetTop() - n + 1 + i)
		}
		l.charge(L, cost(args, res))
		return n
	}))
}

// stringBytes is the total length of the strings among vs.
func stringBytes(vs []lua.LValue) int64 {
	n := int64(0)
	for _, v := range vs {
		if s, ok := v.(lua.LString); ok {
			n += int64(len(s))
		}
	}
	return n
}

// wrapOthers wraps string.pack, unpack, packsize and the utf8 functions present in L.
func (l *lib) wrapOthers(L *lua.LState, str *lua.LTable) {
	values := func(args, res []lua.LValue) int64 { return int64(len(args)+len(res)) / valuesPerInstr }
	// pack, unpack: the format is read once; values and bytes are converted or copied.
	packed := func(args, res []lua.LValue) int64 {
		return values(args, res) + stringBytes(args[:min(1, len(args))])/mapBytesPerInstr + stringBytes(res)/copyBytesPerInstr
	}
	l.wrapCharged(L, str, "pack", packed)
	l.wrapCharged(L, str, "unpack", packed)
	l.wrapCharged(L, str, "packsize", func(args, res []lua.LValue) int64 {
		return stringBytes(args[:min(1, len(args))]) / mapBytesPerInstr
	})
	u, ok := L.GetGlobal("utf8").(*lua.LTable)
	if !ok {
		return
	}
	// char builds a string from its arguments; codepoint decodes a value per result.
	l.wrapCharged(L, u, "char", func(args, res []lua.LValue) int64 {
		return values(args, res) + stringBytes(res)/copyBytesPerInstr
	})
	l.wrapCharged(L, u, "codepoint", values)
	// len decodes the bytes between its positions; offset walks |n| characters.
	l.wrapCharged(L, u, "len", func(args, res []lua.LValue) int64 {
		s, ok := args[0].(lua.LString)
		if !ok {
			return 0
		}
		i, j := int64(1), int64(-1)
		if len(args) > 1 {
			if n, ok := args[1].(lua.LNumber); ok {
				i = int64(n)
			}
		}
		if len(args) > 2 {
			if n, ok := args[2].(lua.LNumber); ok {
				j = int64(n)
			}
		}
		i, j = posrelat(i, len(s)), posrelat(j, len(s))
		return max(j-i+1, 0) / mapBytesPerInstr
	})
	l.wrapCharged(L, u, "offset", func(args, res []lua.LValue) int64 {
		if len(args) > 1 {
			if n, ok := args[1].(lua.LNumber); ok {
				if n < 0 {
					n = -n
				}
				if n < 1e15 {
					return int64(n) / 8
				}
			}
		}
		return 0
	})
}
