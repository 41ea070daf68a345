package snapshot

import (
	"crypto/sha256"
	"encoding/binary"
	"math"

	lua "github.com/yuin/gopher-lua"

	"github.com/aonode/aonode/internal/luavm"
)

// Compiled function prototypes are most of an idle process's memory (the AOS runtime's code and debug
// information), and every VM built by the same runtime has identical ones. A restored snapshot would
// otherwise bring its own copy of each; Decode instead reuses the destination VM's prototype wherever a
// decoded one is identical, content and nested prototypes included. Prototypes are never changed after
// compilation, so sharing them is safe.

type fingerprint [sha256.Size]byte

// fingerprinter hashes prototypes by content (the destination's are hashed on every Decode: a few hundred
// microseconds for the AOS runtime). A cycle (only possible in a forged snapshot) makes the prototypes on it
// unique, so they are never shared.
type fingerprinter struct {
	memo   map[*lua.FunctionProto]fingerprint
	active map[*lua.FunctionProto]bool
}

func newFingerprinter() *fingerprinter {
	return &fingerprinter{memo: map[*lua.FunctionProto]fingerprint{}, active: map[*lua.FunctionProto]bool{}}
}

func (f *fingerprinter) of(p *lua.FunctionProto) (fingerprint, bool) {
	if fp, ok := f.memo[p]; ok {
		return fp, true
	}
	if f.active[p] {
		return fingerprint{}, false
	}
	f.active[p] = true
	children := make([]fingerprint, len(p.FunctionPrototypes))
	ok := true
	for i, c := range p.FunctionPrototypes {
		if c == nil {
			ok = false
			continue
		}
		var cok bool
		children[i], cok = f.of(c)
		ok = ok && cok
	}
	delete(f.active, p)
	if !ok {
		return fingerprint{}, false
	}
	h := sha256.New()
	var b []byte
	str := func(s string) { b = binary.AppendUvarint(b, uint64(len(s))); b = append(b, s...) }
	num := func(n int64) { b = binary.AppendVarint(b, n) }
	str(p.SourceName)
	num(int64(p.LineDefined))
	num(int64(p.LastLineDefined))
	b = append(b, p.NumUpvalues, p.NumParameters, p.IsVarArg, p.NumUsedRegisters)
	num(int64(len(p.Code)))
	for _, c := range p.Code {
		b = binary.LittleEndian.AppendUint32(b, c)
	}
	num(int64(len(p.Constants)))
	for _, c := range p.Constants {
		switch v := c.(type) {
		case lua.LString:
			b = append(b, tString)
			str(string(v))
		case lua.LNumber:
			b = append(b, tFloat)
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(float64(v)))
		case lua.LBool:
			if v {
				b = append(b, tTrue)
			} else {
				b = append(b, tFalse)
			}
		default:
			if c != lua.LNil {
				return fingerprint{}, false // not a constant the compiler makes: never shared
			}
			b = append(b, tNil)
		}
	}
	num(int64(len(children)))
	for _, c := range children {
		b = append(b, c[:]...)
	}
	num(int64(len(p.DbgSourcePositions)))
	for _, l := range p.DbgSourcePositions {
		num(int64(l))
	}
	num(int64(len(p.DbgLocals)))
	for _, l := range p.DbgLocals {
		if l == nil {
			l = &lua.DbgLocalInfo{}
		}
		str(l.Name)
		num(int64(l.StartPc))
		num(int64(l.EndPc))
	}
	num(int64(len(p.DbgCalls)))
	for _, c := range p.DbgCalls {
		str(c.Name)
		num(int64(c.Pc))
	}
	num(int64(len(p.DbgUpvalues)))
	for _, s := range p.DbgUpvalues {
		str(s)
	}
	h.Write(b)
	var fp fingerprint
	h.Sum(fp[:0])
	f.memo[p] = fp
	return fp, true
}

// destProtos indexes by fingerprint every prototype of a function reachable from L's roots.
func destProtos(L *lua.LState) map[fingerprint]*lua.FunctionProto {
	f := newFingerprinter()
	out := map[fingerprint]*lua.FunctionProto{}
	var addProto func(p *lua.FunctionProto)
	addProto = func(p *lua.FunctionProto) {
		fp, ok := f.of(p)
		if !ok {
			return
		}
		if _, seen := out[fp]; seen {
			return
		}
		out[fp] = p
		for _, c := range p.FunctionPrototypes {
			if c != nil {
				addProto(c)
			}
		}
	}
	seen := map[lua.LValue]bool{}
	var stack []lua.LValue
	push := func(v lua.LValue) {
		switch v.(type) {
		case *lua.LTable, *lua.LFunction:
			if v != nil && !seen[v] {
				seen[v] = true
				stack = append(stack, v)
			}
		}
	}
	push(L.G.Global)
	push(L.G.Registry)
	if L.Env != nil {
		push(L.Env)
	}
	for _, m := range luavm.BuiltinMetatables(L.G) {
		push(m)
	}
	for len(stack) > 0 {
		v := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		switch x := v.(type) {
		case *lua.LTable:
			if x == nil {
				continue
			}
			push(x.Metatable)
			x.ForEach(func(k, v lua.LValue) { push(k); push(v) })
		case *lua.LFunction:
			if x == nil {
				continue
			}
			if x.Env != nil {
				push(x.Env)
			}
			if !x.IsG && x.Proto != nil {
				addProto(x.Proto)
			}
			for _, uv := range x.Upvalues {
				if uv != nil {
					push(uv.Value())
				}
			}
		}
	}
	return out
}

// shareProtos replaces every decoded prototype identical to one of L's by L's.
func (d *decoder) shareProtos(L *lua.LState) {
	if len(d.protos) == 0 {
		return
	}
	dest := destProtos(L)
	f := newFingerprinter()
	repl := make(map[*lua.FunctionProto]*lua.FunctionProto)
	decoded := append([]*lua.FunctionProto(nil), d.protos...)
	for i, p := range decoded {
		if fp, ok := f.of(p); ok {
			if q, ok := dest[fp]; ok {
				repl[p] = q
				d.protos[i] = q
			}
		}
	}
	if len(repl) == 0 {
		return
	}
	// Decoded prototypes that stay (the process's own code) point at shared children where they can.
	for _, p := range decoded {
		if _, shared := repl[p]; shared {
			continue
		}
		for j, c := range p.FunctionPrototypes {
			if q, ok := repl[c]; ok {
				p.FunctionPrototypes[j] = q
			}
		}
	}
}
