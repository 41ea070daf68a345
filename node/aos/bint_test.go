package aos

import (
	"fmt"
	"math/big"
	"math/rand"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// bintState is a bare runtime state (no message loop) for calling the bint module directly.
func bintState(t *testing.T) *lua.LState {
	t.Helper()
	rt, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	L, err := newState(rt, lpEnv)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(L.Close)
	return L
}

// bx evaluates expr (with bint = 256-bit, b64 = 64-bit classes in scope) and returns its values, tostring'ed
// and joined by ","; or "error: <message>" if it raises.
func bx(t *testing.T, L *lua.LState, expr string) string {
	t.Helper()
	code := `local bint = require('.bint')(256) local b64 = require('.bint')(64)
local r = table.pack(pcall(function() return ` + expr + ` end))
if not r[1] then __r = "error: " .. tostring(r[2]) return end
local out = {} for i = 2, r.n do out[#out + 1] = tostring(r[i]) end
__r = table.concat(out, ",")`
	if err := L.DoString(code); err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	return lua.LVAsString(L.GetGlobal("__r"))
}

const (
	max256 = "57896044618658097711785492504343953926634992332820282019728792003956564819967"
	min256 = "-57896044618658097711785492504343953926634992332820282019728792003956564819968"
)

func TestBintOperations(t *testing.T) {
	L := bintState(t)
	ff := strings.Repeat("f", 64)
	cases := []struct{ expr, want string }{
		// construction
		{`bint(1)`, "1"}, {`bint.new(-42)`, "-42"}, {`bint("123456789012345678901234567890")`, "123456789012345678901234567890"},
		{`bint("0xff")`, "255"}, {`bint("0XfF")`, "255"}, {`bint("-0x10")`, "-16"}, {`bint("0b101")`, "5"}, {`bint("+7")`, "7"},
		{`bint(bint(9))`, "9"}, {`bint(2^53)`, "9007199254740992"}, {`bint(-2^63)`, "-9223372036854775808"},
		{`bint.zero()`, "0"}, {`bint.one()`, "1"}, {`bint.maxinteger()`, max256}, {`bint.mininteger()`, min256},
		{`bint.frominteger(-3)`, "-3"}, {`select("#", bint.frominteger(1.5))`, "0"}, {`bint.fromuinteger(-1)`, "18446744073709551615"},
		{`bint.fromstring("12x")`, ""} /* no value, as bint.lua's bare return */, {`bint.fromstring(" 12")`, ""}, {`bint.fromstring(12)`, ""},
		{`bint.frombase("zz", 36)`, "1295"}, {`bint.frombase("-777", 8)`, "-511"}, {`bint.frombase("8", 8)`, ""}, {`bint.frombase("1", 37)`, ""},
		{`bint.tobint(5) == nil, select("#", bint.tobint("x"))`, "false,0"}, {`bint.parse("1.5")`, "1.5"}, {`bint.parse("15")`, "15"},
		{`bint.trunc(-2.7)`, "-2"}, {`select("#", bint.trunc("x"))`, "0"}, {`bint.floor(2.5)`, "2"}, {`bint.ceil(2.5)`, "3"}, {`bint.floor(-2.5)`, "-3"},
		{`bint(1.5)`, "error: [string \".bint\"]:787: value cannot be represented by a bint"}, {`bint("1.5")`, "error: [string \".bint\"]:787: value cannot be represented by a bint"},
		{`bint("abc")`, "error: [string \".bint\"]:787: value cannot be represented by a bint"}, {`bint(2^70)`, "error: [string \".bint\"]:787: value cannot be represented by a bint"},
		{`bint(2^63)`, "9223372036854775807"}, {`bint(2^63 + 2^11)`, "error: [string \".bint\"]:787: value cannot be represented by a bint"},
		{`(function() local t = {} return bint(t) == t end)()`, "true"}, {`bint(false)`, "error: [string \".bint\"]:787: value cannot be represented by a bint"}, {`bint(nil)`, "error: [string \".bint\"]:787: value cannot be represented by a bint"},
		// arithmetic and wraparound
		{`bint(1) + 2`, "3"}, {`10 - bint(3)`, "7"}, {`bint(6) * bint(7)`, "42"}, {`-bint(5)`, "-5"},
		{`bint.maxinteger() + 1`, min256}, {`bint.mininteger() - 1`, max256}, {`-bint.mininteger()`, min256},
		{`bint(0) - 1`, "-1"}, {`bint.maxinteger() * 2`, "-2"},
		{`bint("340282366920938463463374607431768211456") * bint("340282366920938463463374607431768211456")`, "0"}, // 2^128 squared wraps to 0
		{`bint.ipow(2, 255)`, min256}, {`bint.ipow(2, 256)`, "0"}, {`bint.ipow(3, 5)`, "243"}, {`bint.ipow(-2, 3)`, "-8"}, {`bint.ipow(7, 0)`, "1"},
		{`bint.upowmod(4, 13, 497)`, "445"}, {`bint.upowmod(4, 13, 1)`, "0"},
		{`bint.inc(bint.maxinteger())`, min256}, {`bint.dec(bint(0))`, "-1"}, {`bint.inc(1.5)`, "2.5"},
		{`bint.abs(-5)`, "5"}, {`bint.abs(bint(-5))`, "5"}, {`bint.abs(-2.5)`, "2.5"}, {`bint.abs(bint.mininteger())`, min256},
		// mixing with numbers and strings
		{`bint(5) + 1.5`, "6.5"}, {`"10" + bint(3)`, "13"}, {`bint(3) * "0x10"`, "48"}, {`bint(3) + "2.5"`, "5.5"},
		{`bint(3) + "abc"`, `error: [string ".bint"]:2091: attempt to perform arithmetic on a nil value`}, {`bint(3) + {}`, `error: [string ".bint"]:2091: attempt to perform arithmetic on a nil value`},
		// as bint.lua fails (aos 2.0.0, measured in the golden suite: modules.yaml, bint-operand-errors)
		{`bint(7) % {}`, `error: [string ".bint"]:2747: attempt to perform arithmetic on a nil value (local 'ny')`},
		{`bint.idivmod({}, 2)`, `error: [string ".bint"]:2747: attempt to perform arithmetic on a nil value (local 'nx')`},
		{`bint.__le({}, bint(1))`, `error: [string ".bint"]:3429: attempt to compare nil with number`},
		{`bint.abs(setmetatable({}, { __name = "Thing" }))`, `error: [string ".bint"]:1803: bad argument #1 to 'math_abs' (number expected, got Thing)`},
		{`bint.inc("x")`, `error: [string ".bint"]:1699: attempt to perform arithmetic on a string value (local 'x')`},
		{`bint.min({}, 2)`, `error: attempt to compare number with table`},
		{`bint.max("b", "a")`, "nil"}, {`tostring(bint.max("10", "9"))`, "10"}, {`bint.max(2.5, bint(1))`, "2.5"},
		{`bint(7) / 2`, "3.5"}, {`bint(1) / 0`, "inf"}, {`bint(2) ^ 10`, "1024"}, {`bint.__pow(2, 0.5) > 1.41`, "true"},
		// division
		{`bint.__idiv(7, 2)`, "3"}, {`bint.__idiv(-7, 2)`, "-4"}, {`bint.__idiv(7, -2)`, "-4"}, {`bint.__idiv(-7, -2)`, "3"},
		{`bint(-7) % 2`, "1"}, {`bint(7) % -2`, "-1"}, {`bint(-7) % -2`, "-1"}, {`bint(6) % 3`, "0"},
		{`bint.idivmod(-7, 2)`, "-4,1"}, {`bint.tdivmod(-7, 2)`, "-3,-1"}, {`bint.tdiv(7, -2)`, "-3"}, {`bint.tmod(7, -2)`, "1"},
		{`bint.udivmod(7, 2)`, "3,1"}, {`bint.udiv(-1, 2)`, max256}, {`bint.umod(bint(-1), 10)`, "5"},
		{`bint.__idiv(bint.mininteger(), -1)`, min256}, {`bint.tdiv(bint.mininteger(), -1)`, "error: [string \".bint\"]:2593: division overflow"},
		{`bint.__idiv(1, 0)`, "error: [string \".bint\"]:2383: attempt to divide by zero"}, {`bint(1) % 0`, "error: [string \".bint\"]:2383: attempt to divide by zero"},
		{`bint.udivmod(1, 0)`, "error: [string \".bint\"]:2383: attempt to divide by zero"}, {`bint.tdiv(1, bint(0))`, "error: [string \".bint\"]:2383: attempt to divide by zero"},
		{`bint.idivmod(7.5, 2)`, "3,1.5"}, {`bint.tdivmod(-7.5, 2)`, "-3,-1.5"},
		// bitwise
		{`bint.__band(12, 10)`, "8"}, {`bint.__bor(12, 10)`, "14"}, {`bint.__bxor(12, 10)`, "6"}, {`bint.__bnot(0)`, "-1"},
		{`bint.__shl(1, 255)`, min256}, {`bint.__shl(1, 256)`, "0"}, {`bint.__shl(3, -1)`, "1"}, {`bint.__shr(-1, 255)`, "1"},
		{`bint.__shr(4, -1)`, "8"}, {`bint.__shr(bint.mininteger(), 1)`, "28948022309329048855892746252171976963317496166410141009864396001978282409984"},
		{`bint.__shl(1, 1.5)`, "error: [string \".bint\"]:995: value has no integer representation"}, {`bint.__band(1, "x")`, "error: [string \".bint\"]:1223: value has not integer representation"},
		{`bint.bwrap(-1, 8)`, "255"}, {`bint.bwrap(-1, 0)`, "0"}, {`bint.brol(bint.mininteger(), 1)`, "1"}, {`bint.bror(1, 1)`, min256},
		// comparisons
		{`bint(1) < bint(2), bint(2) < bint(1), bint(-1) < bint(0), bint(3) <= bint(3)`, "true,false,true,true"},
		{`bint(5) == bint(5), bint(5) == bint(6), bint(5) == 5, bint(5) ~= bint(5)`, "true,false,false,false"},
		{`bint.eq(bint(5), 5), bint.eq(bint(5), "5"), bint.eq(bint(5), 6), bint.eq("a", "a")`, "true,true,false,true"},
		{`bint.__lt(bint(1), 2), bint.__le(3, bint(3)), bint.__lt(bint(1), 1.5), bint.__lt(2.5, bint(2)), bint.lt == nil`, "true,true,true,false,true"},
		{`bint.ult(-1, 0), bint.ule(0, -1), bint.ult(1, 2)`, "false,true,true"},
		{`bint.max(3, bint(-5)), bint.min(3, bint(-5)), bint.max(1.5, 2.5), bint.max(bint(2), 1.5)`, "3,-5,2.5,2"},
		{`bint(1) < 2`, "error: <string>:2: attempt to compare table with number"}, // Lua 5.1: no __lt across types; use bint.lt
		// predicates
		{`bint.iszero(bint(0)), bint.iszero(0), bint.iszero(bint(1)), bint.isone(bint(1)), bint.isminusone(bint(-1))`, "true,true,false,true,true"},
		{`bint.isneg(bint(-1)), bint.isneg(bint(0)), bint.ispos(bint(0)), bint.ispos(bint(2)), bint.isneg(-3)`, "true,false,false,true,true"},
		{`bint.iseven(bint(-2)), bint.isodd(bint(3)), bint.iseven(3), bint.isodd(-3)`, "true,true,false,true"},
		{`bint.isbint(bint(1)), bint.isbint(1), bint.isbint(b64(1)), bint.isbint({})`, "true,false,false,false"},
		{`bint.type(bint(1)), bint.type(1), bint.type(1.5), bint.type("1")`, "bint,integer,float,nil"},
		{`bint.isintegral(bint(1)), bint.isintegral(2), bint.isintegral(2.5), bint.isnumeric(2.5), bint.isnumeric("2")`, "true,true,false,true,false"},
		// conversions
		{`bint.tonumber(bint("1000000000000000000000"))`, "1e+21"}, {`bint.tonumber(bint(-5))`, "-5"}, {`bint.tonumber("7")`, "7"},
		{`bint.tointeger(bint(-5))`, "-5"}, {`bint.touinteger(bint(-1))`, "-1"}, {`bint.tointeger(1.5)`, "nil"},
		{`bint.tobase(255, 2)`, "11111111"}, {`bint.tobase(bint(-255))`, "-255"}, {`bint.tobase(bint(-1), 16)`, ff},
		{`bint.tobase(bint(-1), 16, false)`, "-1"}, {`bint.tobase(bint(255), 10, true)`, "255"}, {`bint.tobase(bint(-1), 10, true)`, new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 256), big.NewInt(1)).String()},
		{`select("#", bint.tobase(1.5))`, "0"}, {`select("#", bint.tobase(1, 40))`, "0"}, {`bint.tobase(35, 36)`, "z"},
		{`#bint.tobe(1), #bint.tole(1), #bint.tobe(258, true), bint.tobe(258, true):byte(1, -1)`, "32,32,2,1,2"},
		{`bint.tole(258, true):byte(1, -1)`, "2,1"}, {`bint.frombe("\1\2")`, "258"}, {`bint.fromle("\1\2")`, "513"},
		{`bint.frombe(bint.tobe(bint(-12345))) == bint(-12345), bint.fromle(bint.tole(bint(-12345))) == bint(-12345)`, "true,true"},
		{`bint.tobe(0, true):byte(1, -1)`, "0"},
		// values, methods and the class
		{`tostring(bint(255):tobase(16)), bint(5):iszero(), bint(5).bits, #bint(1), bint(1)[1], bint(-1)[8]`, "ff,false,256,8,1,4294967295"},
		{`require('.bint')(256) == bint, pcall(require, 'bint'), require('.bint')() == bint, require('.bint')(128) == bint`, "true,false,true,false"},
		{`getmetatable(bint(1)) == bint, bint.new == bint.new`, "true,true"},
		{`(function() local x = bint(1) local y = x:_add(5) return x, y == x end)()`, "6,true"},
		{`(function() local x = bint(1) x:_shlone():_inc():_unm() return x end)()`, "-3"},
		{`(function() local x = bint(7) local y = bint(x) y:_inc() return x, y end)()`, "7,8"},
		// aos's bint has no __concat: a bint is written with tostring
		{`"bal: " .. bint(5)`, `error: <string>:2: cannot perform concat operation between string and table`}, // gopher-lua's words (a process gets 5.3's: errors.go)
		{`"bal: " .. tostring(bint(5)), bint(-5):tobase(10) .. "!"`, "bal: 5,-5!"},
		// the word shifts bint.lua keeps for itself, in place (8 words of 32 bits)
		{`(function() local x = bint(5) x:_shlwords(1) return x, x[1], x[2] end)()`, "21474836480,0,5"},
		{`(function() local x = bint.frombase("123456789abcdef0", 16) return x:_shrwords(1) == x, x:tobase(16) end)()`, "true,12345678"},
		{`(function() local x = bint(7) x:_shrwords(9) return x end)()`, "0"},
		{`b64.maxinteger(), b64.maxinteger() + 1, b64(-1):tobase(16), #b64(1)`, "9223372036854775807,-9223372036854775808,ffffffffffffffff,2"},
		{`require('.bint')(32)`, "error: [string \".bint\"]:289: bitsize must be >= 64"}, {`require('.bint')(100)`, "error: [string \".bint\"]:285: bitsize is not multiple of word bitsize"},
		{`require('.bint')(96, 16).maxinteger()`, "39614081257132168796771975167"},
	}
	for _, tc := range cases {
		if got := bx(t, L, tc.expr); got != tc.want {
			t.Errorf("%s = %q, want %q", tc.expr, got, tc.want)
		}
	}
}

