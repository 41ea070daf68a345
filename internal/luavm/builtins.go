package luavm

import (
	"fmt"
	"reflect"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"

	lua "github.com/yuin/gopher-lua"
)

// A Go function in a Lua state is a code address to gopher-lua, and code addresses change from build to
// build. Snapshots and forks name Go functions instead: a runtime registers every Go function its states
// can hold in a Builtins registry under a stable name, and a function is written, paired and made again by
// that name, never by its address. A name is stable as long as the runtime that registered it is the same
// (snapshots name their runtime too, and are refused by another one).
//
// Two kinds of Go functions are registered. A top-level Go function (or method expression) captures no Go
// state: any instance is the same, so one can be made from its name alone (Rebuildable). A Go closure (a
// function literal or method value) holds Go state the registry cannot know: its name identifies its code,
// so a copy can be paired with the destination's own function at the same place, but never made from the
// name.

// Builtins is a registry of Go functions by stable name. The zero value is not usable: NewBuiltins.
type Builtins struct {
	mu     sync.RWMutex
	byName map[string]*builtin
	byCode map[uintptr]*builtin
}

type builtin struct {
	name        string
	fn          lua.LGFunction
	rebuildable bool
}

// NewBuiltins is an empty registry.
func NewBuiltins() *Builtins {
	return &Builtins{byName: map[string]*builtin{}, byCode: map[uintptr]*builtin{}}
}

// codeOf is the entry address of fn's code: what tells two Go functions apart within one binary (it is
// never written anywhere).
func codeOf(fn lua.LGFunction) uintptr {
	if fn == nil {
		return 0
	}
	return reflect.ValueOf(fn).Pointer()
}

// Code identifies a Go function's code within this process (a map key; never written anywhere: it
// differs from build to build).
type Code uintptr

// CodeOf is fn's code.
func CodeOf(fn lua.LGFunction) Code { return Code(codeOf(fn)) }

// SameCode reports whether a and b run the same Go code (two closures of one function literal do).
func SameCode(a, b lua.LGFunction) bool { return a != nil && b != nil && codeOf(a) == codeOf(b) }

// closureName matches the runtime names of Go function literals and method values, which may capture state.
var closureName = regexp.MustCompile(`(\.func\d+(\.\d+)*|-fm)$`)

// topLevel reports whether the code at pc is a top-level function or method expression, and its Go name.
func topLevel(pc uintptr) (string, bool) {
	f := runtime.FuncForPC(pc)
	if f == nil {
		return "", false
	}
	return f.Name(), f.Entry() == pc && !closureName.MatchString(f.Name())
}

// GoName is the Go symbol of fn's code, for messages.
func GoName(fn lua.LGFunction) string {
	if name, _ := topLevel(codeOf(fn)); name != "" {
		return name
	}
	return "?"
}

// Register adds fn's code under name. Registering the same code under the same name again does nothing;
// a name taken by other code, or code registered under another name, is an error.
func (b *Builtins) Register(name string, fn lua.LGFunction) error {
	if name == "" || fn == nil {
		return fmt.Errorf("luavm: register %q: empty name or nil function", name)
	}
	pc := codeOf(fn)
	b.mu.Lock()
	defer b.mu.Unlock()
	if e, ok := b.byCode[pc]; ok {
		if e.name == name {
			return nil
		}
		return fmt.Errorf("luavm: register %q: %s is already registered as %q", name, GoName(fn), e.name)
	}
	if e, ok := b.byName[name]; ok {
		return fmt.Errorf("luavm: register %q: the name is taken by %s", name, GoName(e.fn))
	}
	_, top := topLevel(pc)
	e := &builtin{name: name, fn: fn, rebuildable: top}
	b.byName[name], b.byCode[pc] = e, e
	return nil
}

