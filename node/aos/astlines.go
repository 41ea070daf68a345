package aos

import (
	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/ast"
)

// Local scopes by statement, not by line. repairLocals places the end of a block whose end gopher-lua
// did not keep from the source lines: the last instruction of a line the block reaches. When the block
// ends on the line the next statement runs (`do local y = 1 end local s = tostring()`, the usual shape
// of a one-line Eval), that instruction is the next statement's, so an error there named the block's
// local ("bad argument #1 to 'y'"). repairByStatement compiles the chunk a second time with every node
// numbered in source order instead of its line: the code is the same, the "lines" then tell statements
// apart, and the scope ends found on that copy are given to the real prototype.

// repairByStatement sets the DbgLocals scope ends of proto (compiled from chunk) as repairLocals does,
// from a compile of chunk whose nodes carry their source-order numbers; when the two compiles differ in
// code (they never should), it repairs from the lines.
func repairByStatement(chunk []ast.Stmt, proto *lua.FunctionProto, name string) {
	var saved []savedLines
	n := 0
	walkPositions(chunk, func(p ast.PositionHolder) int {
		saved = append(saved, savedLines{p, p.Line(), p.LastLine()})
		n++
		p.SetLine(n)
		return n
	}, func(p ast.PositionHolder, last int) { p.SetLastLine(last) })
	shadow, err := lua.Compile(chunk, name)
	if err == nil && sameCode(shadow, proto) {
		repairLocals(chunk, shadow)
	}
	for _, s := range saved {
		s.node.SetLine(s.line)
		s.node.SetLastLine(s.last)
	}
	if err == nil && sameCode(shadow, proto) {
		copyScopeEnds(shadow, proto)
		return
	}
	repairLocals(chunk, proto)
}

type savedLines struct {
	node       ast.PositionHolder
	line, last int
}

func sameCode(a, b *lua.FunctionProto) bool {
	if len(a.Code) != len(b.Code) || len(a.DbgLocals) != len(b.DbgLocals) || len(a.FunctionPrototypes) != len(b.FunctionPrototypes) {
		return false
	}
	for i := range a.Code {
		if a.Code[i] != b.Code[i] {
			return false
		}
	}
	for i := range a.FunctionPrototypes {
		if !sameCode(a.FunctionPrototypes[i], b.FunctionPrototypes[i]) {
			return false
		}
	}
	return true
}

func copyScopeEnds(from, to *lua.FunctionProto) {
	for i := range from.DbgLocals {
		to.DbgLocals[i].EndPc = from.DbgLocals[i].EndPc
	}
	for i := range from.FunctionPrototypes {
		copyScopeEnds(from.FunctionPrototypes[i], to.FunctionPrototypes[i])
	}
}

// walkPositions calls enter on every statement and expression of list in source order (a node before its
// parts) and leave after its parts, with the largest number enter gave within it.
func walkPositions(list []ast.Stmt, enter func(ast.PositionHolder) int, leave func(ast.PositionHolder, int)) int {
	w := posWalker{enter: enter, leave: leave}
	last := 0
	for _, st := range list {
		last = max(last, w.stmt(st))
	}
	return last
}

type posWalker struct {
	enter func(ast.PositionHolder) int
	leave func(ast.PositionHolder, int)
}

func (w posWalker) stmts(list []ast.Stmt, last int) int {
	for _, st := range list {
		last = max(last, w.stmt(st))
	}
	return last
}

func (w posWalker) exprs(list []ast.Expr, last int) int {
	for _, e := range list {
		last = max(last, w.expr(e))
	}
	return last
}

func (w posWalker) stmt(st ast.Stmt) int {
	last := w.enter(st)
	switch s := st.(type) {
	case *ast.AssignStmt:
		last = w.exprs(s.Rhs, w.exprs(s.Lhs, last))
	case *ast.LocalAssignStmt:
		last = w.exprs(s.Exprs, last)
	case *ast.FuncCallStmt:
		last = max(last, w.expr(s.Expr))
	case *ast.DoBlockStmt:
		last = w.stmts(s.Stmts, last)
	case *ast.WhileStmt:
		last = w.stmts(s.Stmts, max(last, w.expr(s.Condition)))
	case *ast.RepeatStmt:
		last = max(w.stmts(s.Stmts, last), w.expr(s.Condition))
	case *ast.IfStmt:
		last = w.stmts(s.Else, w.stmts(s.Then, max(last, w.expr(s.Condition))))
	case *ast.NumberForStmt:
		last = w.exprs([]ast.Expr{s.Init, s.Limit}, last)
		if s.Step != nil {
			last = max(last, w.expr(s.Step))
		}
		last = w.stmts(s.Stmts, last)
	case *ast.GenericForStmt:
		last = w.stmts(s.Stmts, w.exprs(s.Exprs, last))
	case *ast.FuncDefStmt:
		if s.Name != nil {
			if s.Name.Func != nil {
				last = max(last, w.expr(s.Name.Func))
			}
			if s.Name.Receiver != nil {
				last = max(last, w.expr(s.Name.Receiver))
			}
		}
		last = max(last, w.expr(s.Func))
	case *ast.ReturnStmt:
		last = w.exprs(s.Exprs, last)
	}
	w.leave(st, last)
	return last
}

func (w posWalker) expr(e ast.Expr) int {
	if e == nil {
		return 0
	}
	last := w.enter(e)
	switch x := e.(type) {
	case *ast.AttrGetExpr:
		last = w.exprs([]ast.Expr{x.Object, x.Key}, last)
	case *ast.TableExpr:
		for _, f := range x.Fields {
			if f.Key != nil {
				last = max(last, w.expr(f.Key))
			}
			last = max(last, w.expr(f.Value))
		}
	case *ast.FuncCallExpr:
		if x.Func != nil {
			last = max(last, w.expr(x.Func))
		}
		if x.Receiver != nil {
			last = max(last, w.expr(x.Receiver))
		}
		last = w.exprs(x.Args, last)
	case *ast.LogicalOpExpr:
		last = w.exprs([]ast.Expr{x.Lhs, x.Rhs}, last)
	case *ast.RelationalOpExpr:
		last = w.exprs([]ast.Expr{x.Lhs, x.Rhs}, last)
	case *ast.StringConcatOpExpr:
		last = w.exprs([]ast.Expr{x.Lhs, x.Rhs}, last)
	case *ast.ArithmeticOpExpr:
		last = w.exprs([]ast.Expr{x.Lhs, x.Rhs}, last)
	case *ast.UnaryMinusOpExpr:
		last = max(last, w.expr(x.Expr))
	case *ast.UnaryNotOpExpr:
		last = max(last, w.expr(x.Expr))
	case *ast.UnaryLenOpExpr:
		last = max(last, w.expr(x.Expr))
	case *ast.FunctionExpr:
		last = w.stmts(x.Stmts, last)
	}
	w.leave(e, last)
	return last
}
