// Package aos runs AOS processes: the AOS process runtime (written here in Lua) on gopher-lua, fed one AO
// message at a time, producing AO results (Messages, Spawns, Assignments, Output, Error).
//
// Each message runs under the limits in Options: a deterministic instruction budget (ComputeLimit, also
// reported as Result.GasUsed), a bound on heap growth (MemoryLimit) and a wall-clock safety net
// (Timeout). Besides the runtime's modules, processes can require what AOS bundles: 'json', '.bint'
// (fixed-width integers for token balances, see bint.go), '.base64', '.pretty', '.dump', '.chance' and
// '.crypto'; the standard libraries are Lua 5.3's as AOS has them, none reaching the host (stdlib*.go).
package aos

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"
	"weak"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"

	"github.com/aonode/aonode/node/aos/lua53"
	"github.com/aonode/aonode/node/luaclone"
)

//go:embed lua/*.lua
var luaFS embed.FS

// Tag is one message tag.
type Tag struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Message is one AO message as the CU gives it to the process.
type Message struct {
	Id, Signature, Owner, From, Target, Anchor, Data string
	ForwardedBy                                      string
	Tags                                             []Tag
	Epoch, Nonce                                     int64
	Timestamp                                        int64
	BlockHeight                                      int64
	HashChain                                        string
	Cron, ReadOnly                                   bool
}

// ProcessInfo and ModuleInfo are ao.env.
type ProcessInfo struct {
	Id, Owner string
	Tags      []Tag
}

// ModuleInfo describes the process's module.
type ModuleInfo struct {
	Id, Owner string
	Tags      []Tag
}

// Env is what the process learns about itself.
type Env struct {
	Process ProcessInfo
	Module  ModuleInfo
}

// OutMessage is an outbox message. A Target or Data the process gave as a number, boolean or table is in
// the result as that JSON value, as AOS's result has it (TargetRaw, DataRaw); Target and Data are then
// that JSON's text, what the MU sends.
//
// A Tags list holding entries that are not tables (Tags = { "a", "b" }, which AOS passes on as they are)
// is in the result as the process gave it (TagsRaw); Tags has only its table entries, the tags the MU
// sends.
type OutMessage struct {
	Target    string          `json:"Target"`
	Anchor    string          `json:"Anchor"`
	Tags      []OutTag        `json:"Tags"`
	Data      string          `json:"Data"`
	TargetRaw json.RawMessage `json:"-"`
	DataRaw   json.RawMessage `json:"-"`
	TagsRaw   json.RawMessage `json:"-"`
}

// OutSpawn is an outbox spawn (DataRaw and TagsRaw as OutMessage's).
type OutSpawn struct {
	Anchor  string          `json:"Anchor"`
	Tags    []OutTag        `json:"Tags"`
	Data    string          `json:"Data"`
	DataRaw json.RawMessage `json:"-"`
	TagsRaw json.RawMessage `json:"-"`
}

// OutAssignment is an outbox assignment.
type OutAssignment struct {
	Processes []string `json:"Processes"`
	Message   string   `json:"Message"`
}

// Output is what the process printed.
type Output struct {
	Data   string `json:"data"`
	Prompt string `json:"prompt"`
	Print  bool   `json:"print"`
}

// Result is one evaluation, in the reference CU's shape.
type Result struct {
	Messages    []OutMessage    `json:"Messages"`
	Spawns      []OutSpawn      `json:"Spawns"`
	Assignments []OutAssignment `json:"Assignments"`
	Output      Output          `json:"Output"`
	// Error is the error's text; not empty when the evaluation failed.
	Error string `json:"Error,omitempty"`
	// ErrorValue is the error as the JSON value AOS puts in the result when it is not a string (an Eval
	// that returns a second value makes it the error as it is: 2, true, {"a":1}); Error is then its text.
	ErrorValue json.RawMessage `json:"-"`
	GasUsed    int64           `json:"GasUsed"`
}

