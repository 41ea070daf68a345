package aos

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/aonode/aonode/internal/luavm"
	"github.com/aonode/aonode/node/aos/lua53"
)

// Errors as Lua 5.3 words and places them. gopher-lua raises its own messages ("attempt to index a
// non-table object(nil) with key 'x'") and puts the position of the nearest Lua function in front of every
// error a Go function raises; Lua 5.3 says "attempt to index a nil value (local 't')", names what it can
// from the bytecode, and gives a library error the position of the function's caller only when that caller
// is a Lua function (runtime errors raised inside a library function get none at all).
//
// An error is translated once, while the frames that raised it are still on the thread's stack: every
// metered thread's main loop recovers the error on its way out (boundedLoop), translates it and raises it
// again, and pcall and xpcall run their function under an error handler that translates what no main loop
// saw (an error raised by a Go function pcall called directly). gopher-lua unwinds the frames only after
// both. The translation is conservative: a message it does not recognise, or whose position is not the one
// gopher-lua gives, is left as it is.

// translateRaised rewrites the error e the running frame of L raised, once.
func translateRaised(L *lua.LState, m *meter, e *lua.ApiError) {
	if e == m.translated {
		return
	}
	m.translated = e
	e.Object = translateError(L, luavm.CurrentFrame(L), e.Object)
}

// translateError is obj, an error raised in frame f of L, as Lua 5.3 gives it.
func translateError(L *lua.LState, f luavm.Frame, obj lua.LValue) (out lua.LValue) {
	s, ok := obj.(lua.LString)
	if !ok || !f.Valid() || f.Fn() == nil {
		return obj
	}
	defer func() {
		// A translation must never replace the error it was given.
		if recover() != nil {
			out = obj
		}
	}()
	msg := string(s)
	if f.IsLua() {
		prefix := position(f)
		if prefix == "" || !strings.HasPrefix(msg, prefix) {
			return obj
		}
		body, ok := vmError(L, f, msg[len(prefix):])
		if !ok {
			return obj
		}
		return lua.LString(prefix + body)
	}
	if isSelfPositioned(f.Fn()) {
		return obj
	}
	prefix := gopherPrefix(f)
	if !strings.HasPrefix(msg, prefix) {
		return obj
	}
	body := msg[len(prefix):]
	if b, ok := apiError(body); ok {
		// an error of the language itself raised inside a library function: no position (luaG_runerror)
		return lua.LString(b)
	}
	return lua.LString(callerPosition(f) + argError(L, f, body))
}

// position is "chunk:line: " for the instruction Lua frame f is executing, "" when there is none.
func position(f luavm.Frame) string {
	p := f.Fn().Proto
	pc := f.Pc() - 1
	if pc < 0 || pc >= len(p.DbgSourcePositions) {
		return ""
	}
	return p.SourceName + ":" + strconv.Itoa(p.DbgSourcePositions[pc]) + ": "
}

// callerPosition is luaL_where(L, 1) for a Go function's frame f: the position of its caller when that is a
// Lua function, else "".
func callerPosition(f luavm.Frame) string {
	if c := f.Parent(); c.Valid() && c.IsLua() {
		return position(c)
	}
	return ""
}

// gopherPrefix is what gopher-lua puts in front of an error a Go function raises at level 1 in frame f:
// the position of the nearest Lua frame, found as its LState.where(0, true) finds it, and a space.
func gopherPrefix(f luavm.Frame) string {
	for level := 0; ; level++ {
		g, ok := gopherStack(f, level)
		if !ok {
			return " "
		}
		if g.IsLua() {
			pos := position(g)
			if pos == "" {
				return " "
			}
			return pos
		}
	}
}

// gopherStack is gopher-lua's GetStack(level) counted from frame f (it counts a Lua frame's tail calls
// as levels).
func gopherStack(f luavm.Frame, level int) (luavm.Frame, bool) {
	frame := f
	for ; level > 0 && frame.Valid(); frame = frame.Parent() {
		level--
		if frame.IsLua() {
			level -= frame.TailCall()
		}
	}
	if level == 0 && frame.Valid() {
		return frame, true
	}
	if level < 0 {
		root := f
		for p := root.Parent(); p.Valid(); p = p.Parent() {
			root = p
		}
		return root, true
	}
	return luavm.Frame{}, false
}

