// Package luaclone forks a live, idle gopher-lua VM: Clone builds a new,
// independent *lua.LState whose Lua-visible state is a deep copy of the
// source, so a message can be dry-run against a process's current state
// without touching it.
//
// How a copy is built:
//
//  1. fresh() creates the destination VM, set up exactly like the source was
//     at creation (same libraries, same Go builtins).
//  2. The two VMs are walked in parallel from the same roots (globals,
//     registry, main-thread env, per-type metatables), following string,
//     number and boolean keys, metatables, function envs and upvalues. Each
//     source object found at a path where the destination has a compatible
//     object is paired with it: Go functions (same Go code, same number of
//     upvalues), tables, userdata and channels. Pairing is one-to-one and
//     first-path-wins in breadth-first order.
//  3. Everything reachable from the source roots is copied. Paired objects
//     are reused (a table is emptied and refilled, a Go function keeps its Go
//     closure but gets the source's env and upvalues, a userdata keeps its Go
//     Value); all other objects are new.
//  4. The destination's roots are pointed at the copies.
//
// So Go builtins that capture per-VM Go state (an output buffer, a message
// context) are the destination's own, while all Lua-visible state comes from
// the source.
//
// Go functions that the path pairing does not cover (e.g. a builtin now only
// held in a local, or a Go function created at run time) are resolved by
// their Go code: if exactly one such source function and exactly one unused
// destination function run the same Go code, they are paired; otherwise a
// top-level Go function (which cannot capture state) registered in
// Options.Builtins is made again from its registered name; anything else is
// ErrNotCloneable.
//
// Limitations:
//
//   - Go-side state is never copied. A paired builtin, userdata Value or
//     channel is the fresh VM's, in its fresh state; if a builtin keeps
//     Lua-relevant state in Go variables (rather than in Lua values or Go
//     closure upvalues), the copy sees the fresh value.
//   - Pairing trusts paths: two builtins made from the same Go func literal
//     and swapped between paths by Lua code would be paired crosswise.
//   - Unregistered userdata Values are shared, so Go-side mutation through
//     one VM shows in the other (register a copier with RegisterUserData).
//     This includes the private iterator state of a string.gmatch iterator
//     kept in a variable.
//   - Suspended or not yet started coroutines, wrap()ed coroutines, channels
//     without a counterpart, open upvalues and Go closures without a
//     counterpart are not cloneable. Finished (dead) coroutine.create
//     coroutines are copied as dead threads.
//   - A deleted table key that is an object (table, function, ...) reachable
//     only through the deleted slot is dropped; nothing can ever re-insert it,
//     so this is unobservable.
//   - The implementation reads (and, on tables it has just created, writes)
//     unexported gopher-lua fields through internal/luavm; Clone returns
//     ErrNotCloneable when luavm's layout check fails.
package luaclone

import (
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"sync"

	lua "github.com/yuin/gopher-lua"

	"github.com/aonode/aonode/internal/luavm"
)

// ErrNotCloneable is wrapped by every error Clone returns when the source
// holds state that cannot be copied faithfully. The caller should fall back to
// rebuilding the state by replay.
var ErrNotCloneable = errors.New("luaclone: state cannot be cloned faithfully")

// Options adjusts CloneWithOptions. The zero value is what Clone uses.
type Options struct {
	// SnapshotOpenUpvalues copies the current value of an open upvalue (one
	// that still points into a VM stack slot) into an ordinary closed upvalue
	// instead of failing with ErrNotCloneable. An idle VM normally has no open
	// upvalues; gopher-lua v1.1.2 leaves some open when an error unwinds
	// through xpcall (and through pcall nested in xpcall), because that path
	// skips closing them. In the source, such a closure keeps reading and
	// writing a stack slot that later calls reuse; the copy cannot reproduce
	// that, it freezes the value instead.
	SnapshotOpenUpvalues bool
	// Builtins names the Go functions of the states (see resolveGoFunctions): a Go function the path
	// pairing does not cover is made again from its registered name when it is a top-level function. Nil:
	// only pairing.
	Builtins *luavm.Builtins
}

