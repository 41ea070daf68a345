package aos

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"

	lua "github.com/yuin/gopher-lua"
)

// stdGlobals are the Lua standard library and runtime names left out of the state view: they are code,
// the same for every process.
var stdGlobals = map[string]bool{
	"_G": true, "_VERSION": true, "_GOPHER_LUA_VERSION": true, "package": true, "string": true, "table": true,
	"math": true, "coroutine": true, "os": true, "io": true, "debug": true, "channel": true, "utf8": true, "bit32": true,
	"__lua53": true, "_ENV": true,
}

// stateJSON renders a process's global data (not its code) as deterministic JSON: keys sorted, functions
// and userdata shown by kind, a table seen twice shown once and then as a reference to its first path.
func stateJSON(L *lua.LState) ([]byte, error) {
	var buf bytes.Buffer
	seen := map[*lua.LTable]string{}
	var write func(v lua.LValue, path string, depth int) error
	write = func(v lua.LValue, path string, depth int) error {
		switch x := v.(type) {
		case *lua.LNilType:
			buf.WriteString("null")
		case lua.LBool:
			buf.WriteString(strconv.FormatBool(bool(x)))
		case lua.LNumber:
			f := float64(x)
			if math.IsNaN(f) || math.IsInf(f, 0) {
				b, _ := json.Marshal(x.String())
				buf.Write(b)
			} else {
				buf.WriteString(x.String())
			}
		case lua.LString:
			b, _ := json.Marshal(string(x))
			buf.Write(b)
		case *lua.LTable:
			if p, ok := seen[x]; ok {
				b, _ := json.Marshal("<ref " + p + ">")
				buf.Write(b)
				return nil
			}
			if depth > 64 {
				buf.WriteString(`"<too deep>"`)
				return nil
			}
			seen[x] = path
			type kv struct {
				k string
				v lua.LValue
			}
			var kvs []kv
			x.ForEach(func(k, v lua.LValue) {
				if depth == 0 {
					if s, ok := k.(lua.LString); ok && stdGlobals[string(s)] {
						return
					}
					if _, ok := v.(*lua.LFunction); ok {
						return
					}
				}
				kvs = append(kvs, kv{keyString(k), v})
			})
			sort.Slice(kvs, func(i, j int) bool { return kvs[i].k < kvs[j].k })
			buf.WriteByte('{')
			for i, e := range kvs {
				if i > 0 {
					buf.WriteByte(',')
				}
				b, _ := json.Marshal(e.k)
				buf.Write(b)
				buf.WriteByte(':')
				if err := write(e.v, path+"."+e.k, depth+1); err != nil {
					return err
				}
			}
			buf.WriteByte('}')
		default:
			b, _ := json.Marshal("<" + v.Type().String() + ">")
			buf.Write(b)
		}
		return nil
	}
	if err := write(L.G.Global, "_G", 0); err != nil {
		return nil, fmt.Errorf("render state: %w", err)
	}
	return buf.Bytes(), nil
}

func keyString(k lua.LValue) string {
	switch x := k.(type) {
	case lua.LString:
		return string(x)
	case lua.LNumber:
		return x.String()
	default:
		return "<" + k.Type().String() + ">"
	}
}
