package snapshot

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc64"
	"math"

	lua "github.com/yuin/gopher-lua"

	"github.com/aonode/aonode/internal/luavm"

	"github.com/aonode/aonode/node/luaclone"
)

// ival is a decoded value: a primitive, or a reference to object ref.
type ival struct {
	v   lua.LValue
	ref int // -1 for primitives
}

var inil = ival{lua.LNil, -1}

type ientry struct{ k, v ival }

type iobj struct {
	kind  byte
	mt    ival
	array []ival
	keys  []ientry
	proto int
	name  string // a Go function's registered name
	env   ival
	upv   []int // upvalue id+1, 0 = none
}

type reader struct {
	b   []byte
	off int
	err error
}

func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: "+format+" at offset %d", append([]any{ErrCorrupt}, append(args, r.off)...)...)
	}
}

func (r *reader) byte() byte {
	if r.err != nil {
		return 0
	}
	if r.off >= len(r.b) {
		r.fail("truncated")
		return 0
	}
	c := r.b[r.off]
	r.off++
	return c
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	n, k := binary.Uvarint(r.b[r.off:])
	if k <= 0 {
		r.fail("bad varint")
		return 0
	}
	r.off += k
	return n
}

func (r *reader) varint() int64 {
	if r.err != nil {
		return 0
	}
	n, k := binary.Varint(r.b[r.off:])
	if k <= 0 {
		r.fail("bad varint")
		return 0
	}
	r.off += k
	return n
}

func (r *reader) int() int {
	n := r.varint()
	if n < math.MinInt32 || n > math.MaxInt32 {
		r.fail("integer out of range")
		return 0
	}
	return int(n)
}

// count reads a length whose elements take at least minSize bytes each.
func (r *reader) count(minSize int) int {
	n := r.uvarint()
	if r.err != nil {
		return 0
	}
	if n > uint64(len(r.b)-r.off)/uint64(minSize) {
		r.fail("count %d exceeds input", n)
		return 0
	}
	return int(n)
}

func (r *reader) bytes(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.b)-r.off {
		r.fail("truncated")
		return nil
	}
	s := r.b[r.off : r.off+n]
	r.off += n
	return s
}

func (r *reader) str() string { return string(r.bytes(r.count(1))) }

type decoder struct {
	want   *Stamp // the stamp a snapshot must have (nil: any)
	stamp  Stamp
	r      reader
	protos []*lua.FunctionProto
	objs   []iobj
	uvals  []ival
	global ival
	reg    ival
	// references that must point at tables
	tableRefs []int
	env       ival
	mts       []struct {
		typ int
		mt  ival
	}
}

func (d *decoder) value() ival {
	switch t := d.r.byte(); t {
	case tNil:
		return inil
	case tFalse:
		return ival{lua.LFalse, -1}
	case tTrue:
		return ival{lua.LTrue, -1}
	case tFloat:
		b := d.r.bytes(8)
		if b == nil {
			return inil
		}
		return ival{lua.LNumber(math.Float64frombits(binary.LittleEndian.Uint64(b))), -1}
	case tInt:
		return ival{lua.LNumber(float64(d.r.varint())), -1}
	case tString:
		return ival{lua.LString(d.r.str()), -1}
	case tRef:
		n := d.r.uvarint()
		if n >= uint64(len(d.objs)) {
			d.r.fail("object reference %d out of range", n)
			return inil
		}
		return ival{nil, int(n)}
	default:
		d.r.fail("bad value tag %d", t)
		return inil
	}
}

// tableRef reads a value that must be nil or a table reference.
func (d *decoder) tableRef() ival {
	v := d.value()
	if v.ref >= 0 {
		d.tableRefs = append(d.tableRefs, v.ref) // checked once all kinds are known
	} else if v.v != lua.LNil {
		d.r.fail("table expected")
	}
	return v
}