// Clone builds a new, independent VM whose global state is a deep copy of src.
//
// fresh must return a newly initialised LState set up exactly like src was at
// creation (same libraries, same Go builtins registered at the same places).
// Clone uses it to map src's Go functions onto dst's Go functions by the path
// where they are reachable (e.g. "_G.print", "_G.string.format",
// "package.loaded.json.encode", registry entries), so builtins that capture
// per-VM Go state are the new VM's own.
//
// Guarantees: Lua closures share their read-only *lua.FunctionProto with src
// but get their own upvalues, and upvalues shared by several closures stay
// shared in the copy. Tables keep identity, aliasing and cycles; their array
// part (including nil holes), hash part and internal key order, deleted keys
// included, are reproduced exactly, so #t, ipairs, next/pairs order, and the
// order after later inserts or re-inserts of deleted keys, are the same as in
// src. Metatables, function environments and per-type metatables (e.g. the
// string metatable) are copied. LUserData is copied shallowly (the Value is
// shared) unless the destination has a userdata at the same path (then that
// one is used, with its own Value) or a copier is registered with
// RegisterUserData. Strings, numbers and booleans are copied by value.
// Afterwards, mutating either VM never affects the other, except through
// shallowly copied userdata Values.
//
// src must be idle (not running, not inside a Go function it called) and must
// not be used concurrently while Clone runs.
//
// If src holds state that cannot be copied faithfully (a suspended or
// not-yet-started coroutine, a Go function with no counterpart in dst, an open
// upvalue, a channel), Clone closes dst and returns an error wrapping
// ErrNotCloneable; the message names a path to the offending value, e.g.
// "_G.Handlers.list[3].run.<upvalue 1 (co)>". Do not close that dst again
// (gopher-lua's Close panics on a second call). src is never modified, and
// several Clones of the same idle src may run concurrently. An error from
// fresh is returned wrapped, without ErrNotCloneable.
func Clone(src *lua.LState, fresh func() (*lua.LState, error)) (*lua.LState, error) {
	return CloneWithOptions(src, fresh, Options{})
}

// CloneWithOptions is Clone with options.
func CloneWithOptions(src *lua.LState, fresh func() (*lua.LState, error), opts Options) (_ *lua.LState, err error) {
	if err := luavm.Check(); err != nil {
		return nil, fmt.Errorf("%w: unsupported gopher-lua internals: %v", ErrNotCloneable, err)
	}
	if src == nil || src.IsClosed() {
		return nil, errors.New("luaclone: source state is nil or closed")
	}
	if src.G.MainThread != nil && src.G.MainThread != src {
		return nil, fmt.Errorf("%w: source is a coroutine, not a main thread", ErrNotCloneable)
	}
	if src.G.CurrentThread != nil && src.G.CurrentThread != src {
		return nil, fmt.Errorf("%w: source is running a coroutine", ErrNotCloneable)
	}
	dst, err := fresh()
	if err != nil {
		return nil, fmt.Errorf("luaclone: creating fresh state: %w", err)
	}
	if dst == nil || dst.IsClosed() || dst.G == src.G {
		if dst != nil && !dst.IsClosed() && dst.G != src.G {
			dst.Close()
		}
		return nil, errors.New("luaclone: fresh returned a nil, closed or non-independent state")
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: internal error: %v", ErrNotCloneable, r)
		}
		if err != nil {
			dst.Close()
		}
	}()
	if err := newCloner(src, dst, opts).run(); err != nil {
		return nil, err
	}
	return dst, nil
}

/* ---- userdata copiers ---- */

var (
	udMu      sync.RWMutex
	udCopiers = map[reflect.Type]func(any) (any, error){}
)

