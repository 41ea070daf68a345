package aos

import (
	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/ast"
)

// gopher-lua's compiler records where each local variable's scope ends in the wrong entry of the
// prototype's DbgLocals: when a block closes it writes the end into the entries numbered like the block's
// registers, but entries are numbered in declaration order, and registers are reused. So once a block with
// locals has closed, later locals have no end, or another's. Error messages name locals from this table
// (objname.go), so every chunk's table is rebuilt after compiling (repairLocals): the declarations and the
// block closings are replayed from the syntax tree in the order the compiler makes them, which tells each
// entry its block and which writes survived; a closing whose write was overwritten is placed by the line
// numbers of the code around it.

// scopeEvent is a declaration (name != "") or the closing of a block of n locals at register reg.
type scopeEvent struct {
	name     string
	closeN   int
	closeReg int
	endLine  int // last line of the closed block
}

// funcScopes replays one function's declarations and closings.
type funcScopes struct {
	events []scopeEvent
	active int   // registers in use by locals
	blocks []int // the active count at each open block's start
	funcs  []*ast.FunctionExpr
}

func (s *funcScopes) declare(names ...string) {
	for _, n := range names {
		s.events = append(s.events, scopeEvent{name: n})
		s.active++
	}
}

func (s *funcScopes) enter() { s.blocks = append(s.blocks, s.active) }

func (s *funcScopes) leave(endLine int) {
	start := s.blocks[len(s.blocks)-1]
	s.blocks = s.blocks[:len(s.blocks)-1]
	s.events = append(s.events, scopeEvent{closeN: s.active - start, closeReg: start, endLine: endLine})
	s.active = start
}

func lastLine(n ast.PositionHolder) int {
	if l := n.LastLine(); l != 0 {
		return l
	}
	return n.Line()
}

func (s *funcScopes) stmts(list []ast.Stmt) {
	for _, st := range list {
		s.stmt(st)
	}
}

func (s *funcScopes) stmt(st ast.Stmt) {
	switch x := st.(type) {
	case *ast.LocalAssignStmt:
		s.exprs(x.Exprs...)
		s.declare(x.Names...)
	case *ast.AssignStmt:
		s.exprs(x.Lhs...)
		s.exprs(x.Rhs...)
	case *ast.FuncCallStmt:
		s.exprs(x.Expr)
	case *ast.DoBlockStmt:
		s.enter()
		s.stmts(x.Stmts)
		s.leave(lastLine(x))
	case *ast.WhileStmt:
		s.exprs(x.Condition)
		s.enter()
		s.stmts(x.Stmts)
		s.leave(lastLine(x))
	case *ast.RepeatStmt:
		s.enter()
		s.stmts(x.Stmts)
		s.exprs(x.Condition)
		s.leave(lastLine(x))
	case *ast.IfStmt:
		s.exprs(x.Condition)
		s.block(x.Then)
		s.block(x.Else)
	case *ast.NumberForStmt:
		s.enter()
		s.declare("(for index)")
		s.exprs(x.Init)
		s.declare("(for limit)")
		s.exprs(x.Limit)
		s.declare("(for step)")
		if x.Step != nil {
			s.exprs(x.Step)
		}
		s.declare(x.Name)
		s.stmts(x.Stmts)
		s.leave(lastLine(x))
	case *ast.GenericForStmt:
		s.enter()
		s.declare("(for generator)", "(for state)", "(for control)")
		s.exprs(x.Exprs...)
		s.declare(x.Names...)
		s.stmts(x.Stmts)
		s.leave(lastLine(x))
	case *ast.FuncDefStmt:
		if x.Name.Func == nil {
			s.exprs(x.Name.Receiver)
		} else {
			s.exprs(x.Name.Func)
		}
		s.exprs(x.Func)
	case *ast.ReturnStmt:
		s.exprs(x.Exprs...)
	}
}

// block is the compiler's compileBlock: a block only when it has statements.
func (s *funcScopes) block(list []ast.Stmt) {
	if len(list) == 0 {
		return
	}
	s.enter()
	s.stmts(list)
	s.leave(lastLine(list[len(list)-1]))
}

