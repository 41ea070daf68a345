package aos

import (
	"fmt"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// A process's require sees only what is inside the process: package.loaded (the runtime's modules and
// what the process loaded) and package.preload. gopher-lua's package library reads .lua files from the
// node's disk (the working directory, /usr/local/share/lua/5.1, LUA_PATH), so a result could depend on
// the host's files and an error message could tell which host paths exist; here nothing touches the
// host. Everything else follows Lua 5.3's require and package library as real AOS has them, down to the
// error text: its searchers list the files it would look for (in the wasm's own virtual file system, where
// none of them exists), so the text is built from package.path and package.cpath alone.
const (
	aosPackagePath   = "/usr/local/share/lua/5.3/?.lua;/usr/local/share/lua/5.3/?/init.lua;/usr/local/lib/lua/5.3/?.lua;/usr/local/lib/lua/5.3/?/init.lua;./?.lua;./?/init.lua"
	aosPackageCPath  = "/usr/local/lib/lua/5.3/?.so;/usr/local/lib/lua/5.3/loadall.so;./?.so"
	aosPackageConfig = "/\n;\n?\n!\n-\n"
)

// installPackage replaces gopher-lua's package library (opened just before) with the host-free one.
func installPackage(L *lua.LState) {
	pkg := L.GetGlobal("package").(*lua.LTable)
	loaded := L.GetField(L.Get(lua.RegistryIndex), "_LOADED")
	preload := pkg.RawGetString("preload")
	fresh := L.NewTable()
	fresh.RawSetString("config", lua.LString(aosPackageConfig))
	fresh.RawSetString("cpath", lua.LString(aosPackageCPath))
	fresh.RawSetString("loaded", loaded)
	fresh.RawSetString("loadlib", L.NewFunction(pkgLoadlib))
	fresh.RawSetString("path", lua.LString(aosPackagePath))
	fresh.RawSetString("preload", preload)
	searchers := L.CreateTable(5, 0)
	for _, s := range []lua.LGFunction{searchPreload, searchAO, searchLua, searchC, searchCRoot} {
		searchers.Append(L.NewFunction(s))
	}
	fresh.RawSetString("searchers", searchers)
	fresh.RawSetString("searchpath", L.NewFunction(pkgSearchpath))
	L.SetGlobal("package", fresh)
	if lt, ok := loaded.(*lua.LTable); ok {
		lt.RawSetString("package", fresh)
	}
	// Lua 5.3's require keeps the package table it was made with (an upvalue), whatever the global
	// "package" is set to later; here the registry holds it.
	L.Get(lua.RegistryIndex).(*lua.LTable).RawSetString(regPackage, fresh)
	L.SetGlobal("require", L.NewFunction(pkgRequire))
}

// regPackage is the registry key of the package table require uses (Lua 5.3's require uses the table
// it was created with, whatever the global "package" is later set to).
const regPackage = "__aonode_package"

func packageTable(L *lua.LState) *lua.LTable {
	t, _ := L.Get(lua.RegistryIndex).(*lua.LTable).RawGetString(regPackage).(*lua.LTable)
	if t == nil {
		L.RaiseError("package library is missing")
	}
	return t
}

// pkgRequire is Lua 5.3's require.
func pkgRequire(L *lua.LState) int {
	name := L.CheckString(1)
	L.SetTop(1)
	pkg := packageTable(L)
	loaded, _ := pkg.RawGetString("loaded").(*lua.LTable)
	if loaded == nil {
		L.RaiseError("'package.loaded' must be a table")
	}
	if v := loaded.RawGetString(name); lua.LVAsBool(v) {
		L.Push(v)
		return 1
	}
	searchers, ok := pkg.RawGetString("searchers").(*lua.LTable)
	if !ok {
		L.RaiseError("'package.searchers' must be a table")
	}
	var msg strings.Builder
	var loader, extra lua.LValue
	for i := 1; ; i++ {
		s := searchers.RawGetInt(i)
		if s == lua.LNil {
			L.RaiseError("module '%s' not found:%s", name, msg.String())
		}
		L.Push(s)
		L.Push(lua.LString(name))
		L.Call(1, 2)
		r, x := L.Get(-2), L.Get(-1)
		L.Pop(2)
		if _, ok := r.(*lua.LFunction); ok {
			loader, extra = r, x
			break
		}
		if str, ok := r.(lua.LString); ok {
			msg.WriteString(string(str))
		}
	}
	L.Push(loader)
	L.Push(lua.LString(name))
	L.Push(extra)
	L.Call(2, 1)
	if r := L.Get(-1); r != lua.LNil {
		loaded.RawSetString(name, r)
	}
	L.Pop(1)
	if loaded.RawGetString(name) == lua.LNil {
		loaded.RawSetString(name, lua.LTrue)
	}
	L.Push(loaded.RawGetString(name))
	return 1
}

func searchPreload(L *lua.LState) int {
	name := L.CheckString(1)
	preload, ok := packageTable(L).RawGetString("preload").(*lua.LTable)
	if !ok {
		L.RaiseError("'package.preload' must be a table")
	}
	if v := preload.RawGetString(name); v != lua.LNil {
		L.Push(v)
		return 1
	}
	L.Push(lua.LString(fmt.Sprintf("\n\tno field package.preload['%s']", name)))
	return 1
}

// goModules are the bundled modules written in Go, by the name require finds them by.
var goModules = func() map[string]lua.LGFunction {
	m := map[string]lua.LGFunction{"json": openJSON, ".bint": openBint, ".chance": openChance,
		".base64": openBase64, ".pretty": openPretty, ".dump": openDump}
	for _, c := range cryptoModules {
		m[c.name] = c.open
	}
	return m
}()

// bundledLoader is the loader of a module bundled with the runtime (a runtime file or a Go module), or
// nil. A runtime file loaded this way gets no Go helpers: its own Lua definitions run.
func bundledLoader(L *lua.LState, name string) *lua.LFunction {
	if open, ok := goModules[name]; ok {
		return L.NewFunction(open)
	}
	if file, ok := modules[name]; ok {
		if rt := runtimeOf(L); rt != nil {
			return L.NewFunctionFromProto(rt.chunks[file])
		}
	}
	return nil
}

// searchAO is the searcher the AOS wasm adds after the preload one: it finds the modules bundled with the
// runtime, by their name or as name.init (so '.crypto' is '.crypto.init'), and otherwise says so.
func searchAO(L *lua.LState) int {
	name := L.CheckString(1)
	for _, n := range []string{name, name + ".init"} {
		if fn := bundledLoader(L, n); fn != nil {
			L.Push(fn)
			return 1
		}
	}
	L.Push(lua.LString("module " + name + " not found"))
	return 1
}

// noFiles is the text Lua 5.3's searchpath gives when none of the candidate files exists, which is
// always the case here: processes have no files.
func noFiles(name, path, sep, rep string) string {
	if sep != "" {
		name = strings.ReplaceAll(name, sep, rep)
	}
	var b strings.Builder
	for _, tmpl := range strings.Split(path, ";") {
		if tmpl == "" {
			continue
		}
		b.WriteString("\n\tno file '")
		b.WriteString(strings.ReplaceAll(tmpl, "?", name))
		b.WriteString("'")
	}
	return b.String()
}

func pathField(L *lua.LState, field string) string {
	s, ok := packageTable(L).RawGetString(field).(lua.LString)
	if !ok {
		L.RaiseError("'package.%s' must be a string", field)
	}
	return string(s)
}

func searchLua(L *lua.LState) int {
	L.Push(lua.LString(noFiles(L.CheckString(1), pathField(L, "path"), ".", "/")))
	return 1
}

func searchC(L *lua.LState) int {
	L.Push(lua.LString(noFiles(L.CheckString(1), pathField(L, "cpath"), ".", "/")))
	return 1
}

func searchCRoot(L *lua.LState) int {
	name := L.CheckString(1)
	dot := strings.IndexByte(name, '.')
	if dot < 0 {
		return 0
	}
	L.Push(lua.LString(noFiles(name[:dot], pathField(L, "cpath"), ".", "/")))
	return 1
}

func pkgSearchpath(L *lua.LState) int {
	name, path := L.CheckString(1), L.CheckString(2)
	sep, rep := L.OptString(3, "."), L.OptString(4, "/")
	L.Push(lua.LNil)
	L.Push(lua.LString(noFiles(name, path, sep, rep)))
	return 2
}

func pkgLoadlib(L *lua.LState) int {
	L.CheckString(1)
	L.CheckString(2)
	L.Push(lua.LNil)
	L.Push(lua.LString("dynamic libraries not enabled; check your Lua installation"))
	L.Push(lua.LString("absent"))
	return 3
}