func (d *decoder) proto(p *lua.FunctionProto) {
	r := &d.r
	p.SourceName = r.str()
	p.LineDefined = r.int()
	p.LastLineDefined = r.int()
	hdr := r.bytes(4)
	if hdr != nil {
		p.NumUpvalues, p.NumParameters, p.IsVarArg, p.NumUsedRegisters = hdr[0], hdr[1], hdr[2], hdr[3]
	}
	n := r.count(4)
	p.Code = make([]uint32, n)
	for i := range p.Code {
		if b := r.bytes(4); b != nil {
			p.Code[i] = binary.LittleEndian.Uint32(b)
		}
	}
	n = r.count(1)
	p.Constants = make([]lua.LValue, n)
	sc := make([]string, n)
	for i := range p.Constants {
		v := d.value()
		if v.ref >= 0 {
			r.fail("object constant")
			return
		}
		p.Constants[i] = v.v
		if s, ok := v.v.(lua.LString); ok {
			sc[i] = string(s)
		}
	}
	luavm.SetStringConstants(p, sc)
	n = r.count(1)
	p.FunctionPrototypes = make([]*lua.FunctionProto, n)
	for i := range p.FunctionPrototypes {
		k := r.uvarint()
		if k >= uint64(len(d.protos)) {
			r.fail("prototype reference out of range")
			return
		}
		p.FunctionPrototypes[i] = d.protos[k]
	}
	n = r.count(1)
	p.DbgSourcePositions = make([]int, n)
	for i := range p.DbgSourcePositions {
		p.DbgSourcePositions[i] = r.int()
	}
	n = r.count(3)
	p.DbgLocals = make([]*lua.DbgLocalInfo, n)
	for i := range p.DbgLocals {
		p.DbgLocals[i] = &lua.DbgLocalInfo{Name: r.str(), StartPc: r.int(), EndPc: r.int()}
	}
	n = r.count(2)
	p.DbgCalls = make([]lua.DbgCall, n)
	for i := range p.DbgCalls {
		p.DbgCalls[i] = lua.DbgCall{Name: r.str(), Pc: r.int()}
	}
	n = r.count(1)
	p.DbgUpvalues = make([]string, n)
	for i := range p.DbgUpvalues {
		p.DbgUpvalues[i] = r.str()
	}
}

func (d *decoder) upvalues(o *iobj) {
	n := d.r.count(1)
	o.upv = make([]int, n)
	for i := range o.upv {
		k := d.r.uvarint()
		if k > uint64(len(d.uvals)) {
			d.r.fail("upvalue reference out of range")
			return
		}
		o.upv[i] = int(k)
	}
}

func (d *decoder) parse(data []byte) error {
	if len(data) < len(magic)+1+8 || string(data[:len(magic)]) != magic {
		return fmt.Errorf("%w: not a snapshot", ErrCorrupt)
	}
	if v := data[len(magic)]; v != version {
		return fmt.Errorf("%w: format version %d, not %d", ErrStale, v, version)
	}
	body, sum := data[:len(data)-8], binary.BigEndian.Uint64(data[len(data)-8:])
	if crc64.Checksum(body, crcTable) != sum {
		return fmt.Errorf("%w: checksum mismatch", ErrCorrupt)
	}
	return d.parseBody(body)
}

