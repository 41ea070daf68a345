package aos

import (
	"math"
	"strconv"
	"strings"

	"github.com/yuin/gopher-lua/ast"
)

// keepNegativeZero rewrites, before compiling, each constant expression gopher-lua's compiler would fold
// to -0, as Lua 5.3 evaluates it:
//   - a float expression (`-0.0`, `0.0 * -1`) becomes -"0", which the VM negates when it runs (OP_UNM
//     converts the string): -0, as in 5.3, which never folds an operation whose result is zero
//     (lcode.c's constfolding) and computes it;
//   - an integer expression (`-0`, `0 * -1`: integers in 5.3, which have no negative zero) becomes 0.
//
// Folded, -0 became a constant of the function, and gopher-lua's constant table finds an existing
// constant by ==, under which -0 equals 0: `-0.0` was 0 in a function that also had the constant 0 (so
// `{ 0, -0.0 }` encoded to JSON as [0,0], and 1/x was inf), and -0 in one that had not (so `-0` was -0).
func keepNegativeZero(chunk []ast.Stmt) {
	var w zeroWalker
	w.stmts(chunk)
}

type zeroWalker struct{}

func (w zeroWalker) stmts(list []ast.Stmt) {
	for _, st := range list {
		w.stmt(st)
	}
}

func (w zeroWalker) stmt(st ast.Stmt) {
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
		s.Init, s.Limit = w.expr(s.Init), w.expr(s.Limit)
		if s.Step != nil {
			s.Step = w.expr(s.Step)
		}
		w.stmts(s.Stmts)
	case *ast.GenericForStmt:
		w.exprs(s.Exprs)
		w.stmts(s.Stmts)
	case *ast.FuncDefStmt:
		w.stmts(s.Func.Stmts)
	case *ast.ReturnStmt:
		w.exprs(s.Exprs)
	}
}

func (w zeroWalker) exprs(list []ast.Expr) {
	for i, e := range list {
		list[i] = w.expr(e)
	}
}

// expr is e with its sub-expressions rewritten, or -"0" when e folds to -0.
func (w zeroWalker) expr(e ast.Expr) ast.Expr {
	switch x := e.(type) {
	case *ast.NumberExpr, *ast.ArithmeticOpExpr, *ast.UnaryMinusOpExpr:
		if v, isInt, ok := foldedValue(e); ok {
			if v == 0 && math.Signbit(v) {
				var n ast.Expr = &ast.NumberExpr{Value: "0"}
				if !isInt {
					str := &ast.StringExpr{Value: "0"}
					str.SetLine(e.Line())
					str.SetLastLine(e.LastLine())
					n = &ast.UnaryMinusOpExpr{Expr: str}
				}
				n.SetLine(e.Line())
				n.SetLastLine(e.LastLine())
				return n
			}
			return e // folds to another constant: nothing inside can be -0 on its own
		}
		switch o := x.(type) {
		case *ast.ArithmeticOpExpr:
			o.Lhs, o.Rhs = w.expr(o.Lhs), w.expr(o.Rhs)
		case *ast.UnaryMinusOpExpr:
			o.Expr = w.expr(o.Expr)
		}
	case *ast.AttrGetExpr:
		x.Object, x.Key = w.expr(x.Object), w.expr(x.Key)
	case *ast.TableExpr:
		for _, f := range x.Fields {
			if f.Key != nil {
				f.Key = w.expr(f.Key)
			}
			f.Value = w.expr(f.Value)
		}
	case *ast.FuncCallExpr:
		if x.Func != nil {
			x.Func = w.expr(x.Func)
		}
		if x.Receiver != nil {
			x.Receiver = w.expr(x.Receiver)
		}
		w.exprs(x.Args)
	case *ast.LogicalOpExpr:
		x.Lhs, x.Rhs = w.expr(x.Lhs), w.expr(x.Rhs)
	case *ast.RelationalOpExpr:
		x.Lhs, x.Rhs = w.expr(x.Lhs), w.expr(x.Rhs)
	case *ast.StringConcatOpExpr:
		x.Lhs, x.Rhs = w.expr(x.Lhs), w.expr(x.Rhs)
	case *ast.UnaryNotOpExpr:
		x.Expr = w.expr(x.Expr)
	case *ast.UnaryLenOpExpr:
		x.Expr = w.expr(x.Expr)
	case *ast.FunctionExpr:
		w.stmts(x.Stmts)
	}
	return e
}

// foldedValue is the constant gopher-lua's compiler folds e to (its constFold: numerals, unary minus and
// the arithmetic operators over them), whether Lua 5.3 would compute it as an integer (integer numerals,
// and + - * % and unary minus over integers), and whether it folds at all.
func foldedValue(e ast.Expr) (v float64, isInt, ok bool) {
	switch x := e.(type) {
	case *ast.NumberExpr:
		return numeralValue(x.Value), integerNumeral(x.Value), true
	case *ast.UnaryMinusOpExpr:
		v, isInt, ok := foldedValue(x.Expr)
		return -v, isInt, ok
	case *ast.ArithmeticOpExpr:
		l, lInt, lok := foldedValue(x.Lhs)
		r, rInt, rok := foldedValue(x.Rhs)
		if !lok || !rok {
			return 0, false, false
		}
		both := lInt && rInt
		switch x.Operator {
		case "+":
			return l + r, both, true
		case "-":
			return l - r, both, true
		case "*":
			return l * r, both, true
		case "/":
			return l / r, false, true
		case "%":
			v := math.Mod(l, r)
			if r > 0 && v < 0 || r < 0 && v > 0 {
				v += r
			}
			return v, both, true
		case "^":
			return math.Pow(l, r), false, true
		}
	}
	return 0, false, false
}

// integerNumeral reports whether Lua 5.3 reads s as an integer: no fraction nor exponent (decimal), no
// fraction nor binary exponent (hexadecimal).
func integerNumeral(s string) bool {
	t := strings.ToLower(strings.TrimSpace(s))
	if strings.HasPrefix(t, "0x") {
		return !strings.ContainsAny(t[2:], ".p")
	}
	return !strings.ContainsAny(t, ".e") && !strings.Contains(t, "inf") && !strings.Contains(t, "nan")
}

// numeralValue reads a numeral as gopher-lua's compiler does: decimal, or hexadecimal after 0x; NaN
// when it cannot.
func numeralValue(s string) float64 {
	t := strings.TrimSpace(s)
	if len(t) > 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X') {
		if u, err := strconv.ParseUint(t[2:], 16, 64); err == nil {
			return float64(u)
		}
		return math.NaN()
	}
	if f, err := strconv.ParseFloat(t, 64); err == nil {
		return f
	}
	return math.NaN()
}
