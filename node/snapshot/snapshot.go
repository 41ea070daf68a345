// Package snapshot serializes the Lua-visible state of an idle process VM
// (gopher-lua) into a compact, deterministic byte string, and restores it
// into a freshly built VM of the same runtime.
//
// What is saved is everything reachable from the roots luaclone copies: the
// globals table, the registry, the main thread's env and the per-type
// metatables (e.g. the string metatable). Values: nil, booleans, numbers
// (bit-exact), strings, tables (array part with its holes, hash part in the
// table's own key order, deleted keys included, metatable), Lua closures
// (their FunctionProto: code, constants, nested protos, upvalue names, line
// info, locals and call names; their env and upvalues, shared upvalues stay
// shared), Go functions and finished (dead) coroutines.
//
// Go functions are not serialized as code, nor by their code address: a Go
// function is written by the name it is registered under in the runtime's
// builtins registry (Options.Builtins, see internal/luavm). It is restored
// as the destination's own function found at the same path from the roots
// (e.g. _G.string.format, or the 2nd upvalue of a closure at
// registry._LOADED.utils.map) when that function is registered under the
// same name; a Go function without such a counterpart (e.g. a .bint class
// method, made at run time) is made again from its registered name when it
// is a top-level function (which cannot capture Go state). A Go function
// that is not registered, or a Go closure only reachable through an object
// key or made at run time, makes Encode fail with ErrUnserializable, as do
// userdata, channels, suspended coroutines and open upvalues; the caller
// then rebuilds the state by replay.
//
// A snapshot names what made it (Stamp): the runtime (Options.Runtime), the
// gopher-lua module and the bytecode format of this build. Decode refuses,
// with ErrStale, a snapshot where any of them differs from its own: its
// prototypes or builtin names would not mean the same.
//
// Format: "AOSNAP" magic, a version byte, the stamp (three uvarint-length
// strings), the body (varint-coded sections: protos, objects, upvalues,
// roots; objects and protos numbered by first visit in a breadth-first walk,
// no map iteration anywhere), and a trailing CRC-64 (ECMA) of everything
// before it. The same state gives the same bytes.
package snapshot

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc64"
	"math"
	"sort"

	lua "github.com/yuin/gopher-lua"

	"github.com/aonode/aonode/internal/luavm"
)

// ErrUnserializable is wrapped by Encode errors for state that cannot be
// snapshotted (userdata, channels, suspended coroutines, open upvalues, Go
// functions that can be neither found by path nor rebuilt from their code).
var ErrUnserializable = errors.New("snapshot: state cannot be serialized")

// ErrCorrupt is wrapped by Decode errors for input that is not a valid
// snapshot (bad magic, checksum, truncated or inconsistent body).
var ErrCorrupt = errors.New("snapshot: corrupt snapshot")

// ErrStale is wrapped by Decode errors for a snapshot made by another
// runtime, gopher-lua module or bytecode format, or in an older format.
var ErrStale = errors.New("snapshot: made by another runtime build")

const (
	magic   = "AOSNAP"
	version = 2 // 2: the stamp; Go functions by registered name
)

// Options say what made a state: Encode writes them into the snapshot and
// Decode requires them again.
type Options struct {
	// Runtime names the runtime the state belongs to (its version and
	// digest): a snapshot is only restored into a state of the same runtime.
	Runtime string
	// Builtins names the Go functions the runtime's states hold.
	Builtins *luavm.Builtins
}

// Stamp is what a snapshot says made it.
type Stamp struct {
	Runtime  string // Options.Runtime
	LuaVM    string // the gopher-lua module (luavm.ModuleVersion)
	Bytecode string // the bytecode format (luavm.BytecodeFormat)
}

// StampOf is the stamp this build gives a state of runtime.
func StampOf(runtime string) Stamp {
	return Stamp{Runtime: runtime, LuaVM: luavm.ModuleVersion(), Bytecode: luavm.BytecodeFormat()}
}