// parseBody parses a body whose checksum has been verified (or, in tests,
// not): it must reject any input without panicking.
func (d *decoder) parseBody(body []byte) error {
	d.r = reader{b: body, off: len(magic) + 1}
	r := &d.r
	d.stamp = Stamp{Runtime: r.str(), LuaVM: r.str(), Bytecode: r.str()}
	if r.err != nil {
		return r.err
	}
	if d.want != nil {
		if diff := d.stamp.differs(*d.want); diff != "" {
			return fmt.Errorf("%w: made by %s", ErrStale, diff)
		}
	}
	np, no, nu := r.count(1), r.count(1), r.count(1)
	if r.err != nil {
		return r.err
	}
	d.protos = make([]*lua.FunctionProto, np)
	for i := range d.protos {
		d.protos[i] = &lua.FunctionProto{}
	}
	d.objs = make([]iobj, no)
	d.uvals = make([]ival, nu)
	for _, p := range d.protos {
		d.proto(p)
		if r.err != nil {
			return r.err
		}
	}
	for i := range d.objs {
		o := &d.objs[i]
		o.kind = r.byte()
		switch o.kind {
		case kTable:
			o.mt = d.tableRef()
			o.array = make([]ival, r.count(1))
			for j := range o.array {
				o.array[j] = d.value()
			}
			o.keys = make([]ientry, r.count(2))
			for j := range o.keys {
				k := d.value()
				if k.ref < 0 && k.v == lua.LNil {
					r.fail("nil table key")
				}
				if n, ok := k.v.(lua.LNumber); ok && n != n {
					r.fail("NaN table key")
				}
				o.keys[j] = ientry{k, d.value()}
			}
		case kLuaFunc:
			k := r.uvarint()
			if k >= uint64(len(d.protos)) {
				r.fail("prototype reference out of range")
				break
			}
			o.proto = int(k)
			o.env = d.tableRef()
			d.upvalues(o)
			if r.err == nil && (o.env.ref < 0 || len(o.upv) != int(d.protos[k].NumUpvalues)) {
				r.fail("inconsistent Lua function")
			}
		case kGoFunc:
			o.name = r.str()
			o.env = d.tableRef()
			d.upvalues(o)
		case kThread:
			o.env = d.tableRef()
		default:
			r.fail("bad object kind %d", o.kind)
		}
		if r.err != nil {
			return r.err
		}
	}
	for i := range d.uvals {
		d.uvals[i] = d.value()
	}
	d.global = d.tableRef()
	d.reg = d.tableRef()
	d.env = d.tableRef()
	if r.err == nil && (d.global.ref < 0 || d.reg.ref < 0) {
		r.fail("missing roots")
	}
	n := r.count(2)
	for i := 0; i < n && r.err == nil; i++ {
		t := r.uvarint()
		if t > 255 || (i > 0 && int(t) <= d.mts[i-1].typ) {
			r.fail("bad metatable type")
		}
		d.mts = append(d.mts, struct {
			typ int
			mt  ival
		}{int(t), d.value()})
	}
	if r.err == nil && r.off != len(r.b) {
		r.fail("trailing bytes")
	}
	if r.err != nil {
		return r.err
	}
	for _, ref := range d.tableRefs {
		if d.objs[ref].kind != kTable {
			return fmt.Errorf("%w: table expected", ErrCorrupt)
		}
	}
	// A table's keys must be unique (checked after all values are known).
	for i := range d.objs {
		o := &d.objs[i]
		if o.kind != kTable || len(o.keys) == 0 {
			continue
		}
		seen := make(map[any]struct{}, len(o.keys))
		for _, e := range o.keys {
			var k any = e.k.v
			if e.k.ref >= 0 {
				k = e.k.ref
			}
			if _, dup := seen[k]; dup {
				return fmt.Errorf("%w: duplicate table key", ErrCorrupt)
			}
			seen[k] = struct{}{}
		}
	}
	return nil
}

/* ---- restoring ---- */

// ReadStamp is what the snapshot says made it (its checksum verified, the
// rest not read).
func ReadStamp(data []byte) (Stamp, error) {
	if len(data) < len(magic)+1+8 || string(data[:len(magic)]) != magic {
		return Stamp{}, fmt.Errorf("%w: not a snapshot", ErrCorrupt)
	}
	if v := data[len(magic)]; v != version {
		return Stamp{}, fmt.Errorf("%w: format version %d, not %d", ErrStale, v, version)
	}
	body, sum := data[:len(data)-8], binary.BigEndian.Uint64(data[len(data)-8:])
	if crc64.Checksum(body, crcTable) != sum {
		return Stamp{}, fmt.Errorf("%w: checksum mismatch", ErrCorrupt)
	}
	r := reader{b: body, off: len(magic) + 1}
	st := Stamp{Runtime: r.str(), LuaVM: r.str(), Bytecode: r.str()}
	return st, r.err
}

// Decode restores a snapshot made by Encode into L, which must be a freshly
// built, idle VM of the runtime o names (same libraries and Go builtins at
// the same places). A snapshot made by another runtime, gopher-lua module or
// bytecode format gives an error wrapping ErrStale. L's globals, registry, env and per-type metatables are
// replaced by the snapshot's. Objects of L found at the same path as a
// snapshot object (the globals and registry tables, module tables, Go
// builtins, Lua closures such as a handler the host keeps a Go reference
// to) are reused and refilled in place, so Go references into L stay
// valid; everything else is new.
//
// Input that is not a valid snapshot gives an error wrapping ErrCorrupt; a
// snapshot whose Go functions cannot be found or rebuilt in L gives an error
// wrapping ErrUnserializable. On error L is left unchanged.
func Decode(data []byte, L *lua.LState, o Options) (err error) {
	if err := luavm.Check(); err != nil {
		return fmt.Errorf("%w: unsupported gopher-lua: %v", ErrUnserializable, err)
	}
	if L == nil || L.IsClosed() {
		return errors.New("snapshot: nil or closed state")
	}
	mutating := false
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: internal error: %v", ErrCorrupt, r)
			if mutating {
				err = fmt.Errorf("%w (state left partially restored)", err)
			}
		}
	}()
	want := StampOf(o.Runtime)
	d := &decoder{want: &want}
	if err := d.parse(data); err != nil {
		return err
	}
	d.shareProtos(L)
	return d.restore(L, o.Builtins, &mutating)
}

