package lua53

import (
	"fmt"
	"math/rand"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// rnode is a random integer expression, evaluated here with Lua 5.3 integer semantics and printed
// with the fewest parentheses Lua 5.3's precedence allows, so the translator's grouping is checked
// against an evaluator that never parses.
type rnode struct {
	op          string // "" for a literal
	val         int64  // literal value
	left, right *rnode // right is nil for unary operators
}

var randBinary = []string{"+", "-", "*", "//", "%", "&", "|", "~", "<<", ">>"}

// refPriority is the Lua 5.3 manual's precedence table (§3.4.8), written out independently of the
// parser's: higher binds tighter; all these operators are left associative; unary operators sit
// between the multiplicative ones and '^'.
var refPriority = map[string]int{
	"|": 1, "~": 2, "&": 3, "<<": 4, ">>": 4, "+": 6, "-": 6, "*": 7, "//": 7, "%": 7,
}

const refUnary = 8

func randExpr(r *rand.Rand, depth int) *rnode {
	if depth == 0 || r.Intn(4) == 0 {
		vals := []int64{0, 1, 2, 3, 5, 7, 12, 255, 1024}
		return &rnode{val: vals[r.Intn(len(vals))]}
	}
	if r.Intn(5) == 0 {
		return &rnode{op: []string{"-", "~"}[r.Intn(2)], left: randExpr(r, depth-1)}
	}
	return &rnode{op: randBinary[r.Intn(len(randBinary))], left: randExpr(r, depth-1), right: randExpr(r, depth-1)}
}

func (n *rnode) String() string {
	switch {
	case n.op == "":
		return fmt.Sprint(n.val)
	case n.right == nil:
		return n.op + " " + n.wrap(n.left, n.left.right != nil && refPriority[n.left.op] <= refUnary)
	}
	p := refPriority[n.op]
	leftParen := n.left.right != nil && refPriority[n.left.op] < p
	rightParen := n.right.right != nil && refPriority[n.right.op] <= p
	return n.wrap(n.left, leftParen) + " " + n.op + " " + n.wrap(n.right, rightParen)
}

func (n *rnode) wrap(c *rnode, paren bool) string {
	if paren {
		return "(" + c.String() + ")"
	}
	return c.String()
}

// eval returns the value Lua 5.3 computes; ok is false when a step divides by zero or leaves the
// range where float64 is exact (there the float-only runtime is documented to differ).
func (n *rnode) eval() (v int64, ok bool) {
	if n.op == "" {
		return n.val, true
	}
	a, ok := n.left.eval()
	if !ok {
		return 0, false
	}
	var b int64
	if n.right != nil {
		if b, ok = n.right.eval(); !ok {
			return 0, false
		}
	}
	switch {
	case n.right == nil && n.op == "-":
		v = -a
	case n.right == nil:
		v = ^a
	case n.op == "+":
		v = a + b
	case n.op == "-":
		v = a - b
	case n.op == "*":
		if a > 1<<26 || a < -1<<26 || b > 1<<26 || b < -1<<26 {
			return 0, false
		}
		v = a * b
	case n.op == "//" || n.op == "%":
		if b == 0 {
			return 0, false
		}
		v = floorDiv(a, b)
		if n.op == "%" {
			v = a - v*b
		}
	case n.op == "&":
		v = a & b
	case n.op == "|":
		v = a | b
	case n.op == "~":
		v = a ^ b
	case n.op == "<<":
		v = shiftLeft(a, b)
	case n.op == ">>":
		v = shiftRight(a, b)
	}
	if v > 1<<53 || v < -1<<53 {
		return 0, false
	}
	return v, true
}

func TestRandomExpressions(t *testing.T) {
	r := rand.New(rand.NewSource(53))
	for batch := 0; batch < 20; batch++ {
		var exprs []string
		var want []int64
		for len(exprs) < 100 {
			e := randExpr(r, 5)
			if v, ok := e.eval(); ok {
				exprs = append(exprs, e.String())
				want = append(want, v)
			}
		}
		src := "return {\n" + strings.Join(exprs, ",\n") + "\n}"
		vals, err := run(t, src)
		if err != nil {
			t.Fatalf("%v\n%s", err, src)
		}
		tbl := vals[0].(*lua.LTable)
		for i, w := range want {
			if got := tbl.RawGetInt(i + 1); !sameValue(got, int(w)) {
				out, _ := Translate("return "+exprs[i], "x")
				t.Fatalf("%s\n  = %v, want %d\n  translated: %s", exprs[i], got, w, out)
			}
		}
	}
}
