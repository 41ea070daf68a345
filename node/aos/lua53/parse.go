package lua53

import "fmt"

// The parser is a recursive-descent parser for the Lua 5.3 grammar with operator-precedence climbing
// for expressions. It builds no tree: each construct only needs the token span of its expressions,
// and rewrites are recorded as token edits while parsing.

type expKind uint8

const (
	ekOther expKind = iota
	ekVar           // a name or an indexing: assignable
	ekCall          // a function or method call: usable as a statement
)

// exp is the span of an expression, first and last token index inclusive.
type exp struct {
	first, last int
	kind        expKind
}

// maxLevels bounds nesting like Lua's LUAI_MAXCCALLS, so hostile input cannot exhaust the stack.
const maxLevels = 200

type parser struct {
	lx     *lexer // tokens are read as the parser reaches them (lx.toks)
	i      int
	ed     *editor
	chunk  string
	levels int
	vararg []bool // per enclosing function: may it use '...'
	fnLine []int  // per enclosing function: line of its 'function' keyword (0 for the main chunk)
	sc     scopes // locals, blocks, labels and gotos (labels.go)
}

type stmtKind uint8

const (
	stOther stmtKind = iota
	stEmpty          // ';'
	stBreak
)

// Binary operator priorities (left, right), lowest first; right < left makes an operator
// right-associative.
var binaryPriority = map[string][2]int{
	"or": {1, 1}, "and": {2, 2},
	"<": {3, 3}, ">": {3, 3}, "<=": {3, 3}, ">=": {3, 3}, "~=": {3, 3}, "==": {3, 3},
	"|": {4, 4}, "~": {5, 5}, "&": {6, 6}, "<<": {7, 7}, ">>": {7, 7},
	"..": {9, 8},
	"+":  {10, 10}, "-": {10, 10},
	"*": {11, 11}, "/": {11, 11}, "//": {11, 11}, "%": {11, 11},
	"^": {14, 13},
}

const unaryPriority = 12

// helperFor maps operators Lua 5.1 lacks to the __lua53 function implementing them.
var helperFor = map[string]string{
	"//": "idiv", "&": "band", "|": "bor", "~": "bxor", "<<": "shl", ">>": "shr",
	// 5.1 has ^, but gopher-lua's is Go's math.Pow, not correctly rounded as the C library's (pow.go)
	"^": "pow",
}

func parse(lx *lexer, chunk string, ed *editor) (err error) {
	p := &parser{lx: lx, ed: ed, chunk: chunk, vararg: []bool{true}, fnLine: []int{0}}
	defer func() {
		if r := recover(); r != nil {
			se, ok := r.(*syntaxError)
			if !ok {
				panic(r)
			}
			err = se
		}
	}()
	p.openFunc()
	p.block()
	if p.tok().kind != tkEOF {
		p.errorExpected("<eof>")
	}
	p.closeFunc()
	return nil
}

func (p *parser) tok() *token { return p.at(p.i) }

// at is token i, read from the source if need be; past the end it is the tkEOF token.
func (p *parser) at(i int) *token {
	if !p.lx.fill(i) {
		i = len(p.lx.toks) - 1
	}
	return &p.lx.toks[i]
}

func (p *parser) next() {
	if p.tok().kind != tkEOF {
		p.i++
	}
}

// is reports whether the current token is the keyword or symbol s.
func (p *parser) is(s string) bool {
	t := p.tok()
	return (t.kind == tkKeyword || t.kind == tkSymbol) && t.text == s
}

func (p *parser) testNext(s string) bool {
	if p.is(s) {
		p.next()
		return true
	}
	return false
}

func (p *parser) errorf(format string, args ...any) {
	t := p.tok()
	near := "<eof>"
	switch {
	case t.kind == tkOther && (t.text[0] < ' ' || t.text[0] >= 0x7f):
		near = fmt.Sprintf("'<\\%d>'", t.text[0]) // as Lua shows a character it cannot print
	case t.kind != tkEOF:
		near = "'" + t.text + "'"
	}
	panic(&syntaxError{fmt.Sprintf("%s:%d: %s near %s", p.chunk, t.endLine, fmt.Sprintf(format, args...), near)})
}

// quoteToken renders an expected token as Lua's error messages do: symbols and keywords quoted,
// token classes like <name> and <eof> bare.
func quoteToken(s string) string {
	if s[0] == '<' && len(s) > 1 {
		return s
	}
	return "'" + s + "'"
}

