package aos

import (
	lua "github.com/yuin/gopher-lua"

	"github.com/aonode/aonode/internal/luavm"
)

// Lua 5.3 names the variable an error is about ("attempt to index a nil value (local 't')") and the function a
// frame runs ("bad argument #1 to 'upper'", "in function 'f'") from the bytecode: which instruction last set
// the register, reading it symbolically as ldebug.c's getobjname does. The same reading works on
// gopher-lua's bytecode, a Lua 5.1 dialect: globals come from GETGLOBAL instead of a GETTABUP of _ENV, and
// a few instructions differ (MOVEN, LOADNIL's range, TFORLOOP).

// rkBit marks a constant operand (RK) in an instruction's B or C field.
const rkBit = 1 << 8

// localName is the name of the local variable register reg holds at instruction pc of p, or "" when it
// holds none (Lua's luaF_getlocalname: the n-th active local is register n-1).
func localName(p *lua.FunctionProto, reg, pc int) string {
	n := reg + 1
	for _, l := range p.DbgLocals {
		if l.StartPc > pc {
			break
		}
		// EndPc is the last instruction of the scope (repaired when the chunk was compiled: dbglocals.go)
		if pc <= l.EndPc {
			if n--; n == 0 {
				return l.Name
			}
		}
	}
	return ""
}

// objName describes the value register reg holds at instruction pc of p: its kind ("local", "global",
// "field", "upvalue", "constant" or "method") and name, or "" when the code does not tell. steps counts the
// instructions read, the work its caller charges.
func objName(p *lua.FunctionProto, pc, reg int, steps *int) (kind, name string) {
	if name := localName(p, reg, pc); name != "" {
		return "local", name
	}
	setpc := findSetReg(p, pc, reg, steps)
	if setpc < 0 {
		return "", ""
	}
	inst := p.Code[setpc]
	switch luavm.Op(inst) {
	case lua.OP_MOVE, lua.OP_MOVEN:
		if b := luavm.B(inst); b < luavm.A(inst) {
			return objName(p, setpc, b, steps)
		}
	case lua.OP_GETTABLE, lua.OP_GETTABLEKS:
		return "field", keyName(p, setpc, luavm.C(inst), steps)
	case lua.OP_GETGLOBAL:
		if s, ok := constant(p, luavm.Bx(inst)).(lua.LString); ok {
			return "global", string(s)
		}
	case lua.OP_GETUPVAL:
		if b := luavm.B(inst); b < len(p.DbgUpvalues) {
			return "upvalue", p.DbgUpvalues[b]
		}
	case lua.OP_LOADK:
		if s, ok := constant(p, luavm.Bx(inst)).(lua.LString); ok {
			return "constant", string(s)
		}
	case lua.OP_SELF:
		return "method", keyName(p, setpc, luavm.C(inst), steps)
	}
	return "", ""
}

func constant(p *lua.FunctionProto, i int) lua.LValue {
	if i < 0 || i >= len(p.Constants) {
		return lua.LNil
	}
	return p.Constants[i]
}

// keyName is the name of an index operand: a string constant, or a register loaded with one; "?" otherwise.
func keyName(p *lua.FunctionProto, pc, c int, steps *int) string {
	if c&rkBit != 0 {
		if s, ok := constant(p, c&^rkBit).(lua.LString); ok {
			return string(s)
		}
		return "?"
	}
	if kind, name := objName(p, pc, c, steps); kind == "constant" {
		return name
	}
	return "?"
}