// Options bound the evaluation of each message. A message stopped by the compute or time limit gets an
// Error result naming the limit (e.g. "compute limit exceeded: 250000000 instructions"), with the Output
// printed before the stop; like any failed message it sends nothing (the CU also drops the state it left:
// node/cu/revert.go). The zero Options are the defaults.
type Options struct {
	// ComputeLimit is the number of Lua VM instructions one message may execute, the runtime's own code
	// included. A Go builtin counts as one instruction (plus the Lua functions it calls back), except
	// those whose work grows with their arguments, which are charged extra in proportion to it: the string
	// library by its matching steps and the bytes it builds (see node/aos/strlib), table.concat, the
	// builtins of charged.go, the work gopher-lua hides in single instructions (memory.go), coroutine
	// creation, and errors caught by pcall, xpcall or coroutine.resume (see costBytes in limits.go).
	// Counting instructions
	// makes the limit deterministic: the same message on the same state stops at the same instruction on
	// every node and every run, so a stopped message is a reproducible result. Result.GasUsed is the
	// count. 0 means DefaultComputeLimit (250 million); negative means unlimited (still counted).
	ComputeLimit int64
	// MemoryLimit is the size the process's state may reach, in bytes as the runtime accounts them (see
	// memory.go): every allocation is charged before it happens, and one past the limit (after the state
	// was measured again) fails with Lua's "not enough memory" error, at the same instruction on every
	// node. 0 means DefaultMemoryLimit (512 MiB); negative means unlimited.
	MemoryLimit int64
	// Timeout is the wall-clock time one message may run: a last-resort safety net for work the
	// instruction count does not see. It is not deterministic; ComputeLimit should always stop a runaway
	// handler first. A Go builtin is not interrupted: the message stops at its next instruction. 0 or
	// negative means DefaultTimeout (5 minutes).
	Timeout time.Duration
}

// Process is one live AOS process VM.
type Process struct {
	L      *lua.LState
	env    Env
	opts   Options
	handle *lua.LFunction
	meter  *meter // the context the VM runs under while a message is evaluated
	mem    memAccount

	envCache *envCache // the env tables of the previous message (see env.go)
	rt       *Runtime  // the runtime it runs (its compiled Lua and named builtins)
}

// RuntimeSource is the Lua runtime embedded in this binary: the content of the node's module record.
func RuntimeSource() []byte {
	src, _ := sourceOf(luaFS)
	return src
}

// New starts a VM with the embedded AOS runtime loaded (Embedded().New).
func New(env Env, opts Options) (*Process, error) {
	rt, err := Embedded()
	if err != nil {
		return nil, err
	}
	return rt.New(env, opts)
}

func (p *Process) bind() {
	p.handle = p.L.GetGlobal("__aonode_handle").(*lua.LFunction)
}

// modules are the runtime files, under the names AOS code requires them by (as in AOS, "ao" is also
// package.loaded's alias of ".ao", set by the process module).
var modules = map[string]string{
	".utils": "utils", ".handlers-utils": "handlers-utils", ".handlers": "handlers", ".ao": "ao",
	".process": "process", ".stringify": "stringify",
}

func newState(r *Runtime, env Env) (*lua.LState, error) {
	// The data stack starts small and grows on demand up to gopher-lua's default size, the limit a fixed
	// stack of that size has (the same overflow point). The runtime runs each message in a new coroutine,
	// so coroutines start smaller still (setThreadOptions): a fixed 5120-slot stack is 80 KB per message.
	L := lua.NewState(lua.Options{SkipOpenLibs: true, RegistrySize: 512, RegistryGrowStep: 512, RegistryMaxSize: maxSlots,
		CallStackSize: lua.CallStackSize, MinimizeStackMemory: true})
	setThreadOptions(L)
	for _, lib := range []struct {
		name string
		fn   lua.LGFunction
	}{
		{lua.LoadLibName, lua.OpenPackage}, {lua.BaseLibName, lua.OpenBase}, {lua.TabLibName, lua.OpenTable},
		{lua.StringLibName, lua.OpenString}, {lua.MathLibName, lua.OpenMath}, {lua.CoroutineLibName, lua.OpenCoroutine},
	} {
		L.Push(L.NewFunction(lib.fn))
		L.Push(lua.LString(lib.name))
		L.Call(1, 0)
	}
	// Lua 5.3's library additions and the helpers translated 5.3 operators call; the builtins installed next
	// (deterministic and metered versions) take precedence where both define a name.
	lua53.Open(L)
	installBuiltins(L, env)
	installCharged(L)
	orderGlobals(L)
	rt := r.rt
	registerRuntime(L.G, rt)
	// The runtime's modules are found by the searcher after package.preload, as AOS's bundled modules are
	// (package.preload stays empty; see bundledLoader). The modules that take Go helpers are loaded here.
	loaded := map[string]*lua.LFunction{}
	for _, file := range nativeModules {
		loaded[file] = L.NewFunctionFromProto(rt.chunks[file])
	}
	for _, file := range nativeModules {
		if err := loadWithNatives(L, file, loaded[file], r.nativesOf(L, file)); err != nil {
			L.Close()
			return nil, fmt.Errorf("aos runtime %s: %w", file, err)
		}
	}
	// Load the process module once; both names must give the same table.
	L.Push(L.NewFunctionFromProto(rt.boot))
	if err := L.PCall(0, lua.MultRet, nil); err != nil {
		L.Close()
		return nil, fmt.Errorf("aos runtime: %w", err)
	}
	findBoundaries(L)
	return L, nil
}

