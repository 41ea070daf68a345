package aos

import (
	"fmt"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// os.date as Lua 5.3 on the wasm's C library answers it, in UTC (a process has no time zone): the C99
// conversions (and their E and O forms), "*t" for a date table; any other conversion is Lua's "invalid
// conversion specifier" error. Without a time, the current message's time.

// dateSpecifiers are the conversions Lua 5.3 accepts (LUA_STRFTIMEOPTIONS): single ones, then the E and O
// forms.
const (
	dateSingle = "aAbBcCdDeFgGhHIjmMnprRStTuUVwWxXyYzZ%"
	dateE      = "cCxXyY"
	dateO      = "deHImMSuUVwWy"
)

func osDate53(L *lua.LState) int {
	format := L.OptString(1, "%c")
	secs := clockMs(L) / 1000
	if L.Get(2) != lua.LNil {
		secs = checkInt(L, 2)
	}
	utc := strings.HasPrefix(format, "!")
	format = strings.TrimPrefix(format, "!")
	tm := time.Unix(secs, 0).UTC()
	if strings.HasPrefix(format, "*t") {
		t := L.CreateTable(0, 9)
		for _, f := range []struct {
			k string
			v int
		}{{"year", tm.Year()}, {"month", int(tm.Month())}, {"day", tm.Day()}, {"hour", tm.Hour()},
			{"min", tm.Minute()}, {"sec", tm.Second()}, {"wday", int(tm.Weekday()) + 1}, {"yday", tm.YearDay()}} {
			t.RawSetString(f.k, lua.LNumber(f.v))
		}
		t.RawSetString("isdst", lua.LFalse)
		L.Push(t)
		return 1
	}
	var b strings.Builder
	for i := 0; i < len(format); i++ {
		if format[i] != '%' {
			b.WriteByte(format[i])
			continue
		}
		conv := ""
		switch {
		case i+1 < len(format) && strings.IndexByte(dateSingle, format[i+1]) >= 0:
			conv = format[i+1 : i+2]
		case i+2 < len(format) && format[i+1] == 'E' && strings.IndexByte(dateE, format[i+2]) >= 0,
			i+2 < len(format) && format[i+1] == 'O' && strings.IndexByte(dateO, format[i+2]) >= 0:
			conv = format[i+1 : i+3]
		default:
			// 5.3 quotes the format from the bad conversion to its end
			L.ArgError(1, "invalid conversion specifier '"+format[i:]+"'")
		}
		b.WriteString(strftime(tm, conv, utc))
		i += len(conv)
	}
	L.Push(lua.LString(b.String()))
	return 1
}

// strftime is one conversion of C's strftime (musl's) for a UTC time, in the C locale: conv is the
// conversion without its %, an E or O form answered as the plain one but for %Ec; utc: gmtime's time
// ("!"), whose zone is named GMT.
func strftime(tm time.Time, conv string, utc bool) string {
	if conv == "Ec" {
		return "%c" // musl's era format for %Ec, which in the C locale is this text itself
	}
	c := conv[len(conv)-1]
	isoYear, isoWeek := tm.ISOWeek()
	switch c {
	case 'a':
		return tm.Format("Mon")
	case 'A':
		return tm.Format("Monday")
	case 'b', 'h':
		return tm.Format("Jan")
	case 'B':
		return tm.Format("January")
	case 'c':
		return tm.Format("Mon Jan 02 15:04:05 2006")
	case 'C':
		return fmt.Sprintf("%02d", tm.Year()/100)
	case 'd':
		return fmt.Sprintf("%02d", tm.Day())
	case 'D', 'x':
		return tm.Format("01/02/06")
	case 'e':
		return fmt.Sprintf("%2d", tm.Day())
	case 'F':
		return tm.Format("2006-01-02")
	case 'g':
		return fmt.Sprintf("%02d", isoYear%100)
	case 'G':
		return fmt.Sprint(isoYear)
	case 'H':
		return fmt.Sprintf("%02d", tm.Hour())
	case 'I':
		return tm.Format("03")
	case 'j':
		return fmt.Sprintf("%03d", tm.YearDay())
	case 'm':
		return fmt.Sprintf("%02d", int(tm.Month()))
	case 'M':
		return fmt.Sprintf("%02d", tm.Minute())
	case 'n':
		return "\n"
	case 'p':
		return tm.Format("PM")
	case 'r':
		return tm.Format("03:04:05 PM")
	case 'R':
		return tm.Format("15:04")
	case 'S':
		return fmt.Sprintf("%02d", tm.Second())
	case 't':
		return "\t"
	case 'T', 'X':
		return tm.Format("15:04:05")
	case 'u':
		return fmt.Sprint((int(tm.Weekday())+6)%7 + 1)
	case 'U':
		return fmt.Sprintf("%02d", (tm.YearDay()+6-int(tm.Weekday()))/7)
	case 'V':
		return fmt.Sprintf("%02d", isoWeek)
	case 'w':
		return fmt.Sprint(int(tm.Weekday()))
	case 'W':
		return fmt.Sprintf("%02d", (tm.YearDay()+6-(int(tm.Weekday())+6)%7)/7)
	case 'y':
		return fmt.Sprintf("%02d", tm.Year()%100)
	case 'Y':
		return fmt.Sprint(tm.Year())
	case 'z':
		return "+0000"
	case 'Z':
		if utc {
			return "GMT"
		}
		return "UTC"
	case '%':
		return "%"
	}
	return ""
}
