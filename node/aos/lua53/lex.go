package lua53

import (
	"fmt"
	"strconv"
	"strings"
)

type tokKind uint8

const (
	tkEOF tokKind = iota
	tkName
	tkNumber
	tkString
	tkKeyword // text is the keyword
	tkSymbol  // text is the operator or punctuation
	tkOther   // a character that is no token of Lua's: as in Lua, the parser meets it and fails there
)

// token is one lexeme plus everything needed to re-emit it: its exact source text, the trivia
// (whitespace and comments) before it, and, for literals gopher-lua would read differently, a
// replacement that keeps the value and the number of lines.
type token struct {
	kind    tokKind
	text    string // exact source text
	line    int    // line of the first byte
	endLine int    // line of the last byte (differs for long strings and multi-line short strings)
	trivia  string // source between the previous token and this one, fixed up for gopher-lua
	repl    string // replacement text when hasRepl
	hasRepl bool
	wrapped bool // repl is "(...)", a parenthesized concatenation of a string split over lines
}

var keywords = map[string]bool{
	"and": true, "break": true, "do": true, "else": true, "elseif": true, "end": true,
	"false": true, "for": true, "function": true, "goto": true, "if": true, "in": true,
	"local": true, "nil": true, "not": true, "or": true, "repeat": true, "return": true,
	"then": true, "true": true, "until": true, "while": true,
}

// multiCharSymbols are tried longest first, before single-character symbols.
var multiCharSymbols = []string{"...", "..", "==", "~=", "<=", ">=", "//", "<<", ">>", "::"}

// syntaxError is a Lua-formatted compile error: "<chunk>:<line>: <msg> near '<tok>'".
type syntaxError struct{ msg string }

func (e *syntaxError) Error() string { return e.msg }

type lexer struct {
	src     string
	chunk   string
	pos     int
	line    int
	toks    []token
	trivia  strings.Builder
	changed bool // some trivia or token was fixed up for gopher-lua
}

func newLexer(src, chunk string) *lexer { return &lexer{src: src, chunk: chunk, line: 1} }

// fill reads tokens until token i exists or the source has ended, and reports whether token i exists.
// The parser pulls tokens as it goes, like Lua's: a syntax error stops it before the rest of the source
// is read (a chunk of 200,000 '(' ends at the 201st), and a lexical error past it is never reached.
// A lexical error panics with a *syntaxError.
func (lx *lexer) fill(i int) bool {
	for len(lx.toks) <= i {
		if n := len(lx.toks); n > 0 && lx.toks[n-1].kind == tkEOF {
			return false
		}
		lx.skipTrivia()
		t := lx.next()
		t.trivia = lx.trivia.String()
		lx.trivia.Reset()
		if t.hasRepl {
			lx.changed = true
		}
		lx.toks = append(lx.toks, t)
	}
	return true
}

// errorf reports a lexical error near the source text read since start (Lua shows the partial token).
func (lx *lexer) errorf(start int, msg string) {
	near := "<eof>"
	if start >= 0 {
		end := lx.pos
		if end > len(lx.src) {
			end = len(lx.src)
		}
		near = "'" + lx.src[start:end] + "'"
	}
	panic(&syntaxError{fmt.Sprintf("%s:%d: %s near %s", lx.chunk, lx.line, msg, near)})
}

func (lx *lexer) peek(off int) byte {
	if lx.pos+off < len(lx.src) {
		return lx.src[lx.pos+off]
	}
	return 0
}

func (lx *lexer) atEOF() bool { return lx.pos >= len(lx.src) }

func isNewline(c byte) bool { return c == '\n' || c == '\r' }

// skipNewline consumes one line break; "\r\n" and "\n\r" count as one, as in both Lua and gopher-lua.
func (lx *lexer) skipNewline() {
	c := lx.src[lx.pos]
	lx.pos++
	if lx.pos < len(lx.src) && isNewline(lx.src[lx.pos]) && lx.src[lx.pos] != c {
		lx.pos++
	}
	lx.line++
}

