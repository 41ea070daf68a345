package aos

import (
	"crypto/aes"
	"crypto/cipher"
	"strconv"

	lua "github.com/yuin/gopher-lua"
)

// crypto.cipher.aes: encrypt(data, key [, iv [, mode [, keyLength]]]) and decrypt(hex, key [, iv [, mode
// [, keyLength]]]), as AOS's pure-Lua AES runs them: the IV's bytes and then the data's go through one
// byte stream that is zero-padded (to a multiple of 16 bytes, no extra block when it already is one) and
// cut into 16-byte blocks; the first block is the IV (the ECB mode encrypts it as a block like any other),
// and every later block is processed in the mode (CBC by default; ECB, CFB, OFB, and CTR with a big-endian
// counter in the IV's last 8 bytes). The IV defaults to 16 zero bytes; any other length shifts the blocks
// as it does in AOS. A key longer than the key length uses its first bytes; a shorter one fails as AOS's
// key schedule does. The ciphertext to decrypt is hex, read up to its first pair that is not hex. The
// result's asHex (uppercase), asBytes and asString all read one output queue: the first call gets the
// output, later calls nothing.

// aesKeyLine is where AOS's key schedule fails on a key too short for each key length.
var aesKeyLine = map[int]int{128: 457, 192: 461, 256: 459}

func aesEncrypt(L *lua.LState) int { return aesRun(L, true) }
func aesDecrypt(L *lua.LState) int { return aesRun(L, false) }

func aesRun(L *lua.LState, encrypt bool) int {
	var input []byte
	if encrypt {
		input = []byte(luaStringArg(L, 1))
	} else {
		for _, v := range hexPairs(luaStringArg(L, 1)) {
			if v == lua.LNil {
				break
			}
			input = append(input, byte(v.(lua.LNumber)))
		}
	}
	key := []byte(luaStringArg(L, 2))
	iv := make([]byte, 16)
	if L.Get(3) != lua.LNil {
		iv = []byte(luaStringArg(L, 3))
	}
	mode := "CBC"
	if m, ok := L.Get(4).(lua.LString); ok {
		switch m {
		case "ECB", "CFB", "OFB", "CTR":
			mode = string(m)
		}
	}
	bits := 128
	if n, ok := L.Get(5).(lua.LNumber); ok && (n == 192 || n == 256) {
		bits = int(n)
	}

	stream := append(append([]byte(nil), iv...), input...)
	head := len(stream)
	pad := 16 - (((head-1)%16)+16)%16 + 1
	stream = append(stream, make([]byte, pad)...)
	blocks := len(stream) / 16
	charge(L, int64(blocks)*4)
	chargeAlloc(L, sizeString+int64(blocks*16))

	var block cipher.Block
	blockCipher := func() cipher.Block {
		if block == nil {
			if len(key) < bits/8 {
				cryptoFail(L, `[string ".crypto.cipher.aes`+strconv.Itoa(bits)+`"]`, aesKeyLine[bits],
					"bad argument #1 to 'XOR' (number expected, got nil)")
			}
			b, err := aes.NewCipher(key[:bits/8])
			if err != nil {
				L.RaiseError("aes: %s", err.Error())
			}
			block = b
		}
		return block
	}
	var out []byte
	var prev []byte // the chaining block (IV, counter, last ciphertext...)
	buf := make([]byte, 16)
	for i := 0; i < blocks; i++ {
		b := stream[16*i : 16*i+16]
		if mode != "ECB" && prev == nil {
			prev = append([]byte(nil), b...)
			continue
		}
		switch mode {
		case "ECB":
			if encrypt {
				blockCipher().Encrypt(buf, b)
			} else {
				blockCipher().Decrypt(buf, b)
			}
			out = append(out, buf...)
		case "CBC":
			if encrypt {
				xorInto(buf, prev, b)
				blockCipher().Encrypt(buf, buf)
				out = append(out, buf...)
				copy(prev, buf)
			} else {
				blockCipher().Decrypt(buf, b)
				xorInto(buf, buf, prev)
				out = append(out, buf...)
				copy(prev, b)
			}
		case "CFB":
			blockCipher().Encrypt(buf, prev)
			xorInto(buf, buf, b)
			out = append(out, buf...)
			if encrypt {
				copy(prev, buf)
			} else {
				copy(prev, b)
			}
		case "OFB":
			blockCipher().Encrypt(prev, prev)
			xorInto(buf, prev, b)
			out = append(out, buf...)
		case "CTR":
			blockCipher().Encrypt(buf, prev)
			xorInto(buf, buf, b)
			out = append(out, buf...)
			for j := 15; j >= 8; j-- { // the counter: the last 8 bytes, big-endian, wrapping
				prev[j]++
				if prev[j] != 0 {
					break
				}
			}
		}
	}
	// One output queue behind the three functions: a table holding what is left of it.
	queue := L.CreateTable(0, 1)
	queue.RawSetString("out", lua.LString(out))
	res := L.CreateTable(0, 3)
	res.RawSetString("asBytes", L.NewClosure(aesAsBytes, queue))
	res.RawSetString("asHex", L.NewClosure(aesAsHex, queue))
	res.RawSetString("asString", L.NewClosure(aesAsString, queue))
	L.Push(res)
	return 1
}

func xorInto(dst, a, b []byte) {
	for i := range dst {
		dst[i] = a[i] ^ b[i]
	}
}

// drain is what is left in the output queue; the queue is then empty.
func drain(L *lua.LState) string {
	q := L.Get(lua.UpvalueIndex(1)).(*lua.LTable)
	s := lua.LVAsString(q.RawGetString("out"))
	q.RawSetString("out", lua.LString(""))
	return s
}

func aesAsBytes(L *lua.LState) int {
	L.Push(bytesTable(L, []byte(drain(L))))
	return 1
}

func aesAsHex(L *lua.LState) int {
	s := drain(L)
	b := make([]byte, 0, 2*len(s))
	for i := 0; i < len(s); i++ {
		b = append(b, "0123456789ABCDEF"[s[i]>>4], "0123456789ABCDEF"[s[i]&15])
	}
	L.Push(lua.LString(b))
	return 1
}

func aesAsString(L *lua.LState) int {
	L.Push(lua.LString(drain(L)))
	return 1
}