// Name is the name fn's code is registered under.
func (b *Builtins) Name(fn lua.LGFunction) (string, bool) {
	if b == nil || fn == nil {
		return "", false
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	e, ok := b.byCode[codeOf(fn)]
	if !ok {
		return "", false
	}
	return e.name, true
}

// Lookup is the function registered under name, and whether it can be made from its name alone (a
// top-level function: the one returned is as good as any other instance).
func (b *Builtins) Lookup(name string) (fn lua.LGFunction, rebuildable, ok bool) {
	if b == nil {
		return nil, false, false
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	e, ok := b.byName[name]
	if !ok {
		return nil, false, false
	}
	return e.fn, e.rebuildable, true
}

// Len is the number of registered functions.
func (b *Builtins) Len() int {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return len(b.byName)
}

// RegisterReachable registers every Go function reachable in L whose code is not registered yet, under
// prefix and the first path that reaches it: breadth first from the globals ("_G"), the registry
// ("registry") and the per-type metatables ("mt.string", ...), through table fields of string, number and
// boolean keys in sorted order, metatables ("@mt"), environments ("@env") and upvalues ("@up1", ...). The
// order of insertion into tables does not matter, so the same state shape gives the same names in every
// process. Code reachable at several places keeps the first name.
func (b *Builtins) RegisterReachable(prefix string, L *lua.LState) error {
	type item struct {
		path string
		v    lua.LValue
	}
	seen := map[lua.LValue]bool{}
	var queue []item
	push := func(path string, v lua.LValue) {
		if !IsObject(v) {
			return
		}
		if !seen[v] {
			seen[v] = true
			queue = append(queue, item{path, v})
		}
	}
	push("_G", L.G.Global)
	push("registry", L.G.Registry)
	mts := BuiltinMetatables(L.G)
	types := make([]int, 0, len(mts))
	for t := range mts {
		types = append(types, t)
	}
	slices.Sort(types)
	for _, t := range types {
		push("mt."+lua.LValueType(t).String(), mts[t])
	}
	for len(queue) > 0 {
		it := queue[0]
		queue = queue[1:]
		switch x := it.v.(type) {
		case *lua.LTable:
			push(it.path+"/@mt", x.Metatable)
			for _, k := range sortedKeys(x) {
				push(it.path+"/"+keyText(k), x.RawGet(k))
			}
		case *lua.LFunction:
			if x.IsG {
				if _, ok := b.Name(x.GFunction); !ok {
					if err := b.Register(prefix+it.path, x.GFunction); err != nil {
						return err
					}
				}
			}
			if x.Env != nil {
				push(it.path+"/@env", x.Env)
			}
			for i, uv := range x.Upvalues {
				if uv != nil {
					push(it.path+"/@up"+strconv.Itoa(i+1), uv.Value())
				}
			}
		case *lua.LUserData:
			if x.Env != nil {
				push(it.path+"/@env", x.Env)
			}
			push(it.path+"/@mt", x.Metatable)
		}
	}
	return nil
}

// sortedKeys are t's live keys of primitive types: booleans, then numbers in order, then strings in byte
// order.
func sortedKeys(t *lua.LTable) []lua.LValue {
	var ks []lua.LValue
	for i, v := range TableArray(t) {
		if v != lua.LNil {
			ks = append(ks, lua.LNumber(i+1))
		}
	}
	for _, k := range TableKeys(t) {
		switch k.(type) {
		case lua.LBool, lua.LNumber, lua.LString:
			if t.RawGet(k) != lua.LNil {
				ks = append(ks, k)
			}
		}
	}
	rank := func(v lua.LValue) int {
		switch v.(type) {
		case lua.LBool:
			return 0
		case lua.LNumber:
			return 1
		}
		return 2
	}
	slices.SortFunc(ks, func(a, c lua.LValue) int {
		if ra, rc := rank(a), rank(c); ra != rc {
			return ra - rc
		}
		switch x := a.(type) {
		case lua.LBool:
			if x == c.(lua.LBool) {
				return 0
			} else if !x {
				return -1
			}
			return 1
		case lua.LNumber:
			y := c.(lua.LNumber)
			if x < y {
				return -1
			} else if x > y {
				return 1
			}
			return 0
		}
		return strings.Compare(string(a.(lua.LString)), string(c.(lua.LString)))
	})
	return ks
}

// keyText is a key as a path step: a plain string as it is, anything else quoted or marked.
func keyText(k lua.LValue) string {
	switch x := k.(type) {
	case lua.LString:
		s := string(x)
		if s != "" && !strings.ContainsAny(s, "/@#\"") && strconv.CanBackquote(s) {
			return s
		}
		return strconv.Quote(s)
	case lua.LNumber:
		return "#" + x.String()
	}
	return "#" + k.String()
}