// exprs records the function expressions in ex, in source order (the order the compiler makes their
// prototypes).
func (s *funcScopes) exprs(list ...ast.Expr) {
	for _, e := range list {
		switch x := e.(type) {
		case *ast.FunctionExpr:
			s.funcs = append(s.funcs, x)
		case *ast.AttrGetExpr:
			s.exprs(x.Object, x.Key)
		case *ast.TableExpr:
			for _, f := range x.Fields {
				if f.Key != nil {
					s.exprs(f.Key)
				}
				s.exprs(f.Value)
			}
		case *ast.FuncCallExpr:
			if x.Func != nil {
				s.exprs(x.Func)
			}
			if x.Receiver != nil {
				s.exprs(x.Receiver)
			}
			s.exprs(x.Args...)
		case *ast.LogicalOpExpr:
			s.exprs(x.Lhs, x.Rhs)
		case *ast.RelationalOpExpr:
			s.exprs(x.Lhs, x.Rhs)
		case *ast.StringConcatOpExpr:
			s.exprs(x.Lhs, x.Rhs)
		case *ast.ArithmeticOpExpr:
			s.exprs(x.Lhs, x.Rhs)
		case *ast.UnaryMinusOpExpr:
			s.exprs(x.Expr)
		case *ast.UnaryNotOpExpr:
			s.exprs(x.Expr)
		case *ast.UnaryLenOpExpr:
			s.exprs(x.Expr)
		}
	}
}

// repairLocals rebuilds the DbgLocals of proto, compiled from chunk, and of the functions in it.
func repairLocals(chunk []ast.Stmt, proto *lua.FunctionProto) {
	repairFunc(nil, chunk, proto, true)
}

func repairFunc(fe *ast.FunctionExpr, body []ast.Stmt, p *lua.FunctionProto, main bool) {
	s := &funcScopes{}
	s.enter()
	if fe != nil {
		if p.NumParameters > uint8(len(fe.ParList.Names)) { // a method's self
			s.declare("self")
		}
		s.declare(fe.ParList.Names...)
		if fe.ParList.HasVargs && lua.CompatVarArg && !main {
			s.declare("arg")
		}
	}
	s.stmts(body)
	s.leave(p.LastLineDefined)
	setEnds(s.events, p)
	if len(s.funcs) != len(p.FunctionPrototypes) {
		return
	}
	for i, f := range s.funcs {
		child := p.FunctionPrototypes[i]
		if child.LineDefined != f.Line() || child.LastLineDefined != lastLine(f) {
			return // not the function the prototype was compiled from: leave the rest as it is
		}
		repairFunc(f, f.Stmts, child, false)
	}
}

// setEnds gives each DbgLocals entry of p the last instruction of its scope, from the replayed events.
func setEnds(events []scopeEvent, p *lua.FunctionProto) {
	locals := p.DbgLocals
	// the declarations must be the table's entries, in order
	var decl []int // event index of each entry
	for i, e := range events {
		if e.name != "" {
			decl = append(decl, i)
		}
	}
	if len(decl) != len(locals) {
		return
	}
	for n, i := range decl {
		if locals[n].Name != events[i].name {
			return
		}
	}
	// Replay the compiler's writes (entry index = register) to see which closing each surviving value
	// comes from; that closing's instruction is then known exactly.
	lastWriter := make([]int, len(locals))
	for i := range lastWriter {
		lastWriter[i] = -1
	}
	for i, e := range events {
		if e.name != "" {
			continue
		}
		for r := e.closeReg; r < e.closeReg+e.closeN && r < len(lastWriter); r++ {
			lastWriter[r] = i
		}
	}
	closePc := make(map[int]int)
	for r, i := range lastWriter {
		if i >= 0 {
			closePc[i] = locals[r].EndPc
		}
	}
	lastPc := len(p.Code) - 1
	// Each entry ends at the closing of its block; a declaration's StartPc bounds the closings around it.
	var stack []int // entries of the open blocks, innermost last
	entry := 0
	ends := make([]int, len(locals))
	for i, e := range events {
		if e.name != "" {
			stack = append(stack, entry)
			entry++
			continue
		}
		pc, ok := closePc[i]
		if !ok {
			pc = placeClose(p, events, i, decl, lastPc)
		}
		for k := 0; k < e.closeN && len(stack) > 0; k++ {
			ends[stack[len(stack)-1]] = pc
			stack = stack[:len(stack)-1]
		}
	}
	for n := range locals {
		locals[n].EndPc = ends[n]
	}
}

// placeClose finds where the closing event i, whose write the compiler overwrote, happened: after the last
// declaration before it, before the next declaration, at the last instruction of a line no later than the
// block's last line.
func placeClose(p *lua.FunctionProto, events []scopeEvent, i int, decl []int, lastPc int) int {
	lo, hi := 0, lastPc
	for n, j := range decl {
		if j < i {
			lo = max(lo, p.DbgLocals[n].StartPc-1)
		} else {
			hi = min(hi, p.DbgLocals[n].StartPc-1)
			break
		}
	}
	pc := lo
	for q := lo; q <= hi && q < len(p.DbgSourcePositions); q++ {
		if p.DbgSourcePositions[q] <= events[i].endLine {
			pc = q
		}
	}
	return pc
}
