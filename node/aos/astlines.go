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
	walkAST(chunk, astVisitor{
		enter: func(p ast.PositionHolder) {
			saved = append(saved, savedLines{p, p.Line(), p.LastLine()})
			n++
			p.SetLine(n)
		},
		// numbered in pre-order, a node's parts end at the last number given so far
		leave: func(p ast.PositionHolder) { p.SetLastLine(n) },
	})
	shadow, err := lua.Compile(chunk, name)
	same := err == nil && sameCode(shadow, proto)
	if same {
		repairLocals(chunk, shadow)
	}
	for _, s := range saved {
		s.node.SetLine(s.line)
		s.node.SetLastLine(s.last)
	}
	if same {
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