func (p *parser) errorExpected(s string) { p.errorf("%s expected", quoteToken(s)) }

func (p *parser) checkNext(s string) {
	if !p.testNext(s) {
		p.errorExpected(s)
	}
}

// checkMatch closes a construct opened by who on line; like Lua it names the opener when it is on an
// earlier line.
func (p *parser) checkMatch(what, who string, line int) {
	if p.testNext(what) {
		return
	}
	if line == p.tok().endLine {
		p.errorExpected(what)
	}
	p.errorf("%s expected (to close %s at line %d)", quoteToken(what), quoteToken(who), line)
}

func (p *parser) checkName() {
	if p.tok().kind != tkName {
		p.errorExpected("<name>")
	}
	p.next()
}

func (p *parser) enter() {
	p.levels++
	if p.levels > maxLevels {
		where := "main function"
		if l := p.fnLine[len(p.fnLine)-1]; l > 0 {
			where = fmt.Sprintf("function at line %d", l)
		}
		p.errorf("too many C levels (limit is %d) in %s", maxLevels, where)
	}
}

func (p *parser) leave() { p.levels-- }

func (p *parser) blockFollow(withUntil bool) bool {
	t := p.tok()
	if t.kind == tkEOF {
		return true
	}
	if t.kind != tkKeyword {
		return false
	}
	switch t.text {
	case "else", "elseif", "end":
		return true
	case "until":
		return withUntil
	}
	return false
}

// block parses a statement list. Lua 5.1 (and gopher-lua) only accept 'break' as the last statement
// of a block; a 'break' followed by more statements becomes "do break end", which means the same.
func (p *parser) block() {
	type stmt struct {
		kind stmtKind
		tok  int
	}
	var stmts []stmt
	for !p.blockFollow(true) {
		if p.is("return") {
			p.retStat()
			stmts = append(stmts, stmt{stOther, 0})
			break
		}
		at := p.i
		stmts = append(stmts, stmt{p.statement(), at})
	}
	for n, s := range stmts {
		if s.kind != stBreak {
			continue
		}
		rest := stmts[n+1:]
		if len(rest) > 1 || len(rest) == 1 && rest[0].kind != stEmpty {
			p.ed.replace(s.tok, "do break end")
		}
	}
}

func (p *parser) retStat() {
	p.next()
	if !p.blockFollow(true) && !p.is(";") {
		p.exprList()
	}
	p.testNext(";")
}

func (p *parser) statement() stmtKind {
	line := p.tok().line
	p.enter()
	defer p.leave()
	switch {
	case p.is(";"):
		p.next()
		return stEmpty
	case p.is("if"):
		p.ifStat(line)
	case p.is("while"):
		p.next()
		p.expr()
		p.enterBlock(true)
		p.checkNext("do")
		p.scopedBlock()
		p.checkMatch("end", "while", line)
		p.leaveBlock()
	case p.is("do"):
		p.next()
		p.scopedBlock()
		p.checkMatch("end", "do", line)
	case p.is("for"):
		p.forStat(line)
	case p.is("repeat"):
		p.enterBlock(true)
		p.enterBlock(false)
		p.next()
		p.block()
		p.checkMatch("until", "repeat", line)
		p.expr() // inside the scope of the loop's locals
		p.leaveBlock()
		p.leaveBlock()
	case p.is("function"):
		p.next()
		p.checkName()
		for p.testNext(".") {
			p.checkName()
		}
		method := p.testNext(":")
		if method {
			p.checkName()
		}
		p.body(line, method)
	case p.is("local"):
		p.next()
		if p.testNext("function") {
			p.addLocals(p.tok().text)
			p.checkName()
			p.body(line, false)
		} else {
			names := []string{p.tok().text}
			p.checkName()
			for p.testNext(",") {
				names = append(names, p.tok().text)
				p.checkName()
			}
			if p.testNext("=") {
				p.exprList()
			}
			p.addLocals(names...)
		}
	case p.is("::"):
		p.next()
		p.labelStat(line)
	case p.is("break"):
		p.next()
		p.gotoStat("break", line)
		return stBreak
	case p.is("goto"):
		p.next()
		name := p.tok().text
		p.checkName()
		p.gotoStat(name, line)
	default:
		p.exprStat()
	}
	return stOther
}