type restorer struct {
	d        *decoder
	builtins *luavm.Builtins
	L        *lua.LState
	dst      []lua.LValue // paired destination object per snapshot object
	used     map[lua.LValue]bool
	queue    []int
}

func (rs *restorer) tryPair(v ival, dv lua.LValue) {
	if v.ref < 0 || rs.dst[v.ref] != nil || dv == nil || rs.used[dv] {
		return
	}
	o := &rs.d.objs[v.ref]
	switch o.kind {
	case kTable:
		if t, ok := dv.(*lua.LTable); !ok || t == nil {
			return
		}
	case kLuaFunc:
		if f, ok := dv.(*lua.LFunction); !ok || f == nil || f.IsG {
			return
		}
	case kGoFunc:
		f, ok := dv.(*lua.LFunction)
		if !ok || f == nil || !f.IsG || len(f.Upvalues) != len(o.upv) {
			return
		}
		if name, ok := rs.builtins.Name(f.GFunction); !ok || name != o.name {
			return
		}
	default:
		return
	}
	rs.dst[v.ref] = dv
	rs.used[dv] = true
	rs.queue = append(rs.queue, v.ref)
}

func (rs *restorer) pairChildren(id int) {
	o := &rs.d.objs[id]
	switch o.kind {
	case kTable:
		t := rs.dst[id].(*lua.LTable)
		rs.tryPair(o.mt, t.Metatable)
		for i, v := range o.array {
			rs.tryPair(v, t.RawGetInt(i+1))
		}
		for _, e := range o.keys {
			if e.k.ref < 0 && e.v.ref >= 0 {
				rs.tryPair(e.v, t.RawGet(e.k.v))
			}
		}
	case kLuaFunc, kGoFunc:
		f := rs.dst[id].(*lua.LFunction)
		if f.Env != nil {
			rs.tryPair(o.env, f.Env)
		}
		for i, u := range o.upv {
			if u > 0 && i < len(f.Upvalues) && f.Upvalues[i] != nil {
				rs.tryPair(rs.d.uvals[u-1], f.Upvalues[i].Value())
			}
		}
	}
}

