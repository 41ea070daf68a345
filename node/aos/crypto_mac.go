package aos

import (
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"hash"
	"math"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// crypto.mac.createHmac(data, key [, algorithm]) and crypto.kdf.pbkdf2(password, salt, iterations, keyLen
// [, digest]): data a stream, key, password and salt arrays of bytes, the algorithm "sha1" (the default)
// or "sha256". AOS's createHmac uses a 32-byte block (not the hash's 64), so its values are not RFC 2104's:
// the key (hashed first when longer than 32 bytes) is padded to 32 bytes and XORed with 0x36 and 0x5C. Its
// pbkdf2 is the standard one (HMAC with 64-byte blocks). Results have asHex (lowercase for the HMAC,
// uppercase for pbkdf2, as AOS gives them), asBytes and asString.

const (
	hmacLineAlgorithm   = 217
	pbkdf2LineAlgorithm = 277
	hmacBlock           = 32
	// pbkdf2Cost is the compute charge of one HMAC iteration of one block.
	pbkdf2Cost = 16
)

// digestNamed is the hash an algorithm name selects, or the module's error.
func digestNamed(L *lua.LState, n int, chunk string, line int) func() hash.Hash {
	switch v := L.Get(n); {
	case v == lua.LNil || v == lua.LString("sha1"):
		return sha1.New
	case v == lua.LString("sha256"):
		return sha256.New
	default:
		text, ok := concatTextPlain(v)
		if !ok {
			cryptoFail(L, chunk, line, "attempt to concatenate a "+v.Type().String()+" value (local 'algorithm')")
		}
		cryptoFail(L, chunk, line, "Unsupported algorithm: "+text)
	}
	return nil
}

// concatTextPlain is what `..` makes of a string or number.
func concatTextPlain(v lua.LValue) (string, bool) {
	switch x := v.(type) {
	case lua.LString:
		return string(x), true
	case lua.LNumber:
		return x.String(), true
	}
	return "", false
}

// arrayBytes is an array's bytes up to its first nil.
func arrayBytes(L *lua.LState, v lua.LValue) []byte {
	t, ok := v.(*lua.LTable)
	if !ok {
		L.RaiseError("array expected, got %s", v.Type().String())
	}
	vals := arrayPrefix(L, t)
	b := make([]byte, len(vals))
	for i, x := range vals {
		n, ok := x.(lua.LNumber)
		if !ok {
			L.RaiseError("array element %d is a %s, not a byte", i+1, x.Type().String())
		}
		b[i] = byte(int64(n))
	}
	return b
}

func macCreateHmac(L *lua.LState) int {
	data := streamBytes(L, L.Get(1))
	keyTable, ok := L.Get(2).(*lua.LTable)
	if !ok {
		L.RaiseError("array expected, got %s", L.Get(2).Type().String())
	}
	newHash := digestNamed(L, 3, `[string ".crypto.mac.hmac"]`, hmacLineAlgorithm)
	key := arrayBytes(L, keyTable)
	if L.ObjLen(keyTable) > hmacBlock {
		h := newHash()
		h.Write(key)
		key = h.Sum(nil)
	}
	var ipad, opad [hmacBlock]byte
	for i := range ipad {
		var k byte
		if i < len(key) {
			k = key[i]
		}
		ipad[i], opad[i] = k^0x36, k^0x5C
	}
	charge(L, hashCost(len(data)+4*hmacBlock))
	inner := newHash()
	inner.Write(ipad[:])
	inner.Write(data)
	outer := newHash()
	outer.Write(opad[:])
	outer.Write(inner.Sum(nil))
	L.Push(digestResult(L, outer.Sum(nil), bytesAsNumbers))
	return 1
}

func kdfPbkdf2(L *lua.LState) int {
	password, salt := arrayBytes(L, L.Get(1)), arrayBytes(L, L.Get(2))
	iter := int(min(math.Floor(float64(L.CheckNumber(3))), 1<<40))
	keyLen := float64(L.CheckNumber(4))
	newHash := digestNamed(L, 5, `[string ".crypto.kdf.pbkdf2"]`, pbkdf2LineAlgorithm)
	var key []byte
	if blocks := math.Ceil(keyLen / 16); blocks >= 1 && iter >= 1 {
		n := int(min(keyLen, 1<<40))
		chargeAlloc(L, sizeString+int64(n))
		hLen := newHash().Size()
		charge(L, int64(min(float64(iter)*math.Ceil(float64(n)/float64(hLen))*pbkdf2Cost, math.MaxInt64/2)))
		var err error
		key, err = pbkdf2.Key(newHash, string(password), salt, iter, n)
		if err != nil {
			L.RaiseError("pbkdf2: %s", err.Error())
		}
	}
	t := bytesTable(L, key)
	res := L.CreateTable(0, 3)
	res.RawSetString("asBytes", L.NewClosure(returnUpvalue, t))
	res.RawSetString("asHex", L.NewClosure(upperHexOf, lua.LString(key)))
	res.RawSetString("asString", L.NewClosure(digestString, lua.LString(key)))
	L.Push(res)
	return 1
}

// returnUpvalue gives its upvalue (the same table on every call, as AOS's pbkdf2 asBytes does).
func returnUpvalue(L *lua.LState) int {
	L.Push(L.Get(lua.UpvalueIndex(1)))
	return 1
}

func upperHexOf(L *lua.LState) int {
	L.Push(lua.LString(strings.ToUpper(hexOf(upString(L)))))
	return 1
}

func hexOf(s string) string {
	b := make([]byte, 0, 2*len(s))
	for i := 0; i < len(s); i++ {
		b = append(b, hexDigits[s[i]>>4], hexDigits[s[i]&15])
	}
	return string(b)
}
