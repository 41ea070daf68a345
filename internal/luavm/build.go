package luavm

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math"
	"reflect"
	"regexp"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"
)

// What a compiled Lua state depends on besides the runtime's own code: the gopher-lua module this binary
// links, and the bytecode its compiler emits. Snapshots and checkpoints name both and are refused by a
// build where either differs (a prototype of another compiler would run as garbage).

const modulePath = "github.com/yuin/gopher-lua"

// ModuleVersion is the gopher-lua module this binary links, as "github.com/yuin/gopher-lua@v1.1.2" (a
// replaced module names its replacement). It comes from the binary's build information; test binaries
// carry none of their dependencies, so it is then read from where gopher-lua's source was compiled from
// (the module cache path holds the version).
var ModuleVersion = sync.OnceValue(func() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path != modulePath {
				continue
			}
			if r := d.Replace; r != nil {
				if r.Version == "" {
					return modulePath + "@" + d.Version + "=>" + r.Path
				}
				return modulePath + "@" + d.Version + "=>" + r.Path + "@" + r.Version
			}
			return modulePath + "@" + d.Version
		}
	}
	pc := reflect.ValueOf(lua.NewState).Pointer()
	if f := runtime.FuncForPC(pc); f != nil {
		file, _ := f.FileLine(pc)
		if m := regexp.MustCompile(`gopher-lua@(v[^/\\]+)[/\\]`).FindStringSubmatch(file); m != nil {
			return modulePath + "@" + m[1]
		}
	}
	return modulePath + "@unknown"
})

// bytecodeRevision is the version of what BytecodeFormat covers besides the compiler's output: the
// instruction encoding luavm.go decodes (Op, A, B, C, Bx) and the prototype fields snapshots keep. Bump it
// when either changes.
const bytecodeRevision = 1

// bytecodeProbe uses every kind of instruction gopher-lua's compiler emits.
const bytecodeProbe = `local a, b, c = 1, "s", nil
local t = { 1, 2, 3, x = a, [b] = true, y = {} }
local function f(x, ...)
  local u = t
  local v = { ... }
  g = x
  t.z = g
  u[1] = -x + x * 2 - x / 3 % 4 ^ 5
  if not (x == 1) and x < 2 or x <= 3 then return #v, u .. "" end
  for i = 1, 3, 1 do a = a + i end
  for k, w in pairs(t) do a = k end
  while a do a = nil break end
  repeat local q = function() return a end until true
  return f(x, ...)
end
local o = { m = function(self) return self end }
return o:m(), f, select("#", ...)`

// BytecodeFormat names the bytecode this binary's gopher-lua compiles to: bytecodeRevision and a
// fingerprint of the compiled probe (its instructions, constants and prototype shape), so a compiler
// that emits anything else gives another name.
var BytecodeFormat = sync.OnceValue(func() string {
	chunk, err := parse.Parse(strings.NewReader(bytecodeProbe), "probe")
	if err != nil {
		return "gopher-lua-bytecode/unknown"
	}
	proto, err := lua.Compile(chunk, "probe")
	if err != nil {
		return "gopher-lua-bytecode/unknown"
	}
	h := sha256.New()
	var walk func(p *lua.FunctionProto)
	walk = func(p *lua.FunctionProto) {
		var b []byte
		b = append(b, p.NumUpvalues, p.NumParameters, p.IsVarArg, p.NumUsedRegisters)
		b = binary.AppendUvarint(b, uint64(len(p.Code)))
		for _, c := range p.Code {
			b = binary.LittleEndian.AppendUint32(b, c)
		}
		b = binary.AppendUvarint(b, uint64(len(p.Constants)))
		for _, c := range p.Constants {
			switch v := c.(type) {
			case lua.LNumber:
				b = append(b, 'n')
				b = binary.LittleEndian.AppendUint64(b, math.Float64bits(float64(v)))
			default:
				b = append(b, 's')
				b = binary.AppendUvarint(b, uint64(len(c.String())))
				b = append(b, c.String()...)
			}
		}
		b = binary.AppendUvarint(b, uint64(len(p.FunctionPrototypes)))
		h.Write(b)
		for _, c := range p.FunctionPrototypes {
			walk(c)
		}
	}
	walk(proto)
	return "gopher-lua-bytecode/" + strconv.Itoa(bytecodeRevision) + "-" + hex.EncodeToString(h.Sum(nil)[:6])
})