// RegisterUserData makes Clone copy every unpaired LUserData whose Value has
// the same dynamic type as sample by calling copy(Value) instead of sharing
// the Value. A copy function that returns an error makes Clone fail with that
// error wrapped in ErrNotCloneable (use this to mark a type as not
// cloneable). A nil copy removes the registration. Safe for concurrent use.
func RegisterUserData(sample any, copy func(v any) (any, error)) {
	t := reflect.TypeOf(sample)
	if t == nil {
		panic("luaclone: RegisterUserData with nil sample")
	}
	udMu.Lock()
	defer udMu.Unlock()
	if copy == nil {
		delete(udCopiers, t)
		return
	}
	udCopiers[t] = copy
}

func userDataCopier(v any) func(any) (any, error) {
	t := reflect.TypeOf(v)
	if t == nil {
		return nil
	}
	udMu.RLock()
	defer udMu.RUnlock()
	return udCopiers[t]
}

/* ---- the cloner ---- */

type cloner struct {
	src, dst *lua.LState
	opts     Options

	// pairing: src object -> existing dst object, and the dst objects taken.
	pT    map[*lua.LTable]*lua.LTable
	pF    map[*lua.LFunction]*lua.LFunction
	pU    map[*lua.LUserData]*lua.LUserData
	pC    map[lua.LChannel]lua.LChannel
	cT    map[*lua.LTable]bool
	cF    map[*lua.LFunction]bool
	cU    map[*lua.LUserData]bool
	cC    map[lua.LChannel]bool
	pLua  map[*lua.LFunction]bool // src Lua functions already walked while pairing
	queue []pairItem

	// memo: every reachable src object -> its dst counterpart.
	tables  map[*lua.LTable]*lua.LTable
	funcs   map[*lua.LFunction]*lua.LFunction
	uds     map[*lua.LUserData]*lua.LUserData
	threads map[*lua.LState]*lua.LState
	chans   map[lua.LChannel]lua.LChannel
	upvals  map[*lua.Upvalue]*lua.Upvalue

	// fill order (discovery order).
	tList  []*lua.LTable
	fList  []*lua.LFunction
	uList  []*lua.LUserData
	thList []*lua.LState
	uvList []*lua.Upvalue

	work       []lua.LValue     // discovered src objects whose children are pending
	unresolved []*lua.LFunction // src Go functions without a pairing
}

type pairItem struct{ s, d lua.LValue }

func newCloner(src, dst *lua.LState, opts Options) *cloner {
	return &cloner{
		src: src, dst: dst, opts: opts,
		pT: map[*lua.LTable]*lua.LTable{}, pF: map[*lua.LFunction]*lua.LFunction{},
		pU: map[*lua.LUserData]*lua.LUserData{}, pC: map[lua.LChannel]lua.LChannel{},
		cT: map[*lua.LTable]bool{}, cF: map[*lua.LFunction]bool{},
		cU: map[*lua.LUserData]bool{}, cC: map[lua.LChannel]bool{},
		pLua:   map[*lua.LFunction]bool{},
		tables: map[*lua.LTable]*lua.LTable{}, funcs: map[*lua.LFunction]*lua.LFunction{},
		uds: map[*lua.LUserData]*lua.LUserData{}, threads: map[*lua.LState]*lua.LState{},
		chans: map[lua.LChannel]lua.LChannel{}, upvals: map[*lua.Upvalue]*lua.Upvalue{},
	}
}

func (c *cloner) run() error {
	c.pairAll()
	if err := c.discover(); err != nil {
		return err
	}
	if err := c.resolveGoFunctions(); err != nil {
		return err
	}
	c.fill()
	c.setRoots()
	return nil
}

// srcRoots lists the roots of src's Lua-reachable state with printable names.
func srcRoots(L *lua.LState) []namedValue {
	roots := []namedValue{{"_G", L.G.Global}, {"registry", L.G.Registry}}
	if L.Env != nil && L.Env != L.G.Global {
		roots = append(roots, namedValue{"<main env>", L.Env})
	}
	mts := luavm.BuiltinMetatables(L.G)
	for _, t := range sortedTypes(mts) {
		roots = append(roots, namedValue{"<metatable of " + lua.LValueType(t).String() + ">", mts[t]})
	}
	return roots
}