// bootSource loads the runtime modules in every state, once the preloaders are installed.
const bootSource = `local p = require(".process")
__aonode_handle = p.handle`

// compiledRT is the AOS runtime compiled: the main function of each runtime file and of the boot chunk.
// It is compiled once per Go process and shared by every state: gopher-lua never changes a
// *lua.FunctionProto once compiled (the VM only reads it, and a closure made from it in a state has its
// own upvalues and environment), as node/luaclone already relies on for forks. Compiling it in every
// state made the protos most of an idle process's memory.
type compiledRT struct {
	aliases []string // the keys of modules, sorted: package.preload in one order on every node
	chunks  map[string]*lua.FunctionProto
	boot    *lua.FunctionProto
}

// stateRuntimes maps a state (a weak pointer to its Global) to the compiled runtime it was made from, for what
// finds the runtime's code from inside a state: require of a bundled runtime file, and the state measurement
// (the runtime's own code is shared by every process and not counted). Entries go when the process is closed,
// or when its state is collected: a state dropped without Close (a CU closed with processes loaded, the
// builtins probe) must not stay reachable from here.
var stateRuntimes sync.Map // weak.Pointer[lua.Global] -> *compiledRT

func registerRuntime(g *lua.Global, rt *compiledRT) {
	k := weak.Make(g)
	stateRuntimes.Store(k, rt)
	runtime.AddCleanup(g, func(k weak.Pointer[lua.Global]) { stateRuntimes.Delete(k) }, k)
}

func runtimeOf(L *lua.LState) *compiledRT {
	rt, _ := stateRuntimes.Load(weak.Make(L.G))
	c, _ := rt.(*compiledRT)
	return c
}

// runtimeChunk is the name a runtime file's chunk has in messages and tracebacks: AOS loads its modules
// from strings named after the module (".handlers", ".ao", ...), which Lua 5.3 shows as [string "..."].
func runtimeChunk(file string) string { return lua53.ChunkID("." + file) }

// wasmLines are the runtime files laid out on the lines of AOS's own module (aos 2.0.0), whose positions
// are given as real AOS reports them: line n as 2n-1, since the wasm's module chunks count two line breaks
// per line of the file (see bintFail).
var wasmLines = map[string]bool{"stringify": true}

// doubleLines makes every line p and its nested functions record, n, 2n-1.
func doubleLines(p *lua.FunctionProto) {
	twice := func(n int) int {
		if n <= 0 {
			return n
		}
		return 2*n - 1
	}
	p.LineDefined, p.LastLineDefined = twice(p.LineDefined), twice(p.LastLineDefined)
	for i, n := range p.DbgSourcePositions {
		p.DbgSourcePositions[i] = twice(n)
	}
	for _, c := range p.FunctionPrototypes {
		doubleLines(c)
	}
}

// bootChunk names the chunk that loads the runtime modules in every state.
const bootChunk = "=(boot)"

