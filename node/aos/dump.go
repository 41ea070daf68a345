package aos

import (
	"math"
	"regexp"
	"sort"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// The `.dump` module (also the global Dump), as AOS has it (lua-dump): dump(v [, indent [, padding [,
// filter [, udata]]]]) renders v as Lua source that reads back to it. A table is "{", one "key = value" a
// line (indent spaces deeper; with indent 0, on one line), "}"; number keys first in order, then the others
// by their rendered key (identifiers bare, other strings as ["..."], booleans as [true]); strings as %q
// writes them; a table met again inside itself as "<Circular table: 0x...>" (by its tostring text); other
// values by their tostring text in quotes. filter(value, depth, type, use, key, udata) may replace a key
// ("key"), a value ("val") or a circular reference ("circular"), or drop an entry with nil; its second
// result true writes the value as is. A lone non-table value is quoted. The order among keys the module's
// comparison cannot order (booleans with strings) is free; here booleans come after strings.

func openDump(L *lua.LState) int {
	L.Push(L.NewClosure(dumpValue, L.G.Global.RawGetString("tostring")))
	return 1
}

// luaFieldName is LUA_FIELDNAME_PAT: a key written bare when it is not a reserved word.
var luaFieldName = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

var reservedWords = map[string]bool{
	"nil": true, "true": true, "false": true, "local": true, "function": true, "and": true, "or": true,
	"not": true, "if": true, "elseif": true, "else": true, "for": true, "in": true, "while": true,
	"until": true, "repeat": true, "break": true, "goto": true, "return": true, "then": true, "do": true,
	"end": true,
}

// isUint is the module's check of indent and padding.
func isUint(v lua.LValue) (int, bool) {
	n, ok := v.(lua.LNumber)
	f := float64(n)
	if !ok || f < 0 || math.IsInf(f, 1) || math.Floor(f) != f {
		return 0, false
	}
	return int(min(f, 1000)), true
}

// spaces is string.format('%<n>s', ”): Lua's format takes at most two width digits.
func spaces(L *lua.LState, n int) string {
	if n >= 100 {
		L.RaiseError("invalid format (width or precision too long)")
	}
	return strings.Repeat(" ", n)
}

type dumper struct {
	L        *lua.LState
	filter   lua.LValue
	udata    lua.LValue
	lf       string
	circular map[string]bool
}

func dumpValue(L *lua.LState) int {
	indent, padding := 4, 0
	if v := L.Get(2); v != lua.LNil {
		n, ok := isUint(v)
		if !ok {
			L.RaiseError("indent must be unsigned integer")
		}
		indent = n
	}
	if v := L.Get(3); v != lua.LNil {
		n, ok := isUint(v)
		if !ok {
			L.RaiseError("padding must be unsigned integer")
		}
		padding = n
	}
	d := &dumper{L: L, filter: L.Get(4), udata: L.Get(5), circular: map[string]bool{}}
	if d.filter != lua.LNil {
		if _, ok := d.filter.(*lua.LFunction); !ok {
			L.RaiseError("filter must be function")
		}
	}
	val := L.Get(1)
	if t, ok := val.(*lua.LTable); ok {
		nest := spaces(L, indent)
		d.lf = "\n"
		if nest == "" {
			d.lf = " "
		}
		L.Push(lua.LString(d.table(t, 1, spaces(L, padding), nest)))
		return 1
	}
	v, raw := d.apply(val, 0, "val", lua.LNil)
	if raw == lua.LTrue {
		L.Push(lua.LString(d.text(v)))
	} else {
		L.Push(lua.LString(quoteLua(d.text(v))))
	}
	return 1
}

// text is tostring(v) with the tostring the module found.
func (d *dumper) text(v lua.LValue) string {
	L := d.L
	L.Push(L.Get(lua.UpvalueIndex(1)))
	L.Push(v)
	L.Call(1, 1)
	s := lua.LVAsString(L.Get(-1))
	L.Pop(1)
	return s
}

// apply is filter(v, depth, type(v), use, key, udata): its two results (v and nil without a filter).
func (d *dumper) apply(v lua.LValue, depth int, use string, key lua.LValue) (lua.LValue, lua.LValue) {
	if d.filter == lua.LNil {
		return v, lua.LNil
	}
	L := d.L
	L.Push(d.filter)
	L.Push(v)
	L.Push(lua.LNumber(depth))
	L.Push(lua.LString(v.Type().String()))
	L.Push(lua.LString(use))
	L.Push(key)
	L.Push(d.udata)
	L.Call(6, 2)
	a, b := L.Get(-2), L.Get(-1)
	L.Pop(2)
	return a, b
}

type dumpEntry struct {
	kind string // "number", "boolean" or "string" (every other key is written as a string)
	num  float64
	flag bool
	key  string // the rendered key, the sort key of strings
	line string
}

func (d *dumper) table(t *lua.LTable, depth int, indent, nest string) string {
	L := d.L
	ref := d.text(t)
	if d.circular[ref] {
		v, raw := d.apply(t, depth, "circular", t)
		if v != lua.LNil && v != t {
			switch x := v.(type) {
			case *lua.LTable:
				if raw != lua.LTrue {
					return d.table(x, depth+1, indent, nest)
				}
				return d.text(x)
			case lua.LString:
				return quoteLua(string(x))
			case lua.LNumber, lua.LBool:
				return d.text(x)
			}
			return quoteLua(d.text(v))
		}
		return `"<Circular ` + ref + `>"`
	}
	if depth > jsonMaxDepth {
		L.RaiseError("dump: nested too deep (more than %d levels)", jsonMaxDepth)
	}
	field := indent + nest
	d.circular[ref] = true
	var entries []dumpEntry
	for k, v := t.Next(lua.LNil); k != lua.LNil; k, v = t.Next(k) {
		charge(L, 1)
		key, rawKey := d.apply(k, depth, "key", lua.LNil)
		if key == lua.LNil {
			continue
		}
		val, rawVal := d.apply(v, depth, "val", key)
		if val == lua.LNil {
			continue
		}
		e := dumpEntry{kind: "string"}
		var keyText string
		switch x := key.(type) {
		case lua.LNumber:
			e.kind, e.num = "number", float64(x)
			keyText = "[" + d.text(x) + "]"
		case lua.LBool:
			e.kind, e.flag = "boolean", bool(x)
			keyText = "[" + d.text(x) + "]"
		case *lua.LTable:
			if rawKey != lua.LTrue {
				keyText = "[" + d.table(x, depth+1, field, nest) + "]"
			} else {
				keyText = "[" + quoteLua(d.text(x)) + "]"
			}
			e.key = keyText
		case lua.LString:
			if s := string(x); !reservedWords[s] && luaFieldName.MatchString(s) {
				keyText = s
				e.key = lua.LVAsString(k) // the module sorts a bare key by the pairs key
				if _, isStr := k.(lua.LString); !isStr {
					e.key = s
				}
			} else {
				keyText = "[" + quoteLua(s) + "]"
				e.key = keyText
			}
		default:
			keyText = "[" + quoteLua(d.text(x)) + "]"
			e.key = keyText
		}
		switch x := val.(type) {
		case lua.LNumber, lua.LBool:
			e.line = field + keyText + " = " + d.text(x)
		case lua.LString:
			if rawVal != lua.LFalse && rawVal != lua.LNil {
				e.line = field + keyText + " = " + string(x)
			} else {
				e.line = field + keyText + " = " + quoteLua(string(x))
			}
		case *lua.LTable:
			if rawVal != lua.LFalse && rawVal != lua.LNil {
				e.line = field + keyText + " = " + quoteLua(d.text(x))
			} else {
				e.line = field + keyText + " = " + d.table(x, depth+1, field, nest)
			}
		default:
			e.line = field + keyText + " = " + quoteLua(d.text(x))
		}
		chargeAlloc(L, sizeString+int64(len(e.line)))
		entries = append(entries, e)
	}
	delete(d.circular, ref)
	if len(entries) == 0 {
		return "{}"
	}
	rank := map[string]int{"number": 0, "string": 1, "boolean": 2}
	sort.SliceStable(entries, func(i, j int) bool {
		a, b := entries[i], entries[j]
		if a.kind != b.kind {
			return rank[a.kind] < rank[b.kind]
		}
		switch a.kind {
		case "number":
			return a.num < b.num
		case "boolean":
			return !a.flag && b.flag
		}
		return a.key < b.key
	})
	var b strings.Builder
	b.WriteString("{" + d.lf)
	for i, e := range entries {
		if i > 0 {
			b.WriteString("," + d.lf)
		}
		b.WriteString(e.line)
	}
	b.WriteString(d.lf + indent + "}")
	return b.String()
}

// quoteLua is string.format("%q", s) in Lua 5.3: quotes, backslashes and newlines escaped with a
// backslash, other control characters (and byte 127) as decimal escapes (three digits before a digit).
func quoteLua(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\' || c == '\n':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 32 || c == 127:
			digits := itoa(int(c))
			if i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9' {
				digits = strings.Repeat("0", 3-len(digits)) + digits
			}
			b.WriteByte('\\')
			b.WriteString(digits)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}
