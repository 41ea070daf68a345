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

// openJSON is the `json` module: encode with sorted keys (deterministic), decode to Lua tables.
func openJSON(L *lua.LState) int {
	t := L.NewTable()
	t.RawSetString("encode", L.NewFunction(jsonEncode))
	t.RawSetString("decode", L.NewFunction(jsonDecode))
	L.Push(t)
	return 1
}

func jsonEncode(L *lua.LState) int {
	var buf bytes.Buffer
	if err := encodeValue(&buf, L.CheckAny(1), map[*lua.LTable]bool{}, 0); err != nil {
		L.RaiseError("json.encode: %s", err.Error())
	}
	L.Push(lua.LString(buf.String()))
	return 1
}

type jsonErr string

func (e jsonErr) Error() string { return string(e) }

// jsonMaxDepth bounds the nesting json.encode follows (it recurses on the Go stack, which must never
// overflow) and json.decode accepts (encoding/json's own bound).
const jsonMaxDepth = 10_000

func encodeValue(buf *bytes.Buffer, v lua.LValue, stack map[*lua.LTable]bool, depth int) error {
	switch x := v.(type) {
	case *lua.LNilType:
		buf.WriteString("null")
	case lua.LBool:
		buf.WriteString(strconv.FormatBool(bool(x)))
	case lua.LNumber:
		f := float64(x)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return jsonErr("unexpected number value '" + x.String() + "'")
		}
		if f == math.Trunc(f) && math.Abs(f) < 1e15 {
			buf.WriteString(strconv.FormatInt(int64(f), 10))
		} else {
			buf.WriteString(strconv.FormatFloat(f, 'g', 14, 64))
		}
	case lua.LString:
		b, _ := json.Marshal(string(x))
		buf.Write(b)
	case *lua.LTable:
		if stack[x] {
			return jsonErr("circular reference")
		}
		if depth >= jsonMaxDepth {
			return jsonErr(fmt.Sprintf("nested too deep (more than %d levels)", jsonMaxDepth))
		}
		stack[x] = true
		defer delete(stack, x)
		n := x.Len()
		count := 0
		x.ForEach(func(_, _ lua.LValue) { count++ })
		if count == n { // a sequence (an empty table is an array, as AOS's json encodes it)
			buf.WriteByte('[')
			for i := 1; i <= n; i++ {
				if i > 1 {
					buf.WriteByte(',')
				}
				if err := encodeValue(buf, x.RawGetInt(i), stack, depth+1); err != nil {
					return err
				}
			}
			buf.WriteByte(']')
			return nil
		}
		type kv struct {
			k string
			v lua.LValue
		}
		var kvs []kv
		var bad error
		x.ForEach(func(k, v lua.LValue) {
			switch kk := k.(type) {
			case lua.LString:
				kvs = append(kvs, kv{string(kk), v})
			case lua.LNumber:
				kvs = append(kvs, kv{kk.String(), v})
			default:
				bad = jsonErr("invalid table: key of type " + k.Type().String())
			}
		})
		if bad != nil {
			return bad
		}
		sort.Slice(kvs, func(i, j int) bool { return kvs[i].k < kvs[j].k })
		buf.WriteByte('{')
		for i, e := range kvs {
			if i > 0 {
				buf.WriteByte(',')
			}
			b, _ := json.Marshal(e.k)
			buf.Write(b)
			buf.WriteByte(':')
			if err := encodeValue(buf, e.v, stack, depth+1); err != nil {
				return err
			}
		}
		buf.WriteByte('}')
	default:
		return jsonErr("unexpected type '" + v.Type().String() + "'")
	}
	return nil
}

func jsonDecode(L *lua.LState) int {
	s := L.CheckString(1)
	dec := json.NewDecoder(bytes.NewReader([]byte(s)))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		L.RaiseError("json.decode: %s", err.Error())
	}
	if dec.More() {
		L.RaiseError("json.decode: trailing characters")
	}
	L.Push(toLua(L, v))
	return 1
}

func toLua(L *lua.LState, v any) lua.LValue {
	switch x := v.(type) {
	case nil:
		return lua.LNil
	case bool:
		return lua.LBool(x)
	case json.Number:
		f, _ := x.Float64()
		return lua.LNumber(f)
	case string:
		return lua.LString(x)
	case []any:
		t := L.CreateTable(len(x), 0)
		for _, e := range x {
			t.Append(toLua(L, e))
		}
		return t
	case map[string]any:
		t := L.CreateTable(0, len(x))
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys) // insertion order decides pairs() order: keep it stable
		for _, k := range keys {
			t.RawSetString(k, toLua(L, x[k]))
		}
		return t
	}
	return lua.LNil
}