type namedValue struct {
	name string
	v    lua.LValue
}

func sortedTypes(m map[int]lua.LValue) []int {
	ts := make([]int, 0, len(m))
	for t := range m {
		ts = append(ts, t)
	}
	sort.Ints(ts)
	return ts
}

/* ---- pass 1: discovery and allocation ---- */

func (c *cloner) discover() error {
	c.threads[c.src] = c.dst
	for _, r := range srcRoots(c.src) {
		if err := c.visit(r.v); err != nil {
			return err
		}
	}
	for len(c.work) > 0 {
		v := c.work[len(c.work)-1]
		c.work = c.work[:len(c.work)-1]
		if err := c.children(v); err != nil {
			return err
		}
	}
	return nil
}

// visit registers a src value: it allocates (or takes the paired) dst
// counterpart and queues the object so its children get visited.
func (c *cloner) visit(v lua.LValue) error {
	switch s := v.(type) {
	case *lua.LTable:
		if s == nil {
			return nil
		}
		if _, ok := c.tables[s]; ok {
			return nil
		}
		d := c.pT[s]
		if d == nil {
			d = new(lua.LTable)
		}
		c.tables[s] = d
		c.tList = append(c.tList, s)
	case *lua.LFunction:
		if s == nil {
			return nil
		}
		if _, ok := c.funcs[s]; ok {
			return nil
		}
		var d *lua.LFunction
		switch {
		case s.IsG:
			d = c.pF[s]
			if d == nil {
				c.unresolved = append(c.unresolved, s) // resolved after discovery
			}
		case s.Proto == nil:
			return c.notCloneable(s, "Lua function without a prototype")
		default:
			d = &lua.LFunction{Proto: s.Proto, Upvalues: make([]*lua.Upvalue, len(s.Upvalues))}
		}
		c.funcs[s] = d
		c.fList = append(c.fList, s)
	case *lua.LUserData:
		if s == nil {
			return nil
		}
		if _, ok := c.uds[s]; ok {
			return nil
		}
		d := c.pU[s]
		if d == nil {
			val := s.Value
			if cp := userDataCopier(val); cp != nil {
				var err error
				if val, err = cp(val); err != nil {
					return fmt.Errorf("%w: userdata at %s: %w", ErrNotCloneable, c.pathTo(s), err)
				}
			}
			d = &lua.LUserData{Value: val, Metatable: lua.LNil}
		}
		c.uds[s] = d
		c.uList = append(c.uList, s)
	case *lua.LState:
		if s == nil {
			return nil
		}
		if _, ok := c.threads[s]; ok {
			return nil
		}
		if !s.Dead {
			return c.notCloneable(s, "suspended or not yet started coroutine")
		}
		if luavm.IsWrapped(s) {
			return c.notCloneable(s, "finished coroutine.wrap coroutine")
		}
		th, cancel := c.dst.NewThread()
		if cancel != nil {
			cancel() // a dead thread never runs
		}
		th.Dead = true
		c.threads[s] = th
		c.thList = append(c.thList, s)
	case lua.LChannel:
		if _, ok := c.chans[s]; ok {
			return nil
		}
		d, ok := c.pC[s]
		if !ok {
			return c.notCloneable(s, "channel")
		}
		c.chans[s] = d
		return nil
	default:
		return nil // nil, booleans, numbers, strings (and Go nil)
	}
	c.work = append(c.work, v)
	return nil
}

func (c *cloner) visitTable(t *lua.LTable) error {
	if t == nil {
		return nil
	}
	return c.visit(t)
}

