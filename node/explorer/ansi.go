package explorer

import (
	"fmt"
	"html"
	"html/template"
	"strconv"
	"strings"
)

// ansiStyle is the text style the SGR sequences seen so far set.
type ansiStyle struct {
	fg, bg                       string // a class suffix ("1".."15") or a CSS colour ("rgb(...)"), "" for default
	bold, dim, italic, underline bool
}

func (s ansiStyle) plain() bool { return s == ansiStyle{} }

// span opens a span for s: palette colours as classes (the stylesheet picks them), others inline.
func (s ansiStyle) span() string {
	var class, style []string
	add := func(kind, v string) {
		if strings.HasPrefix(v, "rgb(") {
			prop := "color"
			if kind == "bg" {
				prop = "background-color"
			}
			style = append(style, prop+":"+v)
		} else if v != "" {
			class = append(class, "ansi-"+kind+v)
		}
	}
	add("fg", s.fg)
	add("bg", s.bg)
	for _, f := range []struct {
		on   bool
		name string
	}{{s.bold, "ansi-bold"}, {s.dim, "ansi-dim"}, {s.italic, "ansi-italic"}, {s.underline, "ansi-underline"}} {
		if f.on {
			class = append(class, f.name)
		}
	}
	out := "<span"
	if len(class) > 0 {
		out += ` class="` + strings.Join(class, " ") + `"`
	}
	if len(style) > 0 {
		out += ` style="` + strings.Join(style, ";") + `"`
	}
	return out + ">"
}

// ANSI renders terminal text as HTML, the way a terminal shows it: SGR sequences (colours, bold, dim, italic,
// underline; 16, 256 and 24-bit colours) become spans, other escape sequences are dropped, and the text is
// escaped. AOS colours its console output this way.
func ANSI(s string) template.HTML {
	var b strings.Builder
	var st ansiStyle
	open := false
	for len(s) > 0 {
		i := strings.IndexByte(s, 0x1b)
		if i < 0 {
			b.WriteString(html.EscapeString(s))
			break
		}
		b.WriteString(html.EscapeString(s[:i]))
		s = s[i+1:]
		if !strings.HasPrefix(s, "[") {
			// A lone ESC or another kind of escape: drop the ESC and its next byte.
			if len(s) > 0 {
				s = s[1:]
			}
			continue
		}
		// CSI: parameters and intermediates, then a final byte in 0x40..0x7e.
		j := 1
		for j < len(s) && (s[j] < 0x40 || s[j] > 0x7e) {
			j++
		}
		if j == len(s) {
			break // cut off: drop it
		}
		params, final := s[1:j], s[j]
		s = s[j+1:]
		if final != 'm' {
			continue
		}
		next := applySGR(st, params)
		if next == st {
			continue
		}
		if open {
			b.WriteString("</span>")
			open = false
		}
		st = next
		if !st.plain() {
			b.WriteString(st.span())
			open = true
		}
	}
	if open {
		b.WriteString("</span>")
	}
	return template.HTML(b.String()) //nolint:gosec // built from escaped text and generated tags only
}

// applySGR applies one "Select Graphic Rendition" parameter list to st.
func applySGR(st ansiStyle, params string) ansiStyle {
	if params == "" {
		return ansiStyle{}
	}
	ps := strings.Split(params, ";")
	num := func(i int) int {
		if i >= len(ps) {
			return -1
		}
		n, err := strconv.Atoi(ps[i])
		if err != nil {
			return -1
		}
		return n
	}
	for i := 0; i < len(ps); i++ {
		n := num(i)
		switch {
		case n == 0:
			st = ansiStyle{}
		case n == 1:
			st.bold = true
		case n == 2:
			st.dim = true
		case n == 3:
			st.italic = true
		case n == 4:
			st.underline = true
		case n == 22:
			st.bold, st.dim = false, false
		case n == 23:
			st.italic = false
		case n == 24:
			st.underline = false
		case n >= 30 && n <= 37:
			st.fg = strconv.Itoa(n - 30)
		case n >= 90 && n <= 97:
			st.fg = strconv.Itoa(n - 90 + 8)
		case n == 39:
			st.fg = ""
		case n >= 40 && n <= 47:
			st.bg = strconv.Itoa(n - 40)
		case n >= 100 && n <= 107:
			st.bg = strconv.Itoa(n - 100 + 8)
		case n == 49:
			st.bg = ""
		case n == 38 || n == 48:
			c, used := extendedColour(num, i+1)
			i += used
			if n == 38 {
				st.fg = c
			} else {
				st.bg = c
			}
		}
	}
	return st
}

// extendedColour reads "5;n" (256 colours) or "2;r;g;b" from parameter i on: the colour and how many
// parameters it took.
func extendedColour(num func(int) int, i int) (string, int) {
	switch num(i) {
	case 5:
		n := num(i + 1)
		if n < 0 || n > 255 {
			return "", 2
		}
		if n < 16 {
			return strconv.Itoa(n), 2
		}
		r, g, b := xterm256(n)
		return fmt.Sprintf("rgb(%d,%d,%d)", r, g, b), 2
	case 2:
		r, g, b := num(i+1), num(i+2), num(i+3)
		if r < 0 || g < 0 || b < 0 || r > 255 || g > 255 || b > 255 {
			return "", 4
		}
		return fmt.Sprintf("rgb(%d,%d,%d)", r, g, b), 4
	}
	return "", 1
}

// xterm256 is the RGB of an xterm 256-colour index from 16 on: a 6x6x6 cube, then 24 greys.
func xterm256(n int) (int, int, int) {
	if n >= 232 {
		v := 8 + (n-232)*10
		return v, v, v
	}
	n -= 16
	level := func(v int) int {
		if v == 0 {
			return 0
		}
		return 55 + v*40
	}
	return level(n / 36), level(n / 6 % 6), level(n % 6)
}