// differs names the first field of s that differs from want, or "".
func (s Stamp) differs(want Stamp) string {
	switch {
	case s.Runtime != want.Runtime:
		return fmt.Sprintf("runtime %q, not %q", s.Runtime, want.Runtime)
	case s.LuaVM != want.LuaVM:
		return fmt.Sprintf("gopher-lua %q, not %q", s.LuaVM, want.LuaVM)
	case s.Bytecode != want.Bytecode:
		return fmt.Sprintf("bytecode format %q, not %q", s.Bytecode, want.Bytecode)
	}
	return ""
}

var crcTable = crc64.MakeTable(crc64.ECMA)

// value tags
const (
	tNil byte = iota
	tFalse
	tTrue
	tFloat
	tString
	tRef
	tInt
)

// object kinds
const (
	kTable byte = iota + 1
	kLuaFunc
	kGoFunc
	kThread
)

/* ---- encoder ---- */

type encoder struct {
	L        *lua.LState
	opts     Options
	ids      map[lua.LValue]int
	objs     []lua.LValue
	pathed   []bool
	parent   []int
	uvIDs    map[*lua.Upvalue]int
	uvs      []*lua.Upvalue
	protoIDs map[*lua.FunctionProto]int
	protos   []*lua.FunctionProto
	queue    []int
	deferred []lua.LValue
	buf      []byte
	start    int // where the snapshot begins in buf (what came before is the caller's)
}

// Encode serializes L's state, a state of the runtime o names. L must be an
// idle main thread (not running, not inside a call) and must not be used
// concurrently.
func Encode(L *lua.LState, o Options) ([]byte, error) { return AppendEncode(nil, L, o) }

// AppendEncode is Encode appending to dst (the snapshot is the bytes after len(dst); dst is not changed on
// an error).
func AppendEncode(dst []byte, L *lua.LState, o Options) (_ []byte, err error) {
	if err := luavm.Check(); err != nil {
		return nil, fmt.Errorf("%w: unsupported gopher-lua: %v", ErrUnserializable, err)
	}
	if L == nil || L.IsClosed() {
		return nil, errors.New("snapshot: nil or closed state")
	}
	if L.G.CurrentThread != nil && L.G.CurrentThread != L {
		return nil, fmt.Errorf("%w: state is running a coroutine", ErrUnserializable)
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: internal error: %v", ErrUnserializable, r)
		}
	}()
	e := &encoder{L: L, opts: o, ids: map[lua.LValue]int{}, uvIDs: map[*lua.Upvalue]int{}, protoIDs: map[*lua.FunctionProto]int{},
		buf: dst, start: len(dst)}
	if err := e.discover(); err != nil {
		return nil, err
	}
	if err := e.write(); err != nil {
		return nil, err
	}
	return e.buf, nil
}

type typedMt struct {
	typ int
	mt  lua.LValue
}

func sortedMts(g *lua.Global) []typedMt {
	m := luavm.BuiltinMetatables(g)
	out := make([]typedMt, 0, len(m))
	for t, v := range m {
		out = append(out, typedMt{t, v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].typ < out[j].typ })
	return out
}

func (e *encoder) roots() []lua.LValue {
	r := []lua.LValue{e.L.G.Global, e.L.G.Registry}
	if e.L.Env != nil {
		r = append(r, e.L.Env)
	}
	for _, m := range sortedMts(e.L.G) {
		r = append(r, m.mt)
	}
	return r
}

func isPrimitive(v lua.LValue) bool {
	switch v.(type) {
	case *lua.LNilType, lua.LBool, lua.LNumber, lua.LString:
		return true
	}
	return false
}

