package lua53

import "fmt"

// Goto, labels and break are checked here as Lua 5.3's parser checks them, so a program is refused with
// 5.3's message at the point 5.3 refuses it (gopher-lua's compiler has its own wording, and a position of
// its own). The model is lparser.c's: every function has blocks; a block remembers how many locals were
// active when it was entered and where its labels and pending gotos start; a goto is closed by a label
// of its block seen before it, or of the block it is pending in once the inner blocks close; a break is
// a goto to the label every loop block defines where it ends. What is left pending when a function ends
// is an error, as is a goto that would enter the scope of a local or a label defined twice in a block.

type labelDesc struct {
	name    string
	line    int
	nactvar int // locals active at the label (or the goto)
}

type blockScope struct {
	prev       *blockScope
	firstLabel int // index in labels of the block's first label
	firstGoto  int // index in gotos of the block's first pending goto
	nactvar    int // locals active outside the block
	isLoop     bool
}

type funcScope struct {
	prev    *funcScope
	actvars []string // names of the active locals, outermost first
	bl      *blockScope
}

type scopes struct {
	fs     *funcScope
	labels []labelDesc // labels visible in the open blocks
	gotos  []labelDesc // pending gotos and breaks (name "break")
}

// semError is lparser.c's semerror: a message at the line of the current token, with no "near" part.
func (p *parser) semError(format string, args ...any) {
	panic(&syntaxError{fmt.Sprintf("%s:%d: %s", p.chunk, p.tok().endLine, fmt.Sprintf(format, args...))})
}

func (p *parser) openFunc() {
	p.sc.fs = &funcScope{prev: p.sc.fs}
	p.enterBlock(false)
}

func (p *parser) closeFunc() {
	p.leaveBlock()
	p.sc.fs = p.sc.fs.prev
}

func (p *parser) enterBlock(isLoop bool) {
	fs := p.sc.fs
	fs.bl = &blockScope{prev: fs.bl, firstLabel: len(p.sc.labels), firstGoto: len(p.sc.gotos),
		nactvar: len(fs.actvars), isLoop: isLoop}
}

func (p *parser) leaveBlock() {
	fs := p.sc.fs
	bl := fs.bl
	if bl.isLoop {
		// the label every break of the loop goes to
		p.newLabel(labelDesc{name: "break", nactvar: len(fs.actvars)})
	}
	fs.bl = bl.prev
	fs.actvars = fs.actvars[:bl.nactvar]
	p.sc.labels = p.sc.labels[:bl.firstLabel]
	if bl.prev != nil {
		// the block's pending gotos now belong to the enclosing block, outside the block's locals
		for i := bl.firstGoto; i < len(p.sc.gotos); {
			if p.sc.gotos[i].nactvar > bl.nactvar {
				p.sc.gotos[i].nactvar = bl.nactvar
			}
			if !p.findLabel(i) {
				i++
			}
		}
		return
	}
	if bl.firstGoto < len(p.sc.gotos) {
		gt := p.sc.gotos[bl.firstGoto]
		if gt.name == "break" {
			p.semError("<break> at line %d not inside a loop", gt.line)
		}
		p.semError("no visible label '%s' for <goto> at line %d", gt.name, gt.line)
	}
}

// addLocals makes names active locals of the current function.
func (p *parser) addLocals(names ...string) {
	p.sc.fs.actvars = append(p.sc.fs.actvars, names...)
}

// gotoStat records a goto (or a break, name "break") at line and closes it when its label is already
// defined in the current block.
func (p *parser) gotoStat(name string, line int) {
	p.sc.gotos = append(p.sc.gotos, labelDesc{name: name, line: line, nactvar: len(p.sc.fs.actvars)})
	p.findLabel(len(p.sc.gotos) - 1)
}

// findLabel closes pending goto g with a label of the current block, if there is one.
func (p *parser) findLabel(g int) bool {
	bl := p.sc.fs.bl
	for _, lb := range p.sc.labels[bl.firstLabel:] {
		if lb.name == p.sc.gotos[g].name {
			p.closeGoto(g, lb)
			return true
		}
	}
	return false
}

func (p *parser) closeGoto(g int, lb labelDesc) {
	gt := p.sc.gotos[g]
	if gt.nactvar < lb.nactvar {
		p.semError("<goto %s> at line %d jumps into the scope of local '%s'", gt.name, gt.line, p.sc.fs.actvars[gt.nactvar])
	}
	p.sc.gotos = append(p.sc.gotos[:g], p.sc.gotos[g+1:]...)
}

// newLabel defines a label in the current block and closes the block's pending gotos to it.
func (p *parser) newLabel(lb labelDesc) {
	p.sc.labels = append(p.sc.labels, lb)
	for i := p.sc.fs.bl.firstGoto; i < len(p.sc.gotos); {
		if p.sc.gotos[i].name == lb.name {
			p.closeGoto(i, lb)
		} else {
			i++
		}
	}
}

// checkRepeated refuses a second label of the same name in the current block.
func (p *parser) checkRepeated(name string) {
	for _, lb := range p.sc.labels[p.sc.fs.bl.firstLabel:] {
		if lb.name == name {
			p.semError("label '%s' already defined on line %d", name, lb.line)
		}
	}
}