func (c *cloner) children(v lua.LValue) error {
	switch s := v.(type) {
	case *lua.LTable:
		if err := c.visit(s.Metatable); err != nil {
			return err
		}
		for _, e := range luavm.TableArray(s) {
			if err := c.visit(e); err != nil {
				return err
			}
		}
		for _, k := range luavm.TableKeys(s) {
			e := s.RawGetH(k)
			if e == lua.LNil {
				continue // deleted key: kept only if reachable otherwise (see fillTable)
			}
			if err := c.visit(k); err != nil {
				return err
			}
			if err := c.visit(e); err != nil {
				return err
			}
		}
	case *lua.LFunction:
		if err := c.visitTable(s.Env); err != nil {
			return err
		}
		for i, uv := range s.Upvalues {
			if uv == nil {
				continue
			}
			if _, ok := c.upvals[uv]; ok {
				continue
			}
			if !uv.IsClosed() && !c.opts.SnapshotOpenUpvalues {
				return c.notCloneable(s, "open upvalue "+upvalueName(s, i)+" (left open by an error unwound through xpcall?)")
			}
			n := &lua.Upvalue{}
			n.Close()
			c.upvals[uv] = n
			c.uvList = append(c.uvList, uv)
			if err := c.visit(uv.Value()); err != nil {
				return err
			}
		}
	case *lua.LUserData:
		if err := c.visitTable(s.Env); err != nil {
			return err
		}
		return c.visit(s.Metatable)
	case *lua.LState:
		return c.visitTable(s.Env)
	}
	return nil
}

func upvalueName(fn *lua.LFunction, i int) string {
	if fn.Proto != nil && i < len(fn.Proto.DbgUpvalues) {
		return strconv.Itoa(i+1) + " (" + fn.Proto.DbgUpvalues[i] + ")"
	}
	return strconv.Itoa(i + 1)
}

func (c *cloner) notCloneable(obj lua.LValue, what string) error {
	return fmt.Errorf("%w: %s at %s", ErrNotCloneable, what, c.pathTo(obj))
}

/* ---- Go functions without a path pairing ---- */

// resolveGoFunctions finds dst counterparts for src Go functions that the
// path pairing did not cover (typically builtins that are only reachable
// through a local/upvalue any more, or Go closures created at run time):
//
//  1. If exactly one such src function and exactly one not yet used dst Go
//     function (anywhere in dst) run the same Go code with the same number of
//     upvalues, they are paired.
//  2. Otherwise, if the function is registered in Options.Builtins as a
//     top-level function (which captures nothing), a new dst function is
//     made from its registered name.
//  3. Otherwise the function is not cloneable.
func (c *cloner) resolveGoFunctions() error {
	if len(c.unresolved) == 0 {
		return nil
	}
	type sig struct {
		code luavm.Code
		nup  int
	}
	srcBySig := map[sig][]*lua.LFunction{}
	for _, s := range c.unresolved {
		k := sig{luavm.CodeOf(s.GFunction), len(s.Upvalues)}
		srcBySig[k] = append(srcBySig[k], s)
	}
	dstBySig := map[sig][]*lua.LFunction{}
	for _, d := range collectGoFunctions(c.dst) {
		if c.cF[d] {
			continue
		}
		k := sig{luavm.CodeOf(d.GFunction), len(d.Upvalues)}
		if _, wanted := srcBySig[k]; wanted {
			dstBySig[k] = append(dstBySig[k], d)
		}
	}
	for _, s := range c.unresolved {
		k := sig{luavm.CodeOf(s.GFunction), len(s.Upvalues)}
		if cands := dstBySig[k]; len(srcBySig[k]) == 1 && len(cands) == 1 {
			c.funcs[s] = cands[0]
			c.cF[cands[0]] = true
			continue
		}
		if name, ok := c.opts.Builtins.Name(s.GFunction); ok {
			if fn, rebuildable, _ := c.opts.Builtins.Lookup(name); rebuildable {
				c.funcs[s] = &lua.LFunction{IsG: true, GFunction: fn, Upvalues: make([]*lua.Upvalue, len(s.Upvalues))}
				continue
			}
		}
		return c.notCloneable(s, "Go function "+luavm.GoName(s.GFunction)+" with no counterpart in the fresh state")
	}
	return nil
}