func (e *encoder) visit(v lua.LValue, pathed bool, parent int) error {
	if v == nil {
		return nil
	}
	switch x := v.(type) {
	case *lua.LNilType, lua.LBool, lua.LNumber, lua.LString:
		return nil
	case *lua.LTable:
		if x == nil {
			return nil
		}
	case *lua.LFunction:
		if x == nil {
			return nil
		}
		if !x.IsG && x.Proto == nil {
			return e.fail(parent, "Lua function without a prototype")
		}
	case *lua.LState:
		if x == nil {
			return nil
		}
		if !x.Dead || x == e.L {
			return e.fail(parent, "running, suspended or not yet started coroutine")
		}
	case *lua.LUserData:
		return e.fail(parent, "userdata")
	case lua.LChannel:
		return e.fail(parent, "channel")
	default:
		return e.fail(parent, fmt.Sprintf("value of type %T", v))
	}
	if _, ok := e.ids[v]; ok {
		return nil
	}
	id := len(e.objs)
	e.ids[v] = id
	e.objs = append(e.objs, v)
	e.pathed = append(e.pathed, pathed)
	e.parent = append(e.parent, parent)
	e.queue = append(e.queue, id)
	return nil
}

// fail reports an unserializable value found below object parent (-1 for a root).
func (e *encoder) fail(parent int, what string) error {
	path := "<root>"
	if parent >= 0 {
		path = e.describe(parent)
	}
	return fmt.Errorf("%w: %s under %s", ErrUnserializable, what, path)
}

func (e *encoder) describe(id int) string {
	var chain []string
	for i := 0; id >= 0 && i < 64; i++ {
		chain = append(chain, e.objs[id].Type().String()+"#"+fmt.Sprint(id))
		id = e.parent[id]
	}
	s := ""
	for i := len(chain) - 1; i >= 0; i-- {
		if s != "" {
			s += " > "
		}
		s += chain[i]
	}
	return s
}

func (e *encoder) visitProto(p *lua.FunctionProto) {
	if _, ok := e.protoIDs[p]; ok {
		return
	}
	e.protoIDs[p] = len(e.protos)
	e.protos = append(e.protos, p)
	for _, c := range p.FunctionPrototypes {
		if c != nil {
			e.visitProto(c)
		}
	}
}

func (e *encoder) discover() error {
	for _, r := range e.roots() {
		if err := e.visit(r, true, -1); err != nil {
			return err
		}
	}
	for {
		for len(e.queue) > 0 {
			id := e.queue[0]
			e.queue = e.queue[1:]
			if err := e.children(id); err != nil {
				return err
			}
		}
		if len(e.deferred) == 0 {
			break
		}
		// Objects only reachable through object keys: no path exists that
		// could be followed in another VM.
		d := e.deferred
		e.deferred = nil
		for i := 0; i < len(d); i += 3 {
			p := int(d[i+2].(lua.LNumber))
			if err := e.visit(d[i], false, p); err != nil {
				return err
			}
			if err := e.visit(d[i+1], false, p); err != nil {
				return err
			}
		}
	}
	for id, o := range e.objs {
		f, ok := o.(*lua.LFunction)
		if !ok || !f.IsG {
			continue
		}
		name, ok := e.opts.Builtins.Name(f.GFunction)
		if !ok {
			return fmt.Errorf("%w: Go function %s is not a registered builtin (%s)", ErrUnserializable, luavm.GoName(f.GFunction), e.describe(id))
		}
		if _, rebuildable, _ := e.opts.Builtins.Lookup(name); !e.pathed[id] && !rebuildable {
			return fmt.Errorf("%w: Go function %s has no path from the roots and captures Go state (%s)", ErrUnserializable, name, e.describe(id))
		}
	}
	return nil
}