// compileChunk compiles gopher-lua source (a translated chunk) named name, with its local variables'
// scopes repaired (dbglocals.go).
func compileChunk(code, name string) (*lua.FunctionProto, error) {
	chunk, err := parse.Parse(strings.NewReader(code), name)
	if err != nil {
		return nil, err
	}
	keepNegativeZero(chunk)
	proto, err := lua.Compile(chunk, name)
	if err != nil {
		return nil, err
	}
	repairByStatement(chunk, proto, name)
	return proto, nil
}

func compileRuntime(fsys fs.FS) (*compiledRT, error) {
	rt := &compiledRT{chunks: map[string]*lua.FunctionProto{}}
	for alias := range modules {
		rt.aliases = append(rt.aliases, alias)
	}
	sort.Strings(rt.aliases)
	for _, alias := range rt.aliases {
		file := modules[alias]
		if rt.chunks[file] != nil {
			continue
		}
		src, err := fs.ReadFile(fsys, "lua/"+file+".lua")
		if err != nil {
			return nil, fmt.Errorf("aos runtime: %w", err)
		}
		name := runtimeChunk(file)
		code, err := lua53.Translate(string(src), name)
		if err != nil {
			return nil, fmt.Errorf("aos runtime %s: %w", file, err)
		}
		if rt.chunks[file], err = compileChunk(code, name); err != nil {
			return nil, fmt.Errorf("aos runtime %s: %w", file, err)
		}
		if wasmLines[file] {
			doubleLines(rt.chunks[file])
		}
	}
	boot, err := compileChunk(bootSource, lua53.ChunkID(bootChunk))
	if err != nil {
		return nil, fmt.Errorf("aos runtime: %w", err)
	}
	rt.boot = boot
	return rt, nil
}

// Coroutines get the options of the state that creates them (L.Options). The runtime runs every message in
// a new coroutine, and a handler rarely goes deep, so a coroutine starts small and grows on demand to the
// same limits as the main state (the same overflow points): a call stack of segments of 8 frames instead of
// a fixed 256-frame one (~20 KB), and a data stack of threadRegistrySize slots instead of 512.
const threadRegistrySize = 64

func setThreadOptions(L *lua.LState) {
	L.Options.MinimizeStackMemory = true
	L.Options.RegistrySize = threadRegistrySize
	L.Options.RegistryGrowStep = threadRegistrySize
}

// loadWithNatives runs the chunk of a module that takes Go helpers (natives) and registers it under its
// name, as require would, before the other modules require it.
func loadWithNatives(L *lua.LState, file string, chunk *lua.LFunction, natives *lua.LTable) error {
	L.Push(chunk)
	L.Push(lua.LString("." + file))
	L.Push(natives)
	if err := L.PCall(2, 1, nil); err != nil {
		return err
	}
	mod := L.Get(-1)
	L.Pop(1)
	loaded := L.GetField(L.Get(lua.RegistryIndex), "_LOADED").(*lua.LTable)
	loaded.RawSetString("."+file, mod)
	return nil
}

func tagsTable(L *lua.LState, tags []Tag) *lua.LTable {
	t, _ := tagsList(L, tags)
	return t
}

// tagsList is tagsTable and its elements.
func tagsList(L *lua.LState, tags []Tag) (*lua.LTable, []lua.LValue) {
	t := L.CreateTable(len(tags), 0)
	elems := make([]lua.LValue, len(tags))
	for i, tg := range tags {
		e := newFieldTable(L, 2, 0)
		e.set(kName, lua.LString(tg.Name))
		e.set(kValue, lua.LString(tg.Value))
		elems[i] = e.table()
		t.Append(elems[i])
	}
	return t, elems
}

// envTable builds the env (see env.go).
func (p *Process) envTable() *envCache {
	L := p.L
	c := &envCache{}
	mk := func(id, owner string, tags []Tag) (*lua.LTable, *lua.LTable, []lua.LValue) {
		t := newFieldTable(L, 3, 1) // the runtime adds Process.TagArray
		t.set(kId, lua.LString(id))
		t.set(kOwner, lua.LString(owner))
		list, elems := tagsList(L, tags)
		t.set(kTags, list)
		return t.table(), list, elems
	}
	c.proc, c.procTags, c.procList = mk(p.env.Process.Id, p.env.Process.Owner, p.env.Process.Tags)
	c.mod, c.modTags, c.modList = mk(p.env.Module.Id, p.env.Module.Owner, p.env.Module.Tags)
	e := newFieldTable(L, 2, 0)
	e.set(kProcess, c.proc)
	e.set(kModule, c.mod)
	c.env = e.table()
	return c
}