func (p *parser) ifStat(line int) {
	p.next()
	p.expr()
	p.checkNext("then")
	p.scopedBlock()
	for p.is("elseif") {
		p.next()
		p.expr()
		p.checkNext("then")
		p.scopedBlock()
	}
	if p.testNext("else") {
		p.scopedBlock()
	}
	p.checkMatch("end", "if", line)
}

func (p *parser) forStat(line int) {
	p.enterBlock(true)
	p.next()
	names := []string{p.tok().text}
	p.checkName()
	var control []string
	switch {
	case p.is("="):
		p.next()
		p.expr()
		p.checkNext(",")
		p.expr()
		if p.testNext(",") {
			p.expr()
		}
		control = []string{"(for index)", "(for limit)", "(for step)"}
	case p.is(",") || p.is("in"):
		for p.testNext(",") {
			names = append(names, p.tok().text)
			p.checkName()
		}
		p.checkNext("in")
		p.exprList()
		control = []string{"(for generator)", "(for state)", "(for control)"}
	default:
		p.errorf("'=' or 'in' expected")
	}
	p.addLocals(control...)
	p.checkNext("do")
	p.enterBlock(false) // the declared variables
	p.addLocals(names...)
	p.scopedBlock()
	p.leaveBlock()
	p.checkMatch("end", "for", line)
	p.leaveBlock()
}

// scopedBlock is Lua's block: a statement list in a block of its own.
func (p *parser) scopedBlock() {
	p.enterBlock(false)
	p.block()
	p.leaveBlock()
}

// labelStat parses "NAME '::'" after a '::' on line. As in Lua 5.3, a label followed only by no-op
// statements up to the end of its block is outside the scope of the block's locals.
func (p *parser) labelStat(line int) {
	name := p.tok().text
	p.checkName()
	p.checkRepeated(name)
	p.checkNext("::")
	p.sc.labels = append(p.sc.labels, labelDesc{name: name, line: line, nactvar: len(p.sc.fs.actvars)})
	at := len(p.sc.labels) - 1
	for p.is(";") || p.is("::") {
		p.statement()
	}
	lb := p.sc.labels[at]
	if p.blockFollow(false) {
		lb.nactvar = p.sc.fs.bl.nactvar
		p.sc.labels[at] = lb
	}
	for i := p.sc.fs.bl.firstGoto; i < len(p.sc.gotos); {
		if p.sc.gotos[i].name == name {
			p.closeGoto(i, lb)
		} else {
			i++
		}
	}
}

// body parses a function's parameter list and block; a method has the parameter self first.
func (p *parser) body(line int, method bool) {
	p.openFunc()
	if method {
		p.addLocals("self")
	}
	p.checkNext("(")
	vararg := false
	if !p.is(")") {
		for {
			if p.tok().kind == tkName {
				p.addLocals(p.tok().text)
				p.next()
			} else if p.is("...") {
				p.next()
				vararg = true
			} else {
				p.errorf("<name> or '...' expected")
			}
			if vararg || !p.testNext(",") {
				break
			}
		}
	}
	p.checkNext(")")
	p.vararg = append(p.vararg, vararg)
	p.fnLine = append(p.fnLine, line)
	p.block()
	p.checkMatch("end", "function", line)
	p.closeFunc()
	p.vararg = p.vararg[:len(p.vararg)-1]
	p.fnLine = p.fnLine[:len(p.fnLine)-1]
}

func (p *parser) exprStat() {
	e := p.suffixedExp()
	if p.is("=") || p.is(",") {
		for {
			if e.kind != ekVar {
				p.errorf("syntax error")
			}
			if !p.testNext(",") {
				break
			}
			e = p.suffixedExp()
		}
		p.checkNext("=")
		p.exprList()
		return
	}
	if e.kind != ekCall {
		p.errorf("syntax error")
	}
}

func (p *parser) exprList() {
	p.expr()
	for p.testNext(",") {
		p.expr()
	}
}

func (p *parser) expr() exp { return p.subExpr(0) }