// TestBintAgainstBig checks the arithmetic on random 256-bit values against math/big, and the decimal and
// hexadecimal round trips.
func TestBintAgainstBig(t *testing.T) {
	L := bintState(t)
	rng := rand.New(rand.NewSource(7))
	mod := new(big.Int).Lsh(big.NewInt(1), 256)
	half := new(big.Int).Lsh(big.NewInt(1), 255)
	wrap := func(v *big.Int) *big.Int {
		r := new(big.Int).Mod(v, mod)
		if r.Cmp(half) >= 0 {
			r.Sub(r, mod)
		}
		return r
	}
	random := func() *big.Int {
		bits := []int{1, 8, 53, 64, 65, 128, 200, 255, 256}[rng.Intn(9)]
		v := new(big.Int).Rand(rng, new(big.Int).Lsh(big.NewInt(1), uint(bits)))
		return wrap(v)
	}
	floorDiv := func(x, y *big.Int) (*big.Int, *big.Int) {
		q, r := new(big.Int).QuoRem(x, y, new(big.Int))
		if r.Sign() != 0 && r.Sign() != y.Sign() {
			q.Sub(q, big.NewInt(1))
			r.Add(r, y)
		}
		return q, r
	}
	var b strings.Builder
	var want []string
	b.WriteString("local bint = require('.bint')(256) local out = {}\n")
	for i := 0; i < 300; i++ {
		x, y := random(), random()
		if y.Sign() == 0 {
			y = big.NewInt(3)
		}
		fmt.Fprintf(&b, "do local x, y = bint('%s'), bint('%s')\n", x, y)
		b.WriteString(`out[#out+1] = table.concat({tostring(x + y), tostring(x - y), tostring(x * y), tostring(bint.__idiv(x, y)), tostring(x % y),
tostring(bint.tdiv(x, y)), tostring(bint.tmod(x, y)), tostring(bint.__band(x, y)), tostring(bint.__bor(x, y)), tostring(bint.__bxor(x, y)),
tostring(bint.__shl(x, 7)), tostring(bint.__shr(x, 100)), tostring(x < y), tostring(x == y), bint.tobase(x, 16), tostring(bint('0x' .. bint.tobase(x, 16)))}, " ")
end
`)
		q, r := floorDiv(x, y)
		tq, tr := new(big.Int).QuoRem(x, y, new(big.Int))
		ux, uy := new(big.Int).Mod(x, mod), new(big.Int).Mod(y, mod)
		shr := new(big.Int).Rsh(ux, 100)
		parts := []string{
			wrap(new(big.Int).Add(x, y)).String(), wrap(new(big.Int).Sub(x, y)).String(), wrap(new(big.Int).Mul(x, y)).String(),
			wrap(q).String(), wrap(r).String(), wrap(tq).String(), wrap(tr).String(),
			wrap(new(big.Int).And(ux, uy)).String(), wrap(new(big.Int).Or(ux, uy)).String(), wrap(new(big.Int).Xor(ux, uy)).String(),
			wrap(new(big.Int).Lsh(x, 7)).String(), wrap(shr).String(), fmt.Sprint(x.Cmp(y) < 0), fmt.Sprint(x.Cmp(y) == 0),
			ux.Text(16), x.String(),
		}
		want = append(want, strings.Join(parts, " "))
	}
	b.WriteString("__r = table.concat(out, '\\n')")
	if err := L.DoString(b.String()); err != nil {
		t.Fatal(err)
	}
	got := strings.Split(lua.LVAsString(L.GetGlobal("__r")), "\n")
	if len(got) != len(want) {
		t.Fatalf("%d results, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("case %d:\n got %s\nwant %s", i, got[i], want[i])
		}
	}
}

