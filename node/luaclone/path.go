package luaclone

import (
	"strconv"

	lua "github.com/yuin/gopher-lua"

	"github.com/aonode/aonode/internal/luavm"
)

// pathTo returns a readable path from one of src's roots to target, for error
// messages (breadth first, so the shortest path). Only used on failure.
func (c *cloner) pathTo(target lua.LValue) string {
	if target == lua.LValue(c.src) {
		return "<main thread>"
	}
	type node struct {
		v    lua.LValue
		path string
	}
	seen := map[lua.LValue]bool{}
	var queue []node
	push := func(v lua.LValue, path string) bool {
		switch x := v.(type) {
		case *lua.LTable:
			if x == nil {
				return false
			}
		case *lua.LFunction:
			if x == nil {
				return false
			}
		case *lua.LUserData:
			if x == nil {
				return false
			}
		case *lua.LState:
			if x == nil {
				return false
			}
		case lua.LChannel:
		default:
			return false
		}
		if v == target {
			return true
		}
		if !seen[v] {
			seen[v] = true
			queue = append(queue, node{v, path})
		}
		return false
	}
	for _, r := range srcRoots(c.src) {
		if push(r.v, r.name) {
			return r.name
		}
	}
	for i := 0; i < len(queue); i++ {
		n := queue[i]
		switch x := n.v.(type) {
		case *lua.LTable:
			if p := n.path + ".<metatable>"; push(x.Metatable, p) {
				return p
			}
			for j, e := range luavm.TableArray(x) {
				if p := n.path + "[" + strconv.Itoa(j+1) + "]"; push(e, p) {
					return p
				}
			}
			for _, k := range luavm.TableKeys(x) {
				e := x.RawGetH(k)
				if e == lua.LNil {
					continue
				}
				p := n.path + keyLabel(k)
				if push(k, n.path+".<key "+k.Type().String()+">") {
					return n.path + ".<key " + k.Type().String() + ">"
				}
				if push(e, p) {
					return p
				}
			}
		case *lua.LFunction:
			if x.Env != nil {
				if p := n.path + ".<env>"; push(x.Env, p) {
					return p
				}
			}
			for j, uv := range x.Upvalues {
				if uv == nil {
					continue
				}
				if p := n.path + ".<upvalue " + upvalueName(x, j) + ">"; push(uv.Value(), p) {
					return p
				}
			}
		case *lua.LUserData:
			if x.Env != nil {
				if p := n.path + ".<env>"; push(x.Env, p) {
					return p
				}
			}
			if p := n.path + ".<metatable>"; push(x.Metatable, p) {
				return p
			}
		case *lua.LState:
			if x.Env != nil {
				if p := n.path + ".<env>"; push(x.Env, p) {
					return p
				}
			}
		}
	}
	return "<unknown path>"
}

func keyLabel(k lua.LValue) string {
	switch x := k.(type) {
	case lua.LString:
		if isIdent(string(x)) {
			return "." + string(x)
		}
		return "[" + strconv.Quote(string(x)) + "]"
	case lua.LNumber, lua.LBool:
		return "[" + x.String() + "]"
	}
	return "[<" + k.Type().String() + ">]"
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}