var (
	reIndex   = regexp.MustCompile(`^attempt to index a non-table object\((\w+)\) with key '(?s:.*)'$`)
	reArith   = regexp.MustCompile(`^cannot perform (add|sub|mul|div|mod|pow|unm) operation between (\w+) and (\w+)$`)
	reConcat  = regexp.MustCompile(`^cannot perform concat operation between (\w+) and (\w+)$`)
	reCompare = regexp.MustCompile(`^attempt to compare (\w+) with (\w+)$`)
	reArg     = regexp.MustCompile(`^(?s)bad argument #(\d+) to (.*?) \((.*)\)$`)
)

// vmError is the 5.3 message for the error gopher-lua's VM raised (body, without its position) at the
// instruction Lua frame f is executing.
func vmError(L *lua.LState, f luavm.Frame, body string) (string, bool) {
	p := f.Fn().Proto
	pc := f.Pc() - 1
	inst := p.Code[pc]
	op := luavm.Op(inst)
	reg := func(r int) lua.LValue {
		if v := luavm.Register(L, f.LocalBase()+r); v != nil {
			return v
		}
		return lua.LNil
	}
	// rk is an RK operand: its value, and its register (-1 for a constant).
	rk := func(x int) (lua.LValue, int) {
		if x&rkBit != 0 {
			return constant(p, x&^rkBit), -1
		}
		return reg(x), x
	}
	varinfo := func(r int) string {
		if r < 0 {
			return ""
		}
		steps := 0
		kind, name := objName(p, pc, r, &steps)
		chargeSteps(L, steps)
		if kind != "" {
			return " (" + kind + " '" + name + "')"
		}
		return ""
	}
	switch {
	case reIndex.MatchString(body):
		t := reIndex.FindStringSubmatch(body)[1]
		r := -1
		switch op {
		case lua.OP_GETTABLE, lua.OP_GETTABLEKS, lua.OP_SELF:
			r = luavm.B(inst)
		case lua.OP_SETTABLE, lua.OP_SETTABLEKS:
			r = luavm.A(inst)
		}
		// the operand itself failed, not a value further down its __index chain
		if r >= 0 && reg(r).Type().String() != t {
			r = -1
		}
		return "attempt to index a " + t + " value" + varinfo(r), true
	case body == "attempt to call a non-function object":
		switch op {
		case lua.OP_CALL, lua.OP_TAILCALL:
			a := luavm.A(inst)
			return "attempt to call a " + typeName(L, reg(a)) + " value" + varinfo(a), true
		case lua.OP_TFORLOOP:
			return "attempt to call a " + typeName(L, reg(luavm.A(inst))) + " value", true
		}
	case reArith.MatchString(body):
		if op < lua.OP_ADD || op > lua.OP_UNM {
			break
		}
		var v lua.LValue
		var r int
		if op == lua.OP_UNM {
			r = luavm.B(inst)
			v = reg(r)
		} else {
			b, rb := rk(luavm.B(inst))
			c, rc := rk(luavm.C(inst))
			// Lua blames the first operand that is not a number (nor a string that reads as one)
			v, r = c, rc
			if _, ok := lua53.ToNumber(b); !ok {
				v, r = b, rb
			}
		}
		return "attempt to perform arithmetic on a " + typeName(L, v) + " value" + varinfo(r), true
	case body == "__unm undefined" && op == lua.OP_UNM:
		r := luavm.B(inst)
		return "attempt to perform arithmetic on a " + typeName(L, reg(r)) + " value" + varinfo(r), true
	case body == "__len undefined" && op == lua.OP_LEN:
		r := luavm.B(inst)
		return "attempt to get length of a " + typeName(L, reg(r)) + " value" + varinfo(r), true
	case reConcat.MatchString(body) && op == lua.OP_CONCAT:
		v, r := concatBlame(L, luavm.B(inst), luavm.C(inst), reg)
		return "attempt to concatenate a " + typeName(L, v) + " value" + varinfo(r), true
	}
	return apiError(body)
}

