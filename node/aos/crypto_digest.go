package aos

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"hash"

	lua "github.com/yuin/gopher-lua"
	"golang.org/x/crypto/blake2b"
	"golang.org/x/crypto/md4" //lint:ignore SA1019 AOS's .crypto offers MD4 for compatibility, not for security
	"golang.org/x/crypto/sha3"
)

// crypto.digest: md2, md4, md5, sha1 and sha2_256 read a stream; sha2_512, sha3_256, sha3_512, keccak256,
// keccak512 and blake2b(data [, outlen [, key]]) take a string. Each gives a table of functions over the
// digest, as AOS's do: asHex (lowercase) and asString always; asBytes a table of byte numbers (md*, sha1,
// sha2_256), of the eight signed 64-bit words (sha2_512), or of one-character strings (blake2b); the sha3
// and keccak ones have no asBytes. Hashing is charged to the compute limit by the bytes hashed.

// digestBytes is how a digest's asBytes shows it.
type digestBytes int

const (
	bytesAsNumbers digestBytes = iota
	bytesAsWords64
	bytesAsChars
	bytesNone
)

// hashCost is the compute charge for hashing n bytes (Go's hashes run at 0.2-1 GB/s).
func hashCost(n int) int64 { return int64(n)/costBytes + 1 }

func digestResult(L *lua.LState, sum []byte, kind digestBytes) *lua.LTable {
	t := L.CreateTable(0, 3)
	s := lua.LString(sum)
	t.RawSetString("asHex", L.NewClosure(digestHex, s))
	t.RawSetString("asString", L.NewClosure(digestString, s))
	switch kind {
	case bytesAsNumbers:
		t.RawSetString("asBytes", L.NewClosure(digestNumbers, s))
	case bytesAsWords64:
		t.RawSetString("asBytes", L.NewClosure(digestWords, s))
	case bytesAsChars:
		t.RawSetString("asBytes", L.NewClosure(digestChars, s))
	}
	return t
}

func upString(L *lua.LState) string { return string(L.Get(lua.UpvalueIndex(1)).(lua.LString)) }

func digestHex(L *lua.LState) int {
	s := upString(L)
	b := make([]byte, 0, 2*len(s))
	for i := 0; i < len(s); i++ {
		b = append(b, hexDigits[s[i]>>4], hexDigits[s[i]&15])
	}
	L.Push(lua.LString(b))
	return 1
}

func digestString(L *lua.LState) int {
	L.Push(L.Get(lua.UpvalueIndex(1)))
	return 1
}

func digestNumbers(L *lua.LState) int {
	L.Push(bytesTable(L, []byte(upString(L))))
	return 1
}

func digestWords(L *lua.LState) int {
	s := upString(L)
	t := L.CreateTable(len(s)/8, 0)
	for i := 0; i+8 <= len(s); i += 8 {
		t.Append(lua.LNumber(float64(int64(binary.BigEndian.Uint64([]byte(s[i : i+8]))))))
	}
	L.Push(t)
	return 1
}

func digestChars(L *lua.LState) int {
	s := upString(L)
	t := L.CreateTable(len(s), 0)
	for i := 0; i < len(s); i++ {
		t.Append(lua.LString(s[i : i+1]))
	}
	L.Push(t)
	return 1
}

// hashStream is a digest of the bytes a stream gives.
func hashStream(L *lua.LState, newHash func() hash.Hash) int {
	data := streamBytes(L, L.Get(1))
	charge(L, hashCost(len(data)))
	h := newHash()
	h.Write(data)
	L.Push(digestResult(L, h.Sum(nil), bytesAsNumbers))
	return 1
}

// hashString is a digest of a string argument.
func hashString(L *lua.LState, newHash func() hash.Hash, kind digestBytes) int {
	data := luaStringArg(L, 1)
	charge(L, hashCost(len(data)))
	h := newHash()
	h.Write([]byte(data))
	L.Push(digestResult(L, h.Sum(nil), kind))
	return 1
}

// The module's functions are top-level functions (snapshots restore them by their code).

func digestMD2(L *lua.LState) int {
	data := streamBytes(L, L.Get(1))
	charge(L, hashCost(len(data))*8) // MD2 is slow
	L.Push(digestResult(L, md2Sum(data), bytesAsNumbers))
	return 1
}