func (e *encoder) children(id int) error {
	pathed := e.pathed[id]
	switch x := e.objs[id].(type) {
	case *lua.LTable:
		if err := e.visit(x.Metatable, pathed, id); err != nil {
			return err
		}
		for _, v := range luavm.TableArray(x) {
			if err := e.visit(v, pathed, id); err != nil {
				return err
			}
		}
		for _, k := range luavm.TableKeys(x) {
			v := x.RawGetH(k)
			if v == lua.LNil {
				continue
			}
			if isPrimitive(k) {
				if err := e.visit(v, pathed, id); err != nil {
					return err
				}
			} else if pathed {
				e.deferred = append(e.deferred, k, v, lua.LNumber(id))
			} else {
				if err := e.visit(k, false, id); err != nil {
					return err
				}
				if err := e.visit(v, false, id); err != nil {
					return err
				}
			}
		}
	case *lua.LFunction:
		if x.Env != nil {
			if err := e.visit(x.Env, pathed, id); err != nil {
				return err
			}
		}
		for i, uv := range x.Upvalues {
			if uv == nil {
				continue
			}
			if !uv.IsClosed() {
				return e.fail(id, fmt.Sprintf("open upvalue %d", i+1))
			}
			if _, ok := e.uvIDs[uv]; !ok {
				e.uvIDs[uv] = len(e.uvs)
				e.uvs = append(e.uvs, uv)
			}
			if err := e.visit(uv.Value(), pathed, id); err != nil {
				return err
			}
		}
		if !x.IsG {
			e.visitProto(x.Proto)
		}
	case *lua.LState:
		if x.Env != nil {
			return e.visit(x.Env, pathed, id)
		}
	}
	return nil
}

/* ---- writing ---- */

func (e *encoder) uvarint(n uint64) { e.buf = binary.AppendUvarint(e.buf, n) }
func (e *encoder) varint(n int64)   { e.buf = binary.AppendVarint(e.buf, n) }
func (e *encoder) str(s string)     { e.uvarint(uint64(len(s))); e.buf = append(e.buf, s...) }

func (e *encoder) value(v lua.LValue) error {
	switch x := v.(type) {
	case nil, *lua.LNilType:
		e.buf = append(e.buf, tNil)
	case lua.LBool:
		if x {
			e.buf = append(e.buf, tTrue)
		} else {
			e.buf = append(e.buf, tFalse)
		}
	case lua.LNumber:
		f := float64(x)
		if f == math.Trunc(f) && math.Abs(f) < 1<<53 && !(f == 0 && math.Signbit(f)) {
			e.buf = append(e.buf, tInt)
			e.varint(int64(f))
		} else {
			e.buf = append(e.buf, tFloat)
			e.buf = binary.LittleEndian.AppendUint64(e.buf, math.Float64bits(f))
		}
	case lua.LString:
		e.buf = append(e.buf, tString)
		e.str(string(x))
	default:
		id, ok := e.ids[v]
		if !ok {
			return fmt.Errorf("%w: internal error: undiscovered %s", ErrUnserializable, v.Type())
		}
		e.buf = append(e.buf, tRef)
		e.uvarint(uint64(id))
	}
	return nil
}

func (e *encoder) envValue(t *lua.LTable) error {
	if t == nil {
		return e.value(lua.LNil)
	}
	return e.value(t)
}

func (e *encoder) write() error {
	e.buf = append(e.buf, magic...)
	e.buf = append(e.buf, version)
	st := StampOf(e.opts.Runtime)
	for _, s := range []string{st.Runtime, st.LuaVM, st.Bytecode} {
		e.str(s)
	}
	e.uvarint(uint64(len(e.protos)))
	e.uvarint(uint64(len(e.objs)))
	e.uvarint(uint64(len(e.uvs)))
	for _, p := range e.protos {
		if err := e.proto(p); err != nil {
			return err
		}
	}
	for _, o := range e.objs {
		if err := e.object(o); err != nil {
			return err
		}
	}
	for _, uv := range e.uvs {
		if err := e.value(uv.Value()); err != nil {
			return err
		}
	}
	// roots
	if err := e.value(e.L.G.Global); err != nil {
		return err
	}
	if err := e.value(e.L.G.Registry); err != nil {
		return err
	}
	if err := e.envValue(e.L.Env); err != nil {
		return err
	}
	mts := sortedMts(e.L.G)
	e.uvarint(uint64(len(mts)))
	for _, m := range mts {
		e.uvarint(uint64(m.typ))
		if err := e.value(m.mt); err != nil {
			return err
		}
	}
	e.buf = binary.BigEndian.AppendUint64(e.buf, crc64.Checksum(e.buf[e.start:], crcTable))
	return nil
}