// findSetReg is the last instruction before lastpc that set register reg, or -1 when that depends on a jump
// taken or not (ldebug.c's findsetreg).
func findSetReg(p *lua.FunctionProto, lastpc, reg int, steps *int) int {
	setreg, jmptarget := -1, 0
	filter := func(pc int) int {
		if pc < jmptarget {
			return -1
		}
		return pc
	}
	*steps += lastpc
	for pc := 0; pc < lastpc && pc < len(p.Code); pc++ {
		inst := p.Code[pc]
		a := luavm.A(inst)
		switch op := luavm.Op(inst); op {
		case lua.OP_LOADNIL: // sets registers a to b
			if a <= reg && reg <= luavm.B(inst) {
				setreg = filter(pc)
			}
		case lua.OP_TFORLOOP: // sets the control variable and every register above
			if reg >= a+2 {
				setreg = filter(pc)
			}
		case lua.OP_CALL, lua.OP_TAILCALL: // sets every register from its base on
			if reg >= a {
				setreg = filter(pc)
			}
		case lua.OP_JMP:
			dest := pc + 1 + luavm.SBx(inst)
			if pc < dest && dest <= lastpc && dest > jmptarget {
				jmptarget = dest
			}
		default:
			if setsA(op) && reg == a {
				setreg = filter(pc)
			}
		}
	}
	return setreg
}

// setsA reports whether instructions with opcode op write register A.
func setsA(op int) bool {
	switch op {
	case lua.OP_MOVE, lua.OP_MOVEN, lua.OP_LOADK, lua.OP_LOADBOOL, lua.OP_LOADNIL, lua.OP_GETUPVAL,
		lua.OP_GETGLOBAL, lua.OP_GETTABLE, lua.OP_GETTABLEKS, lua.OP_NEWTABLE, lua.OP_SELF,
		lua.OP_ADD, lua.OP_SUB, lua.OP_MUL, lua.OP_DIV, lua.OP_MOD, lua.OP_POW, lua.OP_UNM, lua.OP_NOT,
		lua.OP_LEN, lua.OP_CONCAT, lua.OP_TEST, lua.OP_TESTSET, lua.OP_CALL, lua.OP_TAILCALL,
		lua.OP_FORLOOP, lua.OP_FORPREP, lua.OP_CLOSURE, lua.OP_VARARG:
		return true
	}
	return false
}

// funcNameFromCall is how Lua 5.3 names the function a frame runs, from the instruction of its caller
// (frame caller, a Lua frame) that called it: ldebug.c's funcnamefromcode. kind is "global", "local",
// "method", "field", "upvalue", "constant", "for iterator" or "metamethod"; "" when nothing tells.
func funcNameFromCall(caller luavm.Frame, steps *int) (kind, name string) {
	p := caller.Fn().Proto
	pc := caller.Pc() - 1
	if pc < 0 || pc >= len(p.Code) {
		return "", ""
	}
	inst := p.Code[pc]
	switch luavm.Op(inst) {
	case lua.OP_CALL, lua.OP_TAILCALL:
		return objName(p, pc, luavm.A(inst), steps)
	case lua.OP_TFORLOOP:
		return "for iterator", "for iterator"
	case lua.OP_SELF, lua.OP_GETTABLE, lua.OP_GETTABLEKS, lua.OP_GETGLOBAL:
		return "metamethod", "index"
	case lua.OP_SETTABLE, lua.OP_SETTABLEKS, lua.OP_SETGLOBAL:
		return "metamethod", "newindex"
	case lua.OP_ADD:
		return "metamethod", "add"
	case lua.OP_SUB:
		return "metamethod", "sub"
	case lua.OP_MUL:
		return "metamethod", "mul"
	case lua.OP_DIV:
		return "metamethod", "div"
	case lua.OP_MOD:
		return "metamethod", "mod"
	case lua.OP_POW:
		return "metamethod", "pow"
	case lua.OP_UNM:
		return "metamethod", "unm"
	case lua.OP_LEN:
		return "metamethod", "len"
	case lua.OP_CONCAT:
		return "metamethod", "concat"
	case lua.OP_EQ:
		return "metamethod", "eq"
	case lua.OP_LT:
		return "metamethod", "lt"
	case lua.OP_LE:
		return "metamethod", "le"
	}
	return "", ""
}

// frameName is the 5.3 name of the function frame f runs, as its caller called it (ldebug.c's
// getfuncname): nothing for a tail call or a call from Go.
func frameName(f luavm.Frame, steps *int) (kind, name string) {
	if f.TailCall() > 0 {
		return "", ""
	}
	caller := f.Parent()
	if !caller.Valid() || !caller.IsLua() {
		return "", ""
	}
	return funcNameFromCall(caller, steps)
}