func digestMD4(L *lua.LState) int       { return hashStream(L, md4.New) }
func digestMD5(L *lua.LState) int       { return hashStream(L, md5.New) }
func digestSHA1(L *lua.LState) int      { return hashStream(L, sha1.New) }
func digestSHA256(L *lua.LState) int    { return hashStream(L, sha256.New) }
func digestSHA512(L *lua.LState) int    { return hashString(L, sha512.New, bytesAsWords64) }
func digestSHA3256(L *lua.LState) int   { return hashString(L, sha3.New256, bytesNone) }
func digestSHA3512(L *lua.LState) int   { return hashString(L, sha3.New512, bytesNone) }
func digestKeccak256(L *lua.LState) int { return hashString(L, sha3.NewLegacyKeccak256, bytesNone) }
func digestKeccak512(L *lua.LState) int { return hashString(L, sha3.NewLegacyKeccak512, bytesNone) }

// digestBlake2b is blake2b(data [, outlen [, key]]): outlen 1..64 bytes (64 by default), a key of at most
// 64 bytes; otherwise nil and "illegal parameters".
func digestBlake2b(L *lua.LState) int {
	data := luaStringArg(L, 1)
	outlen := 64
	if L.Get(2) != lua.LNil {
		outlen = int(checkInt(L, 2))
	}
	key := ""
	if L.Get(3) != lua.LNil {
		key = luaStringArg(L, 3)
	}
	if outlen < 1 || outlen > 64 || len(key) > 64 {
		L.Push(lua.LNil)
		L.Push(lua.LString("illegal parameters"))
		return 2
	}
	h, err := blake2b.New(outlen, []byte(key))
	if err != nil {
		L.RaiseError("blake2b: %s", err.Error())
	}
	charge(L, hashCost(len(data)))
	h.Write([]byte(data))
	L.Push(digestResult(L, h.Sum(nil), bytesAsChars))
	return 1
}

// md2Sum is MD2 (RFC 1319).
func md2Sum(data []byte) []byte {
	padLen := 16 - len(data)%16
	msg := make([]byte, len(data), len(data)+padLen+16)
	copy(msg, data)
	for i := 0; i < padLen; i++ {
		msg = append(msg, byte(padLen))
	}
	var checksum [16]byte
	var last byte
	for off := 0; off < len(msg); off += 16 {
		for j := 0; j < 16; j++ {
			checksum[j] ^= md2S[msg[off+j]^last]
			last = checksum[j]
		}
	}
	msg = append(msg, checksum[:]...)
	var x [48]byte
	for off := 0; off < len(msg); off += 16 {
		for j := 0; j < 16; j++ {
			x[16+j] = msg[off+j]
			x[32+j] = x[16+j] ^ x[j]
		}
		var t byte
		for round := 0; round < 18; round++ {
			for k := 0; k < 48; k++ {
				x[k] ^= md2S[t]
				t = x[k]
			}
			t += byte(round)
		}
	}
	return append([]byte(nil), x[:16]...)
}

// md2S is MD2's substitution table, built from the digits of pi (RFC 1319, section 3.2).
var md2S = [256]byte{
	41, 46, 67, 201, 162, 216, 124, 1, 61, 54, 84, 161, 236, 240, 6, 19, 98, 167, 5, 243, 192, 199, 115, 140,
	152, 147, 43, 217, 188, 76, 130, 202, 30, 155, 87, 60, 253, 212, 224, 22, 103, 66, 111, 24, 138, 23, 229, 18,
	190, 78, 196, 214, 218, 158, 222, 73, 160, 251, 245, 142, 187, 47, 238, 122, 169, 104, 121, 145, 21, 178, 7, 63,
	148, 194, 16, 137, 11, 34, 95, 33, 128, 127, 93, 154, 90, 144, 50, 39, 53, 62, 204, 231, 191, 247, 151, 3, 255,
	25, 48, 179, 72, 165, 181, 209, 215, 94, 146, 42, 172, 86, 170, 198, 79, 184, 56, 210, 150, 164, 125, 182, 118,
	252, 107, 226, 156, 116, 4, 241, 69, 157, 112, 89, 100, 113, 135, 32, 134, 91, 207, 101, 230, 45, 168, 2, 27,
	96, 37, 173, 174, 176, 185, 246, 28, 70, 97, 105, 52, 64, 126, 15, 85, 71, 163, 35, 221, 81, 175, 58, 195, 92,
	249, 206, 186, 197, 234, 38, 44, 83, 13, 110, 133, 40, 132, 9, 211, 223, 205, 244, 65, 129, 77, 82, 106, 220,
	55, 200, 108, 193, 171, 250, 36, 225, 123, 8, 12, 189, 177, 74, 120, 136, 149, 139, 227, 99, 232, 109, 233,
	203, 213, 254, 59, 0, 29, 57, 242, 239, 183, 14, 102, 88, 208, 228, 166, 119, 114, 248, 235, 117, 75, 10, 49,
	68, 80, 180, 143, 237, 31, 26, 219, 153, 141, 51, 159, 17, 131, 20,
}