const tokenBlueprint = `local bint = require('.bint')(256)
Balances = Balances or { [Owner] = "1000000000000000000000000000" }
TotalSupply = "1000000000000000000000000000"
local function add(a, b) return tostring(bint(a) + bint(b)) end
local function sub(a, b) return tostring(bint(a) - bint(b)) end
Handlers.add("Transfer", "Transfer", function (msg)
  assert(type(msg.Recipient) == "string", "Recipient is required!")
  assert(bint.__lt(0, bint(msg.Quantity)), "Quantity must be greater than 0")
  local bal = Balances[msg.From] or "0"
  if bint(msg.Quantity) <= bint(bal) then
    Balances[msg.From] = sub(bal, msg.Quantity)
    Balances[msg.Recipient] = add(Balances[msg.Recipient] or "0", msg.Quantity)
    msg.reply({ Action = "Debit-Notice", Quantity = msg.Quantity, Recipient = msg.Recipient })
  else
    msg.reply({ Action = "Transfer-Error", Error = "Insufficient Balance!" })
  end
end)
Handlers.add("Supply", "Supply", function (msg)
  local total = bint.zero()
  for _, v in pairs(Balances) do total = total + bint(v) end
  Counted = tostring(total)
end)`

func TestBintTokenTransfer(t *testing.T) {
	p := lpBoot(t, Options{})
	p.mustEval(tokenBlueprint)
	transfer := func(from, to, qty string) Result {
		return p.Handle(p.msg(from, "", Tag{"Action", "Transfer"}, Tag{"Recipient", to}, Tag{"Quantity", qty}))
	}
	action := func(r Result) string {
		for _, m := range r.Messages {
			for _, tg := range m.Tags {
				if tg.Name == "Action" {
					return tg.Value
				}
			}
		}
		return ""
	}
	if r := transfer(lpOwner, lpUser, "250000000000000000000000000"); r.Error != "" || action(r) != "Debit-Notice" {
		t.Fatalf("transfer: %+v", r)
	}
	if r := transfer(lpUser, "CAROL", "50000000000000000000000001"); r.Error != "" || action(r) != "Debit-Notice" {
		t.Fatalf("transfer 2: %+v", r)
	}
	if r := transfer(lpUser, "CAROL", "999999999999999999999999999999"); r.Error != "" || action(r) != "Transfer-Error" {
		t.Fatalf("overdraft: %+v", r)
	}
	if r := transfer(lpUser, "CAROL", "-5"); !strings.Contains(r.Error, "Quantity must be greater than 0") {
		t.Fatalf("negative quantity: %+v", r)
	}
	if r := p.Handle(p.msg(lpUser, "", Tag{"Action", "Supply"})); r.Error != "" {
		t.Fatal(r.Error)
	}
	st := p.state()
	for _, want := range []string{
		`"` + lpOwner + `":"750000000000000000000000000"`,
		`"` + lpUser + `":"199999999999999999999999999"`,
		`"CAROL":"50000000000000000000000001"`,
		`"Counted":"1000000000000000000000000000"`,
	} {
		if !strings.Contains(st, want) {
			t.Fatalf("state lacks %s:\n%.2000s", want, st)
		}
	}
}