// collectGoFunctions lists every Go function reachable in L, in a
// deterministic order.
func collectGoFunctions(L *lua.LState) []*lua.LFunction {
	var out []*lua.LFunction
	seen := map[lua.LValue]bool{}
	var stack []lua.LValue
	push := func(v lua.LValue) {
		if !luavm.IsObject(v) {
			return
		}
		if !seen[v] {
			seen[v] = true
			stack = append(stack, v)
		}
	}
	for _, r := range srcRoots(L) {
		push(r.v)
	}
	for len(stack) > 0 {
		v := stack[0]
		stack = stack[1:]
		switch x := v.(type) {
		case *lua.LTable:
			push(x.Metatable)
			for _, e := range luavm.TableArray(x) {
				push(e)
			}
			for _, k := range luavm.TableKeys(x) {
				if e := x.RawGetH(k); e != lua.LNil {
					push(k)
					push(e)
				}
			}
		case *lua.LFunction:
			if x.IsG {
				out = append(out, x)
			}
			if x.Env != nil {
				push(x.Env)
			}
			for _, uv := range x.Upvalues {
				if uv != nil {
					push(uv.Value())
				}
			}
		case *lua.LUserData:
			if x.Env != nil {
				push(x.Env)
			}
			push(x.Metatable)
		}
	}
	return out
}

/* ---- pass 2: fill ---- */

// m maps a src value to its dst counterpart. Every reference value reaching
// m was discovered in pass 1.
func (c *cloner) m(v lua.LValue) lua.LValue {
	switch s := v.(type) {
	case *lua.LTable:
		if s == nil {
			return v
		}
		return must(c.tables, s)
	case *lua.LFunction:
		if s == nil {
			return v
		}
		return must(c.funcs, s)
	case *lua.LUserData:
		if s == nil {
			return v
		}
		return must(c.uds, s)
	case *lua.LState:
		if s == nil {
			return v
		}
		return must(c.threads, s)
	case lua.LChannel:
		return must(c.chans, s)
	}
	return v
}

func must[K comparable, V lua.LValue](m map[K]V, k K) lua.LValue {
	d, ok := m[k]
	if !ok {
		panic(fmt.Sprintf("luaclone: %T %v was not discovered", k, k))
	}
	return d
}

func (c *cloner) mt(t *lua.LTable) *lua.LTable {
	if t == nil {
		return nil
	}
	return must(c.tables, t).(*lua.LTable)
}

// mapKey maps a deleted key; ok is false if the key is an object that is not
// otherwise reachable (then nobody can ever re-insert it, so dropping the
// deleted slot is unobservable).
func (c *cloner) mapKey(k lua.LValue) (lua.LValue, bool) {
	switch s := k.(type) {
	case *lua.LTable:
		d, ok := c.tables[s]
		return d, ok
	case *lua.LFunction:
		d, ok := c.funcs[s]
		return d, ok
	case *lua.LUserData:
		d, ok := c.uds[s]
		return d, ok
	case *lua.LState:
		d, ok := c.threads[s]
		return d, ok
	case lua.LChannel:
		d, ok := c.chans[s]
		return d, ok
	}
	return k, true
}

func (c *cloner) fill() {
	for _, s := range c.tList {
		c.fillTable(s, c.tables[s])
	}
	for _, s := range c.fList {
		d := c.funcs[s]
		d.Env = c.mt(s.Env)
		for i, uv := range s.Upvalues {
			if uv != nil {
				d.Upvalues[i] = c.upvals[uv]
			}
		}
	}
	for _, s := range c.uvList {
		// A Go nil value (gopher-lua leaves one behind when an upvalue is
		// closed after an error unwound through xpcall) is copied as is.
		c.upvals[s].SetValue(c.m(s.Value()))
	}
	for _, s := range c.uList {
		d := c.uds[s]
		d.Env = c.mt(s.Env)
		d.Metatable = c.m(s.Metatable)
	}
	for _, s := range c.thList {
		c.threads[s].Env = c.mt(s.Env)
	}
}