// msgExtra is room for the fields the runtime adds to a message besides its tags (TagArray, reply,
// forward, and a few a handler may set).
const msgExtra = 8

func (p *Process) msgTable(m Message) *lua.LTable {
	L := p.L
	t := newFieldTable(L, 16, msgExtra+len(m.Tags))
	set := func(k lua.LValue, v string) {
		if v != "" {
			t.set(k, lua.LString(v))
		}
	}
	set(kId, m.Id)
	set(kSignature, m.Signature)
	set(kOwner, m.Owner)
	set(kFrom, m.From)
	set(kTarget, m.Target)
	set(kAnchor, m.Anchor)
	t.set(kData, lua.LString(m.Data))
	set(kForwardedBy, m.ForwardedBy)
	set(kHashChain, m.HashChain)
	t.set(kTags, tagsTable(L, m.Tags))
	t.set(kEpoch, boxNumber(m.Epoch))
	t.set(kNonce, boxNumber(m.Nonce))
	t.set(kTimestamp, boxNumber(m.Timestamp))
	t.set(kBlockHeight, boxNumber(m.BlockHeight))
	t.set(kCron, lua.LBool(m.Cron))
	if m.ReadOnly {
		t.set(kReadOnly, lua.LTrue)
	}
	return t.table()
}

// Handle evaluates one message. Lua errors become Result.Error; the state keeps what ran before the error.
// The message runs under the Options limits; GasUsed is the number of VM instructions it executed.
func (p *Process) Handle(m Message) (res Result) {
	res = Result{Messages: []OutMessage{}, Spawns: []OutSpawn{}, Assignments: []OutAssignment{}}
	L := p.L
	setClock(L, m.Timestamp)
	compute, memory, timeout := p.opts.limits()
	p.meter.mem, p.meter.L = &p.mem, L
	p.meter.start(compute, memory, timeout)
	arm(L, p.meter)
	defer func() {
		L.RemoveContext()
		res.GasUsed = p.meter.finish()
	}()
	env, tab := p.envArgs()
	L.Push(p.handle)
	L.Push(p.msgTable(m))
	L.Push(env)
	L.Push(tab)
	// No error handler: gopher-lua leaves upvalues open after a PCall with one (see luaclone).
	if err := L.PCall(3, 5, nil); err != nil {
		if lim := p.meter.Err(); lim != nil {
			// Past a limit no Lua code runs, the runtime's own error path included: report the limit
			// and what the message printed before it.
			res.Error = lim.Error()
			res.Output = p.partialOutput()
			return res
		}
		res.Error = evalError(L, err)
		return res
	}
	// The runtime returns its result table, or nil, the Output's data, prompt and print, and true when
	// the result is the Output and the outbox (see process.handle).
	ret, data, prompt, printed, outputOnly := L.Get(-5), L.Get(-4), L.Get(-3), L.Get(-2), L.Get(-1)
	L.Pop(5)
	if outputOnly == lua.LTrue {
		res.Output = Output{Data: lua.LVAsString(data), Prompt: lua.LVAsString(prompt), Print: lua.LVAsBool(printed)}
		p.readOutbox(&res)
		return checkOutbox(res)
	}
	rt, _ := ret.(*lua.LTable)
	if rt == nil {
		res.Error = "aos runtime returned no result"
		return res
	}
	if out, ok := rt.RawGetString("Output").(*lua.LTable); ok {
		res.Output = Output{Data: lua.LVAsString(out.RawGetString("data")), Prompt: lua.LVAsString(out.RawGetString("prompt")), Print: lua.LVAsBool(out.RawGetString("print"))}
	}
	if e := rt.RawGetString("Error"); e != lua.LNil {
		res.Error, res.ErrorValue = errorValue(L, e)
		return res // like AOS: a failed evaluation sends nothing
	}
	p.readOutbox(&res)
	return checkOutbox(res)
}