// Bints live in the process state as tables with the class as metatable; a fork copies them and the
// class, and the copies keep working (the class's Go functions find the fork's class through their
// upvalues), without touching the original.
func TestBintFork(t *testing.T) {
	p := lpBoot(t, Options{})
	p.mustEval(`local bint = require('.bint')(256)
Total = bint("123456789012345678901234567890")
Held = { a = bint(5), b = bint.mininteger() }
Mod = bint`)
	f, err := p.Fork()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fp := &lpProc{Process: f, t: t, n: 100}
	fp.mustEval(`local bint = require('.bint')(256)
assert(bint == Mod, "the fork's require gives the copied class")
assert(bint.isbint(Total) and getmetatable(Held.a) == bint, "values keep their class")
Total = Total + 1
Held.a:_add(10)
R = table.concat({ tostring(Total), tostring(Held.a), tostring(Held.b - 1), tostring(bint.__idiv(Total, Held.a)) }, " ")`)
	if st := fp.state(); !strings.Contains(st, `"R":"123456789012345678901234567891 15 `+max256+` 8230452600823045260082304526"`) {
		t.Fatalf("fork state: %.1500s", st)
	}
	p.mustEval(`R = tostring(Total) .. " " .. tostring(Held.a)`)
	if st := p.state(); !strings.Contains(st, `"R":"123456789012345678901234567890 5"`) {
		t.Fatalf("the fork changed the process: %.1500s", st)
	}
	// A fork of a fork, and a fork before the module was ever required.
	g, err := f.Fork()
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if r := (&lpProc{Process: g, t: t, n: 200}).mustEval(`R2 = tostring(Total * 2)`); r.Error != "" {
		t.Fatal(r.Error)
	}
	q := lpBoot(t, Options{})
	h, err := q.Fork()
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	(&lpProc{Process: h, t: t, n: 300}).mustEval(`R = tostring(require('.bint')(256)(7) + 1)`)
}