// concatBlame finds the operand Lua 5.3 reports when concatenating registers b..c fails: it joins from
// the right, and blames the left one of the first pair it cannot join unless that one is a string or a
// number. r is its register, -1 when it is an intermediate result.
func concatBlame(L *lua.LState, b, c int, reg func(int) lua.LValue) (lua.LValue, int) {
	stringy := func(v lua.LValue) bool {
		switch v.(type) {
		case lua.LString, lua.LNumber:
			return true
		}
		return false
	}
	rhs, rr := reg(c), c
	for i := c - 1; i >= b; i-- {
		lhs := reg(i)
		if stringy(lhs) && stringy(rhs) {
			rhs, rr = lua.LString(""), -1
			continue
		}
		if L.GetMetaField(lhs, "__concat") != lua.LNil || L.GetMetaField(rhs, "__concat") != lua.LNil {
			// a metamethod joined them; its result is no register
			rhs, rr = lua.LNil, -1
			continue
		}
		if stringy(lhs) {
			return rhs, rr
		}
		return lhs, i
	}
	return rhs, rr
}

// apiError is the 5.3 wording of a language error gopher-lua raised, where nothing names the values.
func apiError(body string) (string, bool) {
	switch {
	case reIndex.MatchString(body):
		return "attempt to index a " + reIndex.FindStringSubmatch(body)[1] + " value", true
	case reArith.MatchString(body):
		m := reArith.FindStringSubmatch(body)
		t := m[2]
		if t == "number" {
			t = m[3]
		}
		return "attempt to perform arithmetic on a " + t + " value", true
	case reConcat.MatchString(body):
		m := reConcat.FindStringSubmatch(body)
		t := m[1]
		if t == "string" || t == "number" {
			t = m[2]
		}
		return "attempt to concatenate a " + t + " value", true
	case reCompare.MatchString(body):
		m := reCompare.FindStringSubmatch(body)
		return orderError(m[1], m[2]), true
	case body == "for statement init must be a number":
		return "'for' initial value must be a number", true
	case body == "for statement limit must be a number":
		return "'for' limit must be a number", true
	case body == "for statement step must be a number":
		return "'for' step must be a number", true
	case body == "too many recursions in gettable":
		return "'__index' chain too long; possible loop", true
	case body == "too many recursions in settable":
		return "'__newindex' chain too long; possible loop", true
	case body == "can not yield from outside of a coroutine":
		return "attempt to yield from outside a coroutine", true
	case body == "table index is nil", body == "table index is NaN":
		return body, true
	}
	return "", false
}

// orderError is Lua 5.3's error for an order comparison of values of types t1 and t2 it cannot compare.
func orderError(t1, t2 string) string {
	if t1 == t2 {
		return "attempt to compare two " + t1 + " values"
	}
	return "attempt to compare " + t1 + " with " + t2
}