// fillTable rebuilds d as an exact structural copy of s: same array part
// (length, holes and trailing nils included) and the same hash key order,
// including deleted keys, which are re-created as deleted slots. The result
// is what replaying s's layout through d.RawSetInt / d.RawSetH (setting a
// deleted key to true and then nil) would give; it is built directly to avoid
// per-key allocations and map growth.
func (c *cloner) fillTable(s, d *lua.LTable) {
	*d = lua.LTable{Metatable: c.m(s.Metatable)} // also empties paired dst tables
	var array []lua.LValue
	if arr := luavm.TableArray(s); len(arr) > 0 {
		array = make([]lua.LValue, len(arr))
		for i, v := range arr {
			array[i] = c.m(v)
		}
	}
	keys := luavm.TableKeys(s)
	if len(keys) == 0 {
		luavm.SetTableParts(d, luavm.TableParts{Array: array})
		return
	}
	nStr := 0
	for _, k := range keys {
		if _, ok := k.(lua.LString); ok {
			nStr++
		}
	}
	var strdict map[string]lua.LValue
	var dict map[lua.LValue]lua.LValue
	if nStr > 0 {
		strdict = make(map[string]lua.LValue, nStr)
	}
	if nStr < len(keys) {
		dict = make(map[lua.LValue]lua.LValue, len(keys)-nStr)
	}
	dkeys := make([]lua.LValue, 0, len(keys))
	k2i := make(map[lua.LValue]int, len(keys))
	for _, k := range keys {
		v := s.RawGetH(k)
		dk, ok := c.mapKey(k)
		if !ok {
			continue // deleted key object that is unreachable otherwise
		}
		if _, dup := k2i[dk]; dup {
			continue // cannot happen in a well-formed table
		}
		k2i[dk] = len(dkeys)
		dkeys = append(dkeys, dk)
		if v == lua.LNil {
			continue // deleted: keeps its slot in the order only
		}
		if str, isStr := dk.(lua.LString); isStr {
			strdict[string(str)] = c.m(v)
		} else {
			dict[dk] = c.m(v)
		}
	}
	luavm.SetTableParts(d, luavm.TableParts{Array: array, Strdict: strdict, Dict: dict, Keys: dkeys, K2i: k2i})
}

func (c *cloner) setRoots() {
	c.dst.G.Global = c.mt(c.src.G.Global)
	c.dst.G.Registry = c.mt(c.src.G.Registry)
	c.dst.Env = c.mt(c.src.Env)
	smts := luavm.BuiltinMetatables(c.src.G)
	dmts := luavm.BuiltinMetatables(c.dst.G)
	types := map[int]lua.LValue{}
	for t := range smts {
		types[t] = nil
	}
	for t := range dmts {
		types[t] = nil
	}
	for _, t := range sortedTypes(types) {
		sample := SampleOfType(lua.LValueType(t), c.dst)
		if sample == nil {
			continue
		}
		mt, ok := smts[t]
		if !ok || mt == nil {
			mt = lua.LNil
		}
		c.dst.SetMetatable(sample, c.m(mt))
	}
}

// SampleOfType returns a value whose metatable lives in Global.builtinMts (a value of type t).
func SampleOfType(t lua.LValueType, L *lua.LState) lua.LValue {
	switch t {
	case lua.LTNil:
		return lua.LNil
	case lua.LTBool:
		return lua.LFalse
	case lua.LTNumber:
		return lua.LNumber(0)
	case lua.LTString:
		return lua.LString("")
	case lua.LTFunction:
		return &lua.LFunction{}
	case lua.LTThread:
		return L
	case lua.LTChannel:
		return lua.LChannel(nil)
	}
	return nil
}