func (d *decoder) restore(L *lua.LState, builtins *luavm.Builtins, mutating *bool) error {
	rs := &restorer{d: d, builtins: builtins, L: L, dst: make([]lua.LValue, len(d.objs)), used: map[lua.LValue]bool{}}
	// 1. pair snapshot objects with L's objects at the same paths.
	rs.tryPair(d.global, L.G.Global)
	rs.tryPair(d.reg, L.G.Registry)
	if L.Env != nil {
		rs.tryPair(d.env, L.Env)
	}
	cur := luavm.BuiltinMetatables(L.G)
	for _, m := range d.mts {
		if dv, ok := cur[m.typ]; ok {
			rs.tryPair(m.mt, dv)
		}
	}
	for i := 0; i < len(rs.queue); i++ {
		rs.pairChildren(rs.queue[i])
	}
	// 2. Go functions without a counterpart: made again from their registered name (top-level functions
	// only: a Go closure's state cannot be).
	gfuncs := make([]lua.LGFunction, len(d.objs))
	for i := range d.objs {
		o := &d.objs[i]
		if o.kind != kGoFunc || rs.dst[i] != nil {
			continue
		}
		fn, rebuildable, ok := builtins.Lookup(o.name)
		if !ok {
			return fmt.Errorf("%w: Go function %s is not a builtin of this runtime", ErrUnserializable, o.name)
		}
		if !rebuildable {
			return fmt.Errorf("%w: Go function %s has no counterpart in the state", ErrUnserializable, o.name)
		}
		gfuncs[i] = fn
	}
	// 3. allocate (nothing above changed L).
	*mutating = true
	for i := range d.objs {
		if rs.dst[i] != nil {
			continue
		}
		switch d.objs[i].kind {
		case kTable:
			rs.dst[i] = &lua.LTable{}
		case kLuaFunc:
			rs.dst[i] = &lua.LFunction{}
		case kGoFunc:
			rs.dst[i] = &lua.LFunction{IsG: true, GFunction: gfuncs[i]}
		case kThread:
			th, cancel := L.NewThread()
			if cancel != nil {
				cancel()
			}
			th.Dead = true
			rs.dst[i] = th
		}
	}
	m := func(v ival) lua.LValue {
		if v.ref >= 0 {
			return rs.dst[v.ref]
		}
		return v.v
	}
	mt := func(v ival) *lua.LTable {
		if v.ref >= 0 {
			return rs.dst[v.ref].(*lua.LTable)
		}
		return nil
	}
	uvs := make([]*lua.Upvalue, len(d.uvals))
	for i, v := range d.uvals {
		uv := &lua.Upvalue{}
		uv.Close()
		uv.SetValue(m(v))
		uvs[i] = uv
	}
	// 4. fill.
	for i := range d.objs {
		o := &d.objs[i]
		switch o.kind {
		case kTable:
			fillTable(rs.dst[i].(*lua.LTable), o, m)
		case kLuaFunc, kGoFunc:
			f := rs.dst[i].(*lua.LFunction)
			if o.kind == kLuaFunc {
				f.IsG, f.GFunction, f.Proto = false, nil, d.protos[o.proto]
			}
			f.Env = mt(o.env)
			ups := make([]*lua.Upvalue, len(o.upv))
			for j, u := range o.upv {
				if u > 0 {
					ups[j] = uvs[u-1]
				}
			}
			f.Upvalues = ups
		case kThread:
			rs.dst[i].(*lua.LState).Env = mt(o.env)
		}
	}
	// 5. roots.
	L.G.Global = mt(d.global)
	L.G.Registry = mt(d.reg)
	if env := mt(d.env); env != nil {
		L.Env = env
	}
	types := map[int]lua.LValue{}
	for t, v := range cur {
		types[t] = v
	}
	want := map[int]lua.LValue{}
	for _, x := range d.mts {
		want[x.typ] = m(x.mt)
		types[x.typ] = nil
	}
	for t := 0; t < 256; t++ {
		if _, ok := types[t]; !ok {
			continue
		}
		s := luaclone.SampleOfType(lua.LValueType(t), L)
		if s == nil {
			continue
		}
		v, ok := want[t]
		if !ok || v == nil {
			v = lua.LNil
		}
		L.SetMetatable(s, v)
	}
	return nil
}

func fillTable(t *lua.LTable, o *iobj, m func(ival) lua.LValue) {
	*t = lua.LTable{Metatable: m(o.mt)}
	var array []lua.LValue
	if len(o.array) > 0 {
		array = make([]lua.LValue, len(o.array))
		for i, v := range o.array {
			array[i] = m(v)
		}
	}
	if len(o.keys) == 0 {
		luavm.SetTableParts(t, luavm.TableParts{Array: array})
		return
	}
	nStr := 0
	for _, e := range o.keys {
		if _, ok := e.k.v.(lua.LString); ok && e.k.ref < 0 {
			nStr++
		}
	}
	var strdict map[string]lua.LValue
	var dict map[lua.LValue]lua.LValue
	if nStr > 0 {
		strdict = make(map[string]lua.LValue, nStr)
	}
	if nStr < len(o.keys) {
		dict = make(map[lua.LValue]lua.LValue, len(o.keys)-nStr)
	}
	keys := make([]lua.LValue, len(o.keys))
	k2i := make(map[lua.LValue]int, len(o.keys))
	for i, e := range o.keys {
		k := m(e.k)
		keys[i] = k
		k2i[k] = i
		v := m(e.v)
		if v == lua.LNil {
			continue
		}
		if s, ok := k.(lua.LString); ok {
			strdict[string(s)] = v
		} else {
			dict[k] = v
		}
	}
	luavm.SetTableParts(t, luavm.TableParts{Array: array, Strdict: strdict, Dict: dict, Keys: keys, K2i: k2i})
}