// argError rewrites gopher-lua's "bad argument #n to f (msg)" as luaL_argerror words it: the function
// named as its caller called it (or by its global name), a method's self not counted, and an argument
// that was not given is "no value".
func argError(L *lua.LState, f luavm.Frame, body string) string {
	m := reArg.FindStringSubmatch(body)
	if m == nil || strings.HasPrefix(m[2], "'") {
		return body // not gopher-lua's, or already worded as 5.3 does (node/aos/strlib)
	}
	n, err := strconv.Atoi(m[1])
	if err != nil {
		return body
	}
	extra := m[3]
	if strings.HasSuffix(extra, ", got nil") && n > f.NArgs() {
		extra = strings.TrimSuffix(extra, "nil") + "no value"
	}
	if (strings.HasSuffix(extra, ", got table") || strings.HasSuffix(extra, ", got userdata")) && n <= f.NArgs() {
		// gopher-lua names the type; 5.3 names a value by its metatable's __name (luaT_objtypename). The
		// erring Go function's frame is still the current one, so its argument n is at hand.
		if cur := luavm.CurrentFrame(L); cur == f {
			extra = extra[:strings.LastIndex(extra, " ")+1] + typeName(L, L.Get(n))
		}
	}
	steps := 0
	kind, name := frameName(f, &steps)
	chargeSteps(L, steps)
	if kind == "method" {
		if n--; n == 0 {
			return fmt.Sprintf("calling '%s' on bad self (%s)", name, extra)
		}
	}
	if kind == "" {
		if name = globalFuncName(L, f.Fn()); name == "" {
			name = "?"
		}
	}
	return fmt.Sprintf("bad argument #%d to '%s' (%s)", n, name, extra)
}

// Reading a function's bytecode to name a variable, walking the stack for an error level or a traceback,
// searching the loaded modules for a function's name: work a process can make the node repeat, charged
// like any other (measured: a frame walked costs about half an instruction, an instruction of bytecode
// read or a table entry visited a sixteenth).
const (
	codeStepsPerInstruction  = 16
	frameStepsPerInstruction = 2
)

// chargeSteps charges steps of reading bytecode or tables to the running message.
func chargeSteps(L *lua.LState, steps int) { charge(L, int64(steps/codeStepsPerInstruction)) }

// chargeFrames charges a walk over frames.
func chargeFrames(L *lua.LState, frames int) { charge(L, int64(frames/frameStepsPerInstruction)) }

// typeName is luaT_objtypename: a table's or userdata's __name when it is a string, else its type.
func typeName(L *lua.LState, v lua.LValue) string {
	switch v.(type) {
	case *lua.LTable, *lua.LUserData:
		if mt, ok := L.GetMetatable(v).(*lua.LTable); ok {
			if s, ok := mt.RawGetString("__name").(lua.LString); ok {
				return string(s)
			}
		}
	}
	return v.Type().String()
}

// globalNameLimit bounds the entries globalFuncName looks at, so an error costs a bounded search.
const globalNameLimit = 4096

// globalFuncName is the name package.loaded gives fn (lauxlib's pushglobalfuncname): "mod.name" for a
// function in a loaded module, "name" for a global, "" when none. Modules are searched in sorted order,
// _G first.
func globalFuncName(L *lua.LState, fn *lua.LFunction) string {
	loaded, ok := L.G.Registry.RawGetString("_LOADED").(*lua.LTable)
	if !ok || fn == nil {
		return ""
	}
	var mods []string
	budget := globalNameLimit
	defer func() { chargeSteps(L, globalNameLimit-budget) }()
	for k, _ := loaded.Next(lua.LNil); k != lua.LNil && budget > 0; k, _ = loaded.Next(k) {
		budget--
		if s, ok := k.(lua.LString); ok {
			mods = append(mods, string(s))
		}
	}
	sortModules(mods)
	for _, mod := range mods {
		v := loaded.RawGetString(mod)
		if v == fn {
			return mod
		}
		t, ok := v.(*lua.LTable)
		if !ok {
			continue
		}
		for k, x := t.Next(lua.LNil); k != lua.LNil && budget > 0; k, x = t.Next(k) {
			budget--
			if s, ok := k.(lua.LString); ok && x == fn {
				if mod == "_G" {
					return string(s)
				}
				return mod + "." + string(s)
			}
		}
	}
	return ""
}

// sortModules orders module names with _G first, then as strings sort.
func sortModules(mods []string) {
	for i := 1; i < len(mods); i++ {
		for j := i; j > 0 && moduleLess(mods[j], mods[j-1]); j-- {
			mods[j], mods[j-1] = mods[j-1], mods[j]
		}
	}
}

func moduleLess(a, b string) bool {
	if (a == "_G") != (b == "_G") {
		return a == "_G"
	}
	return a < b
}
