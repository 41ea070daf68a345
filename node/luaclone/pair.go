package luaclone

import (
	"slices"

	lua "github.com/yuin/gopher-lua"

	"github.com/aonode/aonode/internal/luavm"
)

// pairAll walks src and dst in parallel, breadth first, from the same roots
// and pairs objects found at the same path (see the package comment). Only
// string, number and boolean keys are followed, since object keys have no
// counterpart in the other VM.
func (c *cloner) pairAll() {
	c.tryPair(c.src.G.Global, c.dst.G.Global)
	c.tryPair(c.src.G.Registry, c.dst.G.Registry)
	if c.src.Env != nil && c.dst.Env != nil {
		c.tryPair(c.src.Env, c.dst.Env)
	}
	smts, dmts := luavm.BuiltinMetatables(c.src.G), luavm.BuiltinMetatables(c.dst.G)
	for _, t := range sortedTypes(smts) {
		if d, ok := dmts[t]; ok {
			c.tryPair(smts[t], d)
		}
	}
	for i := 0; i < len(c.queue); i++ {
		c.pairChildren(c.queue[i].s, c.queue[i].d)
	}
	c.queue = nil
}

func (c *cloner) tryPair(sv, dv lua.LValue) {
	switch s := sv.(type) {
	case *lua.LTable:
		d, ok := dv.(*lua.LTable)
		if !ok || s == nil || d == nil || c.pT[s] != nil || c.cT[d] {
			return
		}
		c.pT[s], c.cT[d] = d, true
	case *lua.LFunction:
		d, ok := dv.(*lua.LFunction)
		if !ok || s == nil || d == nil || s.IsG != d.IsG || len(s.Upvalues) != len(d.Upvalues) {
			return
		}
		if !s.IsG {
			// Lua closures are always copied from src, never paired, but we
			// look through them to pair what their upvalues hold.
			if c.pLua[s] || !sameProto(s.Proto, d.Proto) {
				return
			}
			c.pLua[s] = true
			break
		}
		if c.pF[s] != nil || c.cF[d] || !luavm.SameCode(s.GFunction, d.GFunction) {
			return
		}
		c.pF[s], c.cF[d] = d, true
	case *lua.LUserData:
		d, ok := dv.(*lua.LUserData)
		if !ok || s == nil || d == nil || c.pU[s] != nil || c.cU[d] {
			return
		}
		c.pU[s], c.cU[d] = d, true
	case lua.LChannel:
		d, ok := dv.(lua.LChannel)
		if !ok || s == nil || d == nil {
			return
		}
		if _, done := c.pC[s]; done || c.cC[d] {
			return
		}
		c.pC[s], c.cC[d] = d, true
		return
	default:
		return
	}
	c.queue = append(c.queue, pairItem{sv, dv})
}

func (c *cloner) pairChildren(sv, dv lua.LValue) {
	switch s := sv.(type) {
	case *lua.LTable:
		d := dv.(*lua.LTable)
		for i, e := range luavm.TableArray(d) {
			if e != lua.LNil {
				c.tryPair(s.RawGetInt(i+1), e)
			}
		}
		for _, k := range luavm.TableKeys(d) {
			e := d.RawGetH(k)
			if e == lua.LNil {
				continue
			}
			switch k.(type) {
			case lua.LString, lua.LNumber, lua.LBool:
				c.tryPair(s.RawGetH(k), e)
			}
		}
		c.tryPair(s.Metatable, d.Metatable)
	case *lua.LFunction:
		d := dv.(*lua.LFunction)
		if s.Env != nil && d.Env != nil {
			c.tryPair(s.Env, d.Env)
		}
		for i, uv := range s.Upvalues {
			if uv != nil && d.Upvalues[i] != nil {
				c.tryPair(uv.Value(), d.Upvalues[i].Value())
			}
		}
	case *lua.LUserData:
		d := dv.(*lua.LUserData)
		if s.Env != nil && d.Env != nil {
			c.tryPair(s.Env, d.Env)
		}
		c.tryPair(s.Metatable, d.Metatable)
	}
}

// sameProto reports whether two prototypes were compiled from the same code.
func sameProto(a, b *lua.FunctionProto) bool {
	if a == b {
		return true
	}
	return a != nil && b != nil &&
		a.SourceName == b.SourceName && a.LineDefined == b.LineDefined &&
		a.LastLineDefined == b.LastLineDefined && a.NumUpvalues == b.NumUpvalues &&
		a.NumParameters == b.NumParameters && a.IsVarArg == b.IsVarArg &&
		slices.Equal(a.Code, b.Code) && slices.Equal(a.DbgUpvalues, b.DbgUpvalues)
}