// errorValue is the result's Error when the runtime gives v: a string as it is; anything else as the JSON
// AOS's result encoding makes of it (numbers as Lua 5.3's json module writes them, then as JSON readers
// write those back: 2, -0.7), with that JSON as its text. A value JSON cannot hold gets its Lua text.
func errorValue(L *lua.LState, v lua.LValue) (string, json.RawMessage) {
	if s, ok := v.(lua.LString); ok {
		return string(s), nil
	}
	b, err := encodeJSON(L, v)
	if err != nil {
		return objectText(L, v), nil
	}
	raw, err := plainJSON(b)
	if err != nil {
		return objectText(L, v), nil
	}
	return string(raw), raw
}

// plainJSON is a JSON value as a JSON reader writes it back: numbers as JavaScript shows them, object keys
// sorted, no escapes for <, > and &.
func plainJSON(b []byte) (json.RawMessage, error) {
	var decoded any
	if err := json.Unmarshal(b, &decoded); err != nil {
		return nil, err
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(decoded); err != nil {
		return nil, err
	}
	return json.RawMessage(bytes.TrimSuffix(out.Bytes(), []byte("\n"))), nil
}

func evalError(L *lua.LState, err error) string {
	var le *lua.ApiError
	if errors.As(err, &le) && le.Object != nil {
		return objectText(L, le.Object)
	}
	return err.Error()
}

func (p *Process) readOutbox(res *Result) {
	ao, _ := p.L.GetField(p.L.GetField(p.L.GetField(p.L.Get(lua.RegistryIndex), "_LOADED"), ".ao"), "outbox").(*lua.LTable)
	if ao == nil {
		return
	}
	var bad error // a tag value the result's JSON cannot hold
	readTags := func(v lua.LValue) ([]OutTag, json.RawMessage) {
		t, ok := v.(*lua.LTable)
		if !ok {
			return []OutTag{}, nil
		}
		n := t.Len()
		out := make([]OutTag, 0, n)
		var bare []json.RawMessage // by position, the JSON of the entries that are not tables (rare)
		for i := 1; i <= n; i++ {
			e := t.RawGetInt(i)
			if et, ok := e.(*lua.LTable); ok {
				tag, err := outTag(p.L, et.RawGetString("name"), et.RawGetString("value"))
				if err != nil && bad == nil {
					bad = err
				}
				out = append(out, tag)
				continue
			}
			raw, err := encodeJSON(p.L, e)
			if err != nil {
				if bad == nil {
					bad = err
				}
				continue
			}
			if bare == nil {
				bare = make([]json.RawMessage, n+1)
			}
			bare[i] = raw
		}
		if bare == nil {
			return out, nil
		}
		entries := make([]json.RawMessage, 0, n)
		for i, k := 1, 0; i <= n; i++ {
			switch {
			case bare[i] != nil:
				entries = append(entries, bare[i])
			case t.RawGetInt(i).Type() == lua.LTTable:
				b, _ := out[k].MarshalJSON()
				entries = append(entries, b)
				k++
			}
		}
		all, _ := json.Marshal(entries)
		return out, all
	}
	str := func(t *lua.LTable, k string) string {
		v := t.RawGetString(k)
		if v == lua.LNil {
			return ""
		}
		return lua.LVAsString(v)
	}
	// value is a Target or Data: a string as it is; another value as its JSON, for the result, and that
	// JSON's text, for the MU.
	value := func(t *lua.LTable, k string) (string, json.RawMessage) {
		switch v := t.RawGetString(k).(type) {
		case lua.LString:
			return string(v), nil
		case *lua.LNilType, *lua.LFunction:
			return "", nil
		default:
			raw, err := encodeJSON(p.L, v)
			if err != nil {
				if bad == nil {
					bad = err
				}
				return "", nil
			}
			return string(raw), raw
		}
	}
	if ms, ok := ao.RawGetString("Messages").(*lua.LTable); ok {
		for i := 1; i <= ms.Len(); i++ {
			if m, ok := ms.RawGetInt(i).(*lua.LTable); ok {
				om := OutMessage{Anchor: str(m, "Anchor")}
				om.Tags, om.TagsRaw = readTags(m.RawGetString("Tags"))
				om.Target, om.TargetRaw = value(m, "Target")
				om.Data, om.DataRaw = value(m, "Data")
				res.Messages = append(res.Messages, om)
			}
		}
	}
	if ss, ok := ao.RawGetString("Spawns").(*lua.LTable); ok {
		for i := 1; i <= ss.Len(); i++ {
			if s, ok := ss.RawGetInt(i).(*lua.LTable); ok {
				os := OutSpawn{Anchor: str(s, "Anchor")}
				os.Tags, os.TagsRaw = readTags(s.RawGetString("Tags"))
				os.Data, os.DataRaw = value(s, "Data")
				res.Spawns = append(res.Spawns, os)
			}
		}
	}
	if as, ok := ao.RawGetString("Assignments").(*lua.LTable); ok {
		for i := 1; i <= as.Len(); i++ {
			a, ok := as.RawGetInt(i).(*lua.LTable)
			if !ok {
				continue
			}
			oa := OutAssignment{Processes: []string{}, Message: str(a, "Message")}
			if ps, ok := a.RawGetString("Processes").(*lua.LTable); ok {
				for j := 1; j <= ps.Len(); j++ {
					oa.Processes = append(oa.Processes, lua.LVAsString(ps.RawGetInt(j)))
				}
			}
			res.Assignments = append(res.Assignments, oa)
		}
	}
	if bad != nil {
		// AOS encodes its whole result as JSON, and fails when a value cannot be encoded: the message sends
		// nothing.
		*res = Result{Messages: []OutMessage{}, Spawns: []OutSpawn{}, Assignments: []OutAssignment{}, Output: res.Output, Error: bad.Error()}
	}
}

// Fork returns an independent copy of the process for a read-only evaluation.
func (p *Process) Fork() (*Process, error) {
	L, err := luaclone.CloneWithOptions(p.L, func() (*lua.LState, error) { return newState(p.rt, p.env) },
		luaclone.Options{Builtins: p.rt.builtins})
	if err != nil {
		return nil, err
	}
	f := &Process{L: L, env: p.env, opts: p.opts, meter: newMeter(L.G), mem: p.mem, rt: p.rt} // its own budget
	f.bind()
	return f, nil
}

// StateJSON is a JSON view of the process's global data.
func (p *Process) StateJSON() ([]byte, error) { return stateJSON(p.L) }

// Close releases the VM.
func (p *Process) Close() {
	stateRuntimes.Delete(weak.Make(p.L.G))
	p.L.Close()
}

// MarshalJSON keeps Messages/Spawns/Assignments arrays, never null.
func (r Result) MarshalJSON() ([]byte, error) { return r.Encode() }

// Encode is the result's JSON, as json.Marshal gives it, without encoding/json's reflection and its second
// pass over a Marshaler's output when the result holds only strings (the common case).
func (r Result) Encode() ([]byte, error) {
	if r.Messages == nil {
		r.Messages = []OutMessage{}
	}
	if r.Spawns == nil {
		r.Spawns = []OutSpawn{}
	}
	if r.Assignments == nil {
		r.Assignments = []OutAssignment{}
	}
	if r.fastJSON() {
		return appendResult(make([]byte, 0, 256), &r), nil
	}
	for i := range r.Messages {
		if r.Messages[i].Tags == nil {
			r.Messages[i].Tags = []OutTag{}
		}
	}
	return marshalSlow(r)
}

// UnmarshalJSON reads a result whose Error may be any JSON value (see ErrorValue).
func (r *Result) UnmarshalJSON(b []byte) error {
	type plain Result
	var aux struct {
		plain
		Error json.RawMessage `json:"Error"`
	}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	*r = Result(aux.plain)
	switch e := bytes.TrimSpace(aux.Error); {
	case len(e) == 0 || string(e) == "null":
	case e[0] == '"':
		return json.Unmarshal(e, &r.Error)
	default:
		v, err := plainJSON(e)
		if err != nil {
			return err
		}
		r.Error, r.ErrorValue = string(v), v
	}
	return nil
}
