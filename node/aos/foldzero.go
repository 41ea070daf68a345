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
	walkAST(chunk, astVisitor{expr: func(e ast.Expr) (ast.Expr, bool) {
		switch e.(type) {
		case *ast.NumberExpr, *ast.ArithmeticOpExpr, *ast.UnaryMinusOpExpr:
		default:
			return e, true
		}
		v, isInt, ok := foldedValue(e)
		if !ok {
			return e, true // not constant: its parts may be
		}
		if v != 0 || !math.Signbit(v) {
			return e, false // folds to another constant: nothing inside can be -0 on its own
		}
		var n ast.Expr = &ast.NumberExpr{Value: "0"}
		if !isInt {
			str := &ast.StringExpr{Value: "0"}
			str.SetLine(e.Line())
			str.SetLastLine(e.LastLine())
			n = &ast.UnaryMinusOpExpr{Expr: str}
		}
		n.SetLine(e.Line())
		n.SetLastLine(e.LastLine())
		return n, false
	}})
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