// subExpr parses operators binding tighter than limit. New 5.3 operators become helper calls:
// "a OP b" -> "__lua53.op(a, b)" and "~a" -> "__lua53.bnot(a)". A call is a primary expression in
// both dialects, so the operators left untouched keep their 5.3 grouping, which is also their 5.1
// grouping relative to each other.
func (p *parser) subExpr(limit int) exp {
	p.enter()
	defer p.leave()
	var e exp
	if t := p.tok(); (t.kind == tkKeyword && t.text == "not") ||
		(t.kind == tkSymbol && (t.text == "-" || t.text == "#" || t.text == "~")) {
		op := p.i
		p.next()
		operand := p.subExpr(unaryPriority)
		if t.text == "~" {
			p.ed.replace(op, "__lua53.bnot(")
			p.ed.after(operand.last, ")")
		}
		e = exp{first: op, last: operand.last}
	} else {
		e = p.simpleExp()
	}
	for {
		t := p.tok()
		if t.kind != tkKeyword && t.kind != tkSymbol {
			break
		}
		prio, ok := binaryPriority[t.text]
		if !ok || prio[0] <= limit {
			break
		}
		op := p.i
		p.next()
		right := p.subExpr(prio[1])
		if h, ok := helperFor[t.text]; ok {
			p.ed.before(e.first, "__lua53."+h+"(")
			p.ed.toComma(op)
			p.ed.after(right.last, ")")
		}
		e = exp{first: e.first, last: right.last}
	}
	return e
}

func (p *parser) simpleExp() exp {
	t := p.tok()
	start := p.i
	switch {
	case t.kind == tkNumber || t.kind == tkString:
		p.next()
	case t.kind == tkKeyword && (t.text == "nil" || t.text == "true" || t.text == "false"):
		p.next()
	case p.is("..."):
		if !p.vararg[len(p.vararg)-1] {
			p.errorf("cannot use '...' outside a vararg function")
		}
		p.next()
	case p.is("{"):
		p.constructor()
	case p.is("function"):
		line := t.line
		p.next()
		p.body(line, false)
	default:
		return p.suffixedExp()
	}
	return exp{first: start, last: p.i - 1}
}

func (p *parser) primaryExp() exp {
	start := p.i
	switch {
	case p.tok().kind == tkName:
		p.next()
		return exp{first: start, last: start, kind: ekVar}
	case p.is("("):
		line := p.tok().line
		p.next()
		p.expr()
		p.checkMatch(")", "(", line)
		return exp{first: start, last: p.i - 1}
	}
	p.errorf("unexpected symbol")
	return exp{}
}

func (p *parser) suffixedExp() exp {
	e := p.primaryExp()
	for {
		switch {
		case p.is("."):
			p.next()
			p.checkName()
			e.kind = ekVar
		case p.is("["):
			p.next()
			p.expr()
			p.checkNext("]")
			e.kind = ekVar
		case p.is(":"):
			p.next()
			p.checkName()
			p.funcArgs()
			e.kind = ekCall
		case p.is("(") || p.is("{") || p.tok().kind == tkString:
			p.funcArgs()
			e.kind = ekCall
		default:
			return e
		}
		e.last = p.i - 1
	}
}

// funcArgs parses call arguments. Lua 5.3 reads "f()\n(g)" as one call; gopher-lua rejects a '(' that
// starts a line right after a ')', so such a '(' moves up to the end of the previous line (the only
// token that ever changes line, and a parenthesis carries no line information of its own).
func (p *parser) funcArgs() {
	t := p.tok()
	prev := p.i - 1
	newLine := t.line > p.at(prev).endLine && p.ed.emitsCloseParen(prev)
	switch {
	case p.is("("):
		line := t.line
		if newLine {
			p.ed.after(prev, "(")
			p.ed.replace(p.i, "")
		}
		p.next()
		if !p.is(")") {
			p.exprList()
		}
		p.checkMatch(")", "(", line)
	case p.is("{"):
		p.constructor()
	case t.kind == tkString:
		if newLine && t.wrapped {
			p.ed.after(prev, "(")
			p.ed.replace(p.i, t.repl[1:])
		}
		p.next()
	default:
		p.errorf("function arguments expected")
	}
}

func (p *parser) constructor() {
	line := p.tok().line
	p.checkNext("{")
	for !p.is("}") {
		switch {
		case p.tok().kind == tkName && p.at(p.i+1).kind == tkSymbol && p.at(p.i+1).text == "=":
			p.next()
			p.next()
			p.expr()
		case p.is("["):
			p.next()
			p.expr()
			p.checkNext("]")
			p.checkNext("=")
			p.expr()
		default:
			p.expr()
		}
		if !p.testNext(",") && !p.testNext(";") {
			break
		}
	}
	p.checkMatch("}", "{", line)
}
