package aos

import "github.com/yuin/gopher-lua/ast"

// astVisitor is what walkAST does at the nodes of a chunk, in source order. Any field may be nil.
type astVisitor struct {
	// expr is called on an expression first: it gives the expression to keep in its place, and whether
	// to walk into it (a replaced or finished expression is not visited further).
	expr func(ast.Expr) (ast.Expr, bool)
	// enter and leave are called on every statement and expression walked, before and after its parts.
	enter, leave func(ast.PositionHolder)
}

// walkAST walks every statement and expression of list, nested functions included.
func walkAST(list []ast.Stmt, v astVisitor) {
	w := astWalker{v}
	w.stmts(list)
}

type astWalker struct{ v astVisitor }

func (w astWalker) stmts(list []ast.Stmt) {
	for _, st := range list {
		w.stmt(st)
	}
}

func (w astWalker) exprs(list []ast.Expr) {
	for i, e := range list {
		list[i] = w.expr(e)
	}
}

func (w astWalker) stmt(st ast.Stmt) {
	if w.v.enter != nil {
		w.v.enter(st)
	}
	switch s := st.(type) {
	case *ast.AssignStmt:
		w.exprs(s.Lhs)
		w.exprs(s.Rhs)
	case *ast.LocalAssignStmt:
		w.exprs(s.Exprs)
	case *ast.FuncCallStmt:
		s.Expr = w.expr(s.Expr)
	case *ast.DoBlockStmt:
		w.stmts(s.Stmts)
	case *ast.WhileStmt:
		s.Condition = w.expr(s.Condition)
		w.stmts(s.Stmts)
	case *ast.RepeatStmt:
		w.stmts(s.Stmts)
		s.Condition = w.expr(s.Condition)
	case *ast.IfStmt:
		s.Condition = w.expr(s.Condition)
		w.stmts(s.Then)
		w.stmts(s.Else)
	case *ast.NumberForStmt:
		s.Init, s.Limit, s.Step = w.expr(s.Init), w.expr(s.Limit), w.expr(s.Step)
		w.stmts(s.Stmts)
	case *ast.GenericForStmt:
		w.exprs(s.Exprs)
		w.stmts(s.Stmts)
	case *ast.FuncDefStmt:
		if s.Name != nil {
			s.Name.Func, s.Name.Receiver = w.expr(s.Name.Func), w.expr(s.Name.Receiver)
		}
		w.expr(s.Func)
	case *ast.ReturnStmt:
		w.exprs(s.Exprs)
	}
	if w.v.leave != nil {
		w.v.leave(st)
	}
}

// expr walks e and gives what is to stand in its place (e itself unless the visitor replaced it).
func (w astWalker) expr(e ast.Expr) ast.Expr {
	if e == nil {
		return nil
	}
	if w.v.expr != nil {
		r, walk := w.v.expr(e)
		if !walk {
			return r
		}
		e = r
	}
	if w.v.enter != nil {
		w.v.enter(e)
	}
	switch x := e.(type) {
	case *ast.AttrGetExpr:
		x.Object, x.Key = w.expr(x.Object), w.expr(x.Key)
	case *ast.TableExpr:
		for _, f := range x.Fields {
			f.Key, f.Value = w.expr(f.Key), w.expr(f.Value)
		}
	case *ast.FuncCallExpr:
		x.Func, x.Receiver = w.expr(x.Func), w.expr(x.Receiver)
		w.exprs(x.Args)
	case *ast.LogicalOpExpr:
		x.Lhs, x.Rhs = w.expr(x.Lhs), w.expr(x.Rhs)
	case *ast.RelationalOpExpr:
		x.Lhs, x.Rhs = w.expr(x.Lhs), w.expr(x.Rhs)
	case *ast.StringConcatOpExpr:
		x.Lhs, x.Rhs = w.expr(x.Lhs), w.expr(x.Rhs)
	case *ast.ArithmeticOpExpr:
		x.Lhs, x.Rhs = w.expr(x.Lhs), w.expr(x.Rhs)
	case *ast.UnaryMinusOpExpr:
		x.Expr = w.expr(x.Expr)
	case *ast.UnaryNotOpExpr:
		x.Expr = w.expr(x.Expr)
	case *ast.UnaryLenOpExpr:
		x.Expr = w.expr(x.Expr)
	case *ast.FunctionExpr:
		w.stmts(x.Stmts)
	}
	if w.v.leave != nil {
		w.v.leave(e)
	}
	return e
}
