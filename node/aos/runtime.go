package aos

import (
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"sync"

	lua "github.com/yuin/gopher-lua"

	"github.com/aonode/aonode/internal/luavm"
)

// Runtime is one set of the runtime's Lua files (the AOS process API), compiled once and shared by every
// state made from it, with the registry of the Go functions those states hold (see builtins below). The
// node runs the Lua embedded in this binary (Embedded); a Runtime compiled from other files (Compile) is
// an earlier release kept in the binary, or a test's variant.
type Runtime struct {
	source   []byte
	rt       *compiledRT
	builtins *luavm.Builtins

	// For the tests that check the Go fast paths against the Lua they stand for: natives for which
	// withoutNative is true are not given to the runtime's modules (their Lua definitions run), and with
	// noEnvReuse every message gets a new env (env.go).
	withoutNative func(file, name string) bool
	noEnvReuse    bool
}

// nativesOf is the table of Go helpers module file gets (natives), without those r leaves out.
func (r *Runtime) nativesOf(L *lua.LState, file string) *lua.LTable {
	t := natives(L, file)
	if r.withoutNative != nil {
		var drop []string
		t.ForEach(func(k, _ lua.LValue) {
			if r.withoutNative(file, lua.LVAsString(k)) {
				drop = append(drop, lua.LVAsString(k))
			}
		})
		for _, k := range drop {
			t.RawSetString(k, lua.LNil)
		}
	}
	return t
}

var (
	embeddedOnce sync.Once
	embedded     *Runtime
	embeddedErr  error
)

// Embedded is the runtime whose Lua is embedded in this binary (node/aos/lua).
func Embedded() (*Runtime, error) {
	embeddedOnce.Do(func() { embedded, embeddedErr = Compile(luaFS) })
	return embedded, embeddedErr
}

// Compile compiles the runtime files lua/*.lua of fsys (the files node/aos/lua has) and registers the Go
// functions its states hold.
func Compile(fsys fs.FS) (*Runtime, error) {
	if err := luavm.Check(); err != nil {
		// The runtime's bounds (nested calls, stacks) rely on gopher-lua's internals: never run without them.
		return nil, fmt.Errorf("aos runtime cannot run on this gopher-lua build: %w", err)
	}
	src, err := sourceOf(fsys)
	if err != nil {
		return nil, err
	}
	crt, err := compileRuntime(fsys)
	if err != nil {
		return nil, err
	}
	shareProtos(crt)
	r := &Runtime{source: src, rt: crt, builtins: luavm.NewBuiltins()}
	if err := r.registerBuiltins(); err != nil {
		return nil, fmt.Errorf("aos runtime: %w", err)
	}
	return r, nil
}

// sourceOf is the runtime files of fsys in one text, in name order: what the node's module record holds.
func sourceOf(fsys fs.FS) ([]byte, error) {
	names, err := fs.Glob(fsys, "lua/*.lua")
	if err != nil {
		return nil, fmt.Errorf("aos runtime: %w", err)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("aos runtime: no lua/*.lua files")
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		src, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, fmt.Errorf("aos runtime: %w", err)
		}
		fmt.Fprintf(&b, "-- %s\n%s\n", n, src)
	}
	return []byte(b.String()), nil
}

// Source is the runtime's Lua files in one text (see RuntimeSource).
func (r *Runtime) Source() []byte { return r.source }

// Builtins is the registry of the Go functions the runtime's states hold, by stable name: snapshots and
// forks name Go functions by it.
func (r *Runtime) Builtins() *luavm.Builtins { return r.builtins }

// New starts a VM of this runtime.
func (r *Runtime) New(env Env, opts Options) (*Process, error) {
	L, err := newState(r, env)
	if err != nil {
		return nil, err
	}
	p := &Process{L: L, env: env, opts: opts, meter: newMeter(L.G), rt: r}
	p.bind()
	p.mem.exact, _ = measure(L)
	return p, nil
}

// probeSource makes, in a throwaway state, the Go functions a process can only get at run time (a .bint
// class, the utf8.codes iterator, a coroutine.wrap function), so that they are registered too.
const probeSource = `local bint = require(".bint")
__aonode_probe = { bint = bint, class = bint(256), codes = utf8.codes(""), wrap = coroutine.wrap(function() end) }`

// registerBuiltins names every Go function of a fresh state of the runtime, and those the probe makes,
// by the first path that reaches it (luavm.Builtins.RegisterReachable). A state's Go functions are
// installed at the same places in every state of a runtime, so the names are the same in every process
// running this runtime.
func (r *Runtime) registerBuiltins() error {
	L, err := newState(r, Env{})
	if err != nil {
		return err
	}
	defer L.Close()
	if err := L.DoString(probeSource + bundledProbe()); err != nil {
		return fmt.Errorf("probe builtins: %w", err)
	}
	if err := r.builtins.RegisterReachable("", L); err != nil {
		return err
	}
	// What builtins make for a process while it runs (result objects, iterators, handlers): registered by
	// their own names, whatever made them.
	for _, b := range madeAtRunTime {
		if _, ok := r.builtins.Name(b.fn); ok {
			continue
		}
		if err := r.builtins.Register("made."+b.name, b.fn); err != nil {
			return err
		}
	}
	return nil
}

// bundledProbe requires every module bundled with the runtime, so that the functions their tables hold
// are registered by path (they are made when a process first requires them).
func bundledProbe() string {
	var names []string
	for n := range goModules {
		names = append(names, n)
	}
	for _, c := range cryptoModules {
		names = append(names, c.name)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("\n__aonode_probe.bundled = {}\n")
	for _, n := range names {
		fmt.Fprintf(&b, "__aonode_probe.bundled[%q] = require(%q)\n", n, n)
	}
	return b.String()
}

// madeAtRunTime are the Go functions builtins make while a process runs, as closures over state of their
// own (a crypto result's accessors, a queue's methods, a stream, iterators, error handlers).
var madeAtRunTime = []struct {
	name string
	fn   lua.LGFunction
}{
	{"returnUpvalue", returnUpvalue}, {"digestString", digestString}, {"digestHex", digestHex},
	{"digestNumbers", digestNumbers}, {"digestWords", digestWords}, {"digestChars", digestChars},
	{"aesAsBytes", aesAsBytes}, {"aesAsHex", aesAsHex}, {"aesAsString", aesAsString},
	{"queuePush", queuePush}, {"queuePop", queuePop}, {"queueSize", queueSize}, {"queueGetHead", queueGetHead},
	{"queueGetTail", queueGetTail}, {"queueReset", queueReset}, {"stringStream", stringStream},
	{"dumpValue", dumpValue}, {"linesEnd", linesEnd}, {"pcallHandler", pcallHandler},
	{"xpcallHandler", xpcallHandler}, {"coWrapAux", coWrapAux},
}

// Runtime is the runtime the process runs.
func (p *Process) Runtime() *Runtime { return p.rt }