func (e *encoder) proto(p *lua.FunctionProto) error {
	e.str(p.SourceName)
	e.varint(int64(p.LineDefined))
	e.varint(int64(p.LastLineDefined))
	e.buf = append(e.buf, p.NumUpvalues, p.NumParameters, p.IsVarArg, p.NumUsedRegisters)
	e.uvarint(uint64(len(p.Code)))
	for _, c := range p.Code {
		e.buf = binary.LittleEndian.AppendUint32(e.buf, c)
	}
	e.uvarint(uint64(len(p.Constants)))
	for _, c := range p.Constants {
		if !isPrimitive(c) {
			return fmt.Errorf("%w: function constant of type %s", ErrUnserializable, c.Type())
		}
		if err := e.value(c); err != nil {
			return err
		}
	}
	e.uvarint(uint64(len(p.FunctionPrototypes)))
	for _, c := range p.FunctionPrototypes {
		if c == nil {
			return fmt.Errorf("%w: nil nested prototype", ErrUnserializable)
		}
		e.uvarint(uint64(e.protoIDs[c]))
	}
	e.uvarint(uint64(len(p.DbgSourcePositions)))
	for _, l := range p.DbgSourcePositions {
		e.varint(int64(l))
	}
	e.uvarint(uint64(len(p.DbgLocals)))
	for _, l := range p.DbgLocals {
		if l == nil {
			l = &lua.DbgLocalInfo{}
		}
		e.str(l.Name)
		e.varint(int64(l.StartPc))
		e.varint(int64(l.EndPc))
	}
	e.uvarint(uint64(len(p.DbgCalls)))
	for _, c := range p.DbgCalls {
		e.str(c.Name)
		e.varint(int64(c.Pc))
	}
	e.uvarint(uint64(len(p.DbgUpvalues)))
	for _, s := range p.DbgUpvalues {
		e.str(s)
	}
	return nil
}

func (e *encoder) upvalues(f *lua.LFunction) {
	e.uvarint(uint64(len(f.Upvalues)))
	for _, uv := range f.Upvalues {
		if uv == nil {
			e.uvarint(0)
		} else {
			e.uvarint(uint64(e.uvIDs[uv]) + 1)
		}
	}
}

func (e *encoder) object(o lua.LValue) error {
	switch x := o.(type) {
	case *lua.LTable:
		e.buf = append(e.buf, kTable)
		if err := e.value(x.Metatable); err != nil {
			return err
		}
		arr := luavm.TableArray(x)
		e.uvarint(uint64(len(arr)))
		for _, v := range arr {
			if err := e.value(v); err != nil {
				return err
			}
		}
		keys := luavm.TableKeys(x)
		n := 0
		for _, k := range keys {
			if e.keyKept(k) {
				n++
			}
		}
		e.uvarint(uint64(n))
		for _, k := range keys {
			if !e.keyKept(k) {
				continue
			}
			if err := e.value(k); err != nil {
				return err
			}
			if err := e.value(x.RawGetH(k)); err != nil { // nil: a deleted key keeping its place
				return err
			}
		}
	case *lua.LFunction:
		if x.IsG {
			e.buf = append(e.buf, kGoFunc)
			name, _ := e.opts.Builtins.Name(x.GFunction) // checked in discover
			e.str(name)
		} else {
			e.buf = append(e.buf, kLuaFunc)
			e.uvarint(uint64(e.protoIDs[x.Proto]))
		}
		if err := e.envValue(x.Env); err != nil {
			return err
		}
		e.upvalues(x)
	case *lua.LState:
		e.buf = append(e.buf, kThread)
		return e.envValue(x.Env)
	}
	return nil
}

// keyKept reports whether a hash key is written: live keys always; a deleted
// key only if it is a primitive or an object that is reachable anyway
// (otherwise nothing can ever re-insert it, so dropping it is unobservable).
func (e *encoder) keyKept(k lua.LValue) bool {
	if isPrimitive(k) {
		return true
	}
	_, ok := e.ids[k]
	return ok
}