func isAlpha(c byte) bool  { return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isDigit(c byte) bool  { return '0' <= c && c <= '9' }
func isAlnum(c byte) bool  { return isAlpha(c) || isDigit(c) }
func isXDigit(c byte) bool { return isDigit(c) || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

// skipTrivia copies whitespace and comments into lx.trivia, fixing the two things gopher-lua reads
// differently: it does not treat \v and \f as whitespace, and it takes "--[=" (without a second '[')
// as the start of a broken long comment where Lua sees a short comment.
func (lx *lexer) skipTrivia() {
	for !lx.atEOF() {
		c := lx.src[lx.pos]
		switch {
		case isNewline(c):
			start := lx.pos
			lx.skipNewline()
			lx.trivia.WriteString(lx.src[start:lx.pos])
		case c == ' ' || c == '\t':
			lx.trivia.WriteByte(c)
			lx.pos++
		case c == '\v' || c == '\f':
			lx.trivia.WriteByte(' ')
			lx.changed = true
			lx.pos++
		case c == '-' && lx.peek(1) == '-':
			lx.comment()
		default:
			return
		}
	}
}

func (lx *lexer) comment() {
	start := lx.pos
	lx.pos += 2
	if lx.peek(0) == '[' {
		if level, ok := lx.longBracketLevel(); ok {
			lx.longString(start, level, "comment")
			lx.trivia.WriteString(lx.src[start:lx.pos])
			return
		}
	}
	for !lx.atEOF() && !isNewline(lx.src[lx.pos]) {
		lx.pos++
	}
	text := lx.src[start:lx.pos]
	if strings.HasPrefix(text, "--[=") {
		text = "-- " + text[2:]
		lx.changed = true
	}
	lx.trivia.WriteString(text)
}

// longBracketLevel checks for "[", "="*, "[" at pos without consuming; ok is false for a plain '['
// (level -1 in Lua's terms) or a broken delimiter like "[=x".
func (lx *lexer) longBracketLevel() (level int, ok bool) {
	i := lx.pos + 1
	for i < len(lx.src) && lx.src[i] == '=' {
		i++
	}
	return i - lx.pos - 1, i < len(lx.src) && lx.src[i] == '['
}

// longString consumes a long bracket of the given level starting at lx.pos ('[') through its closing
// bracket; the content is kept verbatim, gopher-lua reads long brackets exactly as Lua 5.3 does.
func (lx *lexer) longString(start, level int, what string) {
	line := lx.line
	lx.pos += level + 2
	closing := "]" + strings.Repeat("=", level) + "]"
	for {
		if lx.atEOF() {
			lx.errorf(-1, fmt.Sprintf("unfinished long %s (starting at line %d)", what, line))
		}
		c := lx.src[lx.pos]
		switch {
		case isNewline(c):
			lx.skipNewline()
		case c == ']' && strings.HasPrefix(lx.src[lx.pos:], closing):
			lx.pos += len(closing)
			return
		default:
			lx.pos++
		}
	}
}

func (lx *lexer) next() token {
	start, line := lx.pos, lx.line
	t := token{line: line}
	finish := func(kind tokKind) token {
		t.kind = kind
		t.text = lx.src[start:lx.pos]
		t.endLine = lx.line
		return t
	}
	if lx.atEOF() {
		return finish(tkEOF)
	}
	c := lx.src[lx.pos]
	switch {
	case isAlpha(c):
		for !lx.atEOF() && isAlnum(lx.src[lx.pos]) {
			lx.pos++
		}
		if keywords[lx.src[start:lx.pos]] {
			return finish(tkKeyword)
		}
		return finish(tkName)
	case isDigit(c) || c == '.' && isDigit(lx.peek(1)):
		lx.numeral(&t)
		return finish(tkNumber)
	case c == '"' || c == '\'':
		lx.shortString(&t)
		return finish(tkString)
	case c == '[':
		if level, ok := lx.longBracketLevel(); ok {
			lx.longString(start, level, "string")
			return finish(tkString)
		}
		if lx.peek(1) == '=' {
			for lx.peek(0) == '[' || lx.peek(0) == '=' {
				lx.pos++
			}
			lx.errorf(start, "invalid long string delimiter")
		}
		lx.pos++
		return finish(tkSymbol)
	}
	for _, sym := range multiCharSymbols {
		if strings.HasPrefix(lx.src[lx.pos:], sym) {
			lx.pos += len(sym)
			return finish(tkSymbol)
		}
	}
	if strings.IndexByte("+-*/%^#&~|<>=(){}[];:,.", c) >= 0 {
		lx.pos++
		return finish(tkSymbol)
	}
	lx.pos++
	return finish(tkOther)
}

// numeral reads digits the way Lua 5.3 does (greedy over hex digits, '.', and exponents with sign) and
// validates the result; literals gopher-lua would misread get a decimal replacement.
func (lx *lexer) numeral(t *token) {
	start := lx.pos
	expo := "Ee"
	if lx.peek(0) == '0' && (lx.peek(1) == 'x' || lx.peek(1) == 'X') {
		lx.pos += 2
		expo = "Pp"
	}
	for !lx.atEOF() {
		c := lx.src[lx.pos]
		if strings.IndexByte(expo, c) >= 0 {
			lx.pos++
			if s := lx.peek(0); s == '+' || s == '-' {
				lx.pos++
			}
		} else if isXDigit(c) || c == '.' {
			lx.pos++
		} else {
			break
		}
	}
	text := lx.src[start:lx.pos]
	lit, ok := parseLiteral(text)
	if !ok {
		lx.errorf(start, "malformed number")
	}
	if lit.gopherSafe {
		return
	}
	t.repl, t.hasRepl = lit.emit, true
}

// shortString reads a quoted string. Escapes gopher-lua lacks (\x, \z, \u{}) force a rewrite using only
// escapes it shares with Lua 5.3; when \z swallowed line breaks the rewrite is a parenthesized
// concatenation with one piece per line, so every later token stays on its line.
func (lx *lexer) shortString(t *token) {
	start := lx.pos
	quote := lx.src[lx.pos]
	lx.pos++
	var out strings.Builder // rewritten literal, used only when rewrite is set
	rewrite, split := false, false
	q := string(quote)
	out.WriteString(q)
	for {
		if lx.atEOF() {
			lx.errorf(-1, "unfinished string")
		}
		c := lx.src[lx.pos]
		if c == quote {
			lx.pos++
			break
		}
		if isNewline(c) {
			lx.errorf(start, "unfinished string")
		}
		if c != '\\' {
			out.WriteByte(c)
			lx.pos++
			continue
		}
		lx.pos++ // the backslash
		if lx.atEOF() {
			lx.errorf(-1, "unfinished string")
		}
		e := lx.src[lx.pos]
		switch {
		case strings.IndexByte("abfnrtv\\\"'", e) >= 0:
			out.WriteByte('\\')
			out.WriteByte(e)
			lx.pos++
		case isNewline(e):
			lx.skipNewline()
			out.WriteString("\\\n")
		case e == 'x':
			lx.pos++
			v := 0
			for i := 0; i < 2; i++ {
				h := lx.peek(0)
				if !isXDigit(h) {
					if !lx.atEOF() {
						lx.pos++
					}
					lx.errorf(start, "hexadecimal digit expected")
				}
				v = v*16 + hexVal(h)
				lx.pos++
			}
			writeDecEscape(&out, byte(v))
			rewrite = true
		case e == 'z':
			lx.pos++
			for !lx.atEOF() && isSpace(lx.src[lx.pos]) {
				if isNewline(lx.src[lx.pos]) {
					lx.skipNewline()
					out.WriteString(q + "..\n" + q)
					split = true
				} else {
					lx.pos++
				}
			}
			rewrite = true
		case e == 'u':
			lx.pos++
			if lx.peek(0) != '{' {
				if !lx.atEOF() {
					lx.pos++
				}
				lx.errorf(start, "missing '{'")
			}
			lx.pos++
			var r uint64
			for n := 0; ; n++ {
				h := lx.peek(0)
				if !isXDigit(h) {
					if n == 0 {
						if !lx.atEOF() {
							lx.pos++
						}
						lx.errorf(start, "hexadecimal digit expected")
					}
					break
				}
				r = r*16 + uint64(hexVal(h))
				lx.pos++
				if r > maxUnicode { // Lua 5.3's bound (5.4 allows up to 2^31)
					lx.errorf(start, "UTF-8 value too large")
				}
			}
			if lx.peek(0) != '}' {
				if !lx.atEOF() {
					lx.pos++
				}
				lx.errorf(start, "missing '}'")
			}
			lx.pos++
			for _, b := range utf8Encode(uint32(r)) {
				writeDecEscape(&out, b)
			}
			rewrite = true
		case isDigit(e):
			v := 0
			for i := 0; i < 3 && isDigit(lx.peek(0)); i++ {
				v = v*10 + int(lx.peek(0)-'0')
				lx.pos++
			}
			if v > 255 {
				if !lx.atEOF() {
					lx.pos++ // Lua shows the character after the digits too
				}
				lx.errorf(start, "decimal escape too large")
			}
			// Always three digits: a digit following in the rewritten text must not join the escape.
			writeDecEscape(&out, byte(v))
		default:
			lx.pos++
			lx.errorf(start, "invalid escape sequence")
		}
	}
	if !rewrite {
		return
	}
	out.WriteString(q)
	t.repl, t.hasRepl = out.String(), true
	if split {
		t.repl, t.wrapped = "("+t.repl+")", true
	}
}

func hexVal(c byte) int {
	switch {
	case isDigit(c):
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	default:
		return int(c-'A') + 10
	}
}

func writeDecEscape(b *strings.Builder, c byte) {
	b.WriteByte('\\')
	s := strconv.Itoa(int(c))
	b.WriteString(strings.Repeat("0", 3-len(s)))
	b.WriteString(s)
}

// utf8Encode encodes like Lua 5.3's \u{} escape and utf8.char (both bounded at 0x10FFFF by their callers,
// as in 5.3): surrogates included (Go's encoder would substitute U+FFFD).
func utf8Encode(r uint32) []byte {
	if r < 0x80 {
		return []byte{byte(r)}
	}
	var buf [6]byte
	n := 5
	limit := uint32(0x3f) // largest value that fits in the first byte's free bits
	for r > limit {
		buf[n] = byte(0x80 | r&0x3f)
		n--
		r >>= 6
		limit >>= 1
	}
	k := 5 - n                           // continuation bytes written
	buf[n] = byte(0xff<<(7-k)) | byte(r) // lead byte: k+1 high one bits, then the value

	return append([]byte(nil), buf[n:]...)
}
