package lua53

import "strings"

// editor records changes relative to tokens; output is the source token stream with the edits applied.
// Working on tokens rather than re-printing an AST keeps comments, spacing and line breaks as written,
// and inserted text never contains a newline, so every token stays on its source line.
type editor struct {
	lx    *lexer // the tokens read so far
	edits map[int]*tokEdit
}

type tokEdit struct {
	before     []string // emitted after the trivia, before the token; outer expressions first
	repl       *string  // replaces the token's text
	after      []string // emitted right after the token; inner expressions first
	dropTrivia bool     // the trivia was only blanks, and the token is now a ","
}

// text is what token i emits before edits: its replacement when the lexer gave it one.
func (ed *editor) text(i int) string {
	t := &ed.lx.toks[i]
	if t.hasRepl {
		return t.repl
	}
	return t.text
}

func (ed *editor) at(i int) *tokEdit {
	e := ed.edits[i]
	if e == nil {
		e = &tokEdit{}
		ed.edits[i] = e
	}
	return e
}

// before inserts s in front of token i. Expressions are recorded innermost first, so a later (outer)
// insertion goes in front of earlier ones.
func (ed *editor) before(i int, s string) {
	e := ed.at(i)
	e.before = append([]string{s}, e.before...)
}

func (ed *editor) after(i int, s string) {
	e := ed.at(i)
	e.after = append(e.after, s)
}

func (ed *editor) replace(i int, s string) { ed.at(i).repl = &s }

// toComma turns a binary operator into the argument separator of a helper call, eating blank trivia
// so "a & b" becomes "band(a, b)" rather than "band(a , b)".
func (ed *editor) toComma(i int) {
	ed.replace(i, ",")
	if strings.Trim(ed.lx.toks[i].trivia, " \t") == "" {
		ed.at(i).dropTrivia = true
	}
}

// emitsCloseParen reports whether the text emitted for token i ends with ')'. gopher-lua, like Lua 5.1,
// rejects a call whose '(' starts a new line right after a ')'.
func (ed *editor) emitsCloseParen(i int) bool {
	text := ed.text(i)
	if e := ed.edits[i]; e != nil {
		switch {
		case len(e.after) > 0:
			text = e.after[len(e.after)-1]
		case e.repl != nil:
			text = *e.repl
		}
	}
	return strings.HasSuffix(text, ")")
}

func (ed *editor) String() string {
	var w wordWriter
	for i, t := range ed.lx.toks {
		e := ed.edits[i]
		if e == nil {
			w.write(t.trivia)
			w.write(ed.text(i))
			continue
		}
		if !e.dropTrivia {
			w.write(t.trivia)
		}
		for _, s := range e.before {
			w.write(s)
		}
		if e.repl != nil {
			w.write(*e.repl)
		} else {
			w.write(ed.text(i))
		}
		for _, s := range e.after {
			w.write(s)
		}
	}
	return w.b.String()
}

// wordWriter joins output pieces, adding a space where two would otherwise fuse into one token
// ("return" followed by an inserted "__lua53.band(" or by a replacement numeral) or two line breaks
// into one.
type wordWriter struct {
	b    strings.Builder
	last byte
}

func (w *wordWriter) write(s string) {
	if s == "" {
		return
	}
	fuse := isAlnum(w.last) && isAlnum(s[0])
	// "\n" then "\r" would become one line break once a moved '(' no longer separates them.
	fuse = fuse || w.last == '\n' && s[0] == '\r' || w.last == '\r' && s[0] == '\n'
	if fuse {
		w.b.WriteByte(' ')
	}
	w.b.WriteString(s)
	w.last = s[len(s)-1]
}
