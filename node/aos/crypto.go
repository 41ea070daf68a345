package aos

import (
	"crypto/aes"

	lua "github.com/yuin/gopher-lua"
)

// The `.crypto` module (also `.crypto.init`) and its parts, under the names AOS's crypto module loads
// them by (each a bundled module, so require gives the same table everywhere):
//
//	crypto = { _version, digest, cipher, mac, kdf, utils, random = cipher.issac.random }
//
// See crypto_digest.go, crypto_mac.go, crypto_aes.go, crypto_isaac.go, crypto_aead.go and crypto_util.go.
// Not provided: the chainable constructors the parts use inside (SHA1(), SHA2_256(), HMAC(), PBKDF2() and
// the cipher modes' Cipher()/Decipher()); the AES block ciphers (.crypto.cipher.aes128/192/256) and the
// zero padding are.

// cryptoModules are the bundled modules' loaders, by name.
var cryptoModules = []struct {
	name string
	open lua.LGFunction
}{
	{".crypto.init", openCrypto}, {".crypto.util.init", openCryptoUtil}, {".crypto.util.bit", openCryptoBit},
	{".crypto.util.queue", openCryptoQueue}, {".crypto.util.stream", openCryptoStream},
	{".crypto.util.hex", openCryptoHex}, {".crypto.util.array", openCryptoArray},
	{".crypto.digest.init", openCryptoDigest}, {".crypto.digest.md2", openDigestMD2},
	{".crypto.digest.md4", openDigestMD4}, {".crypto.digest.md5", openDigestMD5},
	{".crypto.digest.sha1", openDigestSHA1}, {".crypto.digest.sha2_256", openDigestSHA256},
	{".crypto.digest.sha2_512", openDigestSHA512}, {".crypto.digest.sha3", openDigestSHA3},
	{".crypto.digest.blake2b", openDigestBlake2b}, {".crypto.cipher.init", openCryptoCipher},
	{".crypto.cipher.issac", openCipherIsaac}, {".crypto.cipher.morus", openCipherMorus},
	{".crypto.cipher.aes", openCipherAES}, {".crypto.cipher.norx", openCipherNorx},
	{".crypto.cipher.aes128", openAES128}, {".crypto.cipher.aes192", openAES192},
	{".crypto.cipher.aes256", openAES256}, {".crypto.padding.zero", openZeroPadding},
	{".crypto.mac.init", openCryptoMac}, {".crypto.mac.hmac", openMacHmac},
	{".crypto.kdf.init", openCryptoKdf}, {".crypto.kdf.pbkdf2", openKdfPbkdf2},
}

type namedFn struct {
	name string
	fn   lua.LGFunction
}

// fnTable is a table of the functions, set in this order, and the values.
func fnTable(L *lua.LState, fns []namedFn, values ...any) *lua.LTable {
	t := L.CreateTable(0, len(fns)+len(values)/2)
	for i := 0; i+1 < len(values); i += 2 {
		t.RawSetString(values[i].(string), values[i+1].(lua.LValue))
	}
	for _, f := range fns {
		t.RawSetString(f.name, L.NewFunction(f.fn))
	}
	return t
}

// requireModule is require(name) with the process's require.
func requireModule(L *lua.LState, name string) lua.LValue {
	L.Push(L.GetGlobal("require"))
	L.Push(lua.LString(name))
	L.Call(1, 1)
	v := L.Get(-1)
	L.Pop(1)
	return v
}

func pushed(L *lua.LState, v lua.LValue) int {
	L.Push(v)
	return 1
}

var version001 = lua.LString("0.0.1")

func openCrypto(L *lua.LState) int {
	cipher := requireModule(L, ".crypto.cipher.init")
	t := L.CreateTable(0, 7)
	t.RawSetString("_version", version001)
	t.RawSetString("digest", requireModule(L, ".crypto.digest.init"))
	t.RawSetString("utils", requireModule(L, ".crypto.util.init"))
	t.RawSetString("cipher", cipher)
	t.RawSetString("random", L.GetField(L.GetField(cipher, "issac"), "random"))
	t.RawSetString("mac", requireModule(L, ".crypto.mac.init"))
	t.RawSetString("kdf", requireModule(L, ".crypto.kdf.init"))
	return pushed(L, t)
}

func openCryptoUtil(L *lua.LState) int {
	t := L.CreateTable(0, 6)
	t.RawSetString("_version", version001)
	for _, p := range []struct{ key, mod string }{{"bit", ".crypto.util.bit"}, {"queue", ".crypto.util.queue"},
		{"stream", ".crypto.util.stream"}, {"hex", ".crypto.util.hex"}, {"array", ".crypto.util.array"}} {
		t.RawSetString(p.key, requireModule(L, p.mod))
	}
	return pushed(L, t)
}

// openCryptoBit: AOS's crypto takes the first bit library it finds, bit32.
func openCryptoBit(L *lua.LState) int { return pushed(L, requireModule(L, "bit32")) }

func openCryptoQueue(L *lua.LState) int { return pushed(L, L.NewFunction(queueNew)) }

func openCryptoStream(L *lua.LState) int {
	return pushed(L, fnTable(L, []namedFn{{"fromString", streamFromString}, {"toString", streamToString},
		{"fromArray", streamFromArray}, {"toArray", streamToArray}, {"fromHex", streamFromHex}, {"toHex", streamToHex}}))
}

func openCryptoHex(L *lua.LState) int {
	return pushed(L, fnTable(L, []namedFn{{"stringToHex", hexStringToHex}, {"hexToString", hexHexToString}}))
}

func openCryptoArray(L *lua.LState) int {
	return pushed(L, fnTable(L, []namedFn{{"size", arraySize}, {"fromString", arrayFromString},
		{"toString", arrayToString}, {"fromStream", arrayFromStream}, {"readFromQueue", arrayReadFromQueue},
		{"writeToQueue", arrayWriteToQueue}, {"toStream", arrayToStream}, {"fromHex", arrayFromHex},
		{"toHex", arrayToHex}, {"concat", arrayConcat}, {"truncate", arrayTruncate}, {"XOR", arrayXOR},
		{"substitute", arraySubstitute}, {"permute", arrayPermute}, {"copy", arrayCopy}, {"slice", arraySlice}}))
}

func openCryptoDigest(L *lua.LState) int {
	sha1 := requireModule(L, ".crypto.digest.sha1")
	sha256 := requireModule(L, ".crypto.digest.sha2_256")
	sha3 := requireModule(L, ".crypto.digest.sha3")
	t := L.CreateTable(0, 12)
	t.RawSetString("_version", version001)
	t.RawSetString("md2", requireModule(L, ".crypto.digest.md2"))
	t.RawSetString("md4", requireModule(L, ".crypto.digest.md4"))
	t.RawSetString("md5", requireModule(L, ".crypto.digest.md5"))
	t.RawSetString("sha1", L.GetField(sha1, "sha1"))
	t.RawSetString("sha2_256", L.GetField(sha256, "sha2_256"))
	t.RawSetString("sha2_512", requireModule(L, ".crypto.digest.sha2_512"))
	for _, k := range []string{"sha3_256", "sha3_512", "keccak256", "keccak512"} {
		t.RawSetString(k, L.GetField(sha3, k))
	}
	t.RawSetString("blake2b", requireModule(L, ".crypto.digest.blake2b"))
	return pushed(L, t)
}

func openDigestMD2(L *lua.LState) int     { return pushed(L, L.NewFunction(digestMD2)) }
func openDigestMD4(L *lua.LState) int     { return pushed(L, L.NewFunction(digestMD4)) }
func openDigestMD5(L *lua.LState) int     { return pushed(L, L.NewFunction(digestMD5)) }
func openDigestSHA512(L *lua.LState) int  { return pushed(L, L.NewFunction(digestSHA512)) }
func openDigestBlake2b(L *lua.LState) int { return pushed(L, L.NewFunction(digestBlake2b)) }
func openDigestSHA1(L *lua.LState) int    { return pushed(L, fnTable(L, []namedFn{{"sha1", digestSHA1}})) }
func openDigestSHA256(L *lua.LState) int {
	return pushed(L, fnTable(L, []namedFn{{"sha2_256", digestSHA256}}))
}
func openDigestSHA3(L *lua.LState) int {
	return pushed(L, fnTable(L, []namedFn{{"sha3_256", digestSHA3256}, {"sha3_512", digestSHA3512},
		{"keccak256", digestKeccak256}, {"keccak512", digestKeccak512}}))
}

func openCryptoCipher(L *lua.LState) int {
	t := L.CreateTable(0, 5)
	t.RawSetString("_version", version001)
	for _, p := range []struct{ key, mod string }{{"issac", ".crypto.cipher.issac"}, {"morus", ".crypto.cipher.morus"},
		{"aes", ".crypto.cipher.aes"}, {"norx", ".crypto.cipher.norx"}} {
		t.RawSetString(p.key, requireModule(L, p.mod))
	}
	return pushed(L, t)
}

func openCipherIsaac(L *lua.LState) int {
	return pushed(L, fnTable(L, []namedFn{{"seedIsaac", isaacSeed}, {"getRandomChar", isaacGetRandomChar},
		{"random", isaacRandom}, {"getRandom", isaacGetRandom}, {"encrypt", isaacEncrypt}, {"decrypt", isaacDecrypt}}))
}

func openCipherMorus(L *lua.LState) int {
	return pushed(L, fnTable(L, []namedFn{{"state_update", morusStateUpdate}, {"encrypt", morusEncrypt},
		{"decrypt", morusDecrypt}}, "key_size", lua.LNumber(32), "nonce_size", lua.LNumber(16),
		"variant", lua.LString("Morus-1280")))
}

func openCipherAES(L *lua.LState) int {
	return pushed(L, fnTable(L, []namedFn{{"encrypt", aesEncrypt}, {"decrypt", aesDecrypt}}))
}

func openCipherNorx(L *lua.LState) int {
	return pushed(L, fnTable(L, []namedFn{{"encrypt", norxEncrypt}, {"decrypt", norxDecrypt}},
		"key_size", lua.LNumber(32), "nonce_size", lua.LNumber(32), "variant", lua.LString("NORX 64-4-1")))
}

// The AES block ciphers: blockSize and encrypt/decrypt(keyArray, blockArray) -> blockArray.
func openAES128(L *lua.LState) int { return openAESBlock(L, aesBlock128Encrypt, aesBlock128Decrypt) }
func openAES192(L *lua.LState) int { return openAESBlock(L, aesBlock192Encrypt, aesBlock192Decrypt) }
func openAES256(L *lua.LState) int { return openAESBlock(L, aesBlock256Encrypt, aesBlock256Decrypt) }

func openAESBlock(L *lua.LState, enc, dec lua.LGFunction) int {
	return pushed(L, fnTable(L, []namedFn{{"encrypt", enc}, {"decrypt", dec}}, "blockSize", lua.LNumber(16)))
}

func aesBlock128Encrypt(L *lua.LState) int { return aesBlock(L, 128, true) }
func aesBlock128Decrypt(L *lua.LState) int { return aesBlock(L, 128, false) }
func aesBlock192Encrypt(L *lua.LState) int { return aesBlock(L, 192, true) }
func aesBlock192Decrypt(L *lua.LState) int { return aesBlock(L, 192, false) }
func aesBlock256Encrypt(L *lua.LState) int { return aesBlock(L, 256, true) }
func aesBlock256Decrypt(L *lua.LState) int { return aesBlock(L, 256, false) }

func aesBlock(L *lua.LState, bits int, encrypt bool) int {
	key, block := arrayBytes(L, L.Get(1)), arrayBytes(L, L.Get(2))
	if len(key) < bits/8 {
		cryptoFail(L, `[string ".crypto.cipher.aes`+itoa(bits)+`"]`, aesKeyLine[bits], "bad argument #1 to 'XOR' (number expected, got nil)")
	}
	if len(block) < 16 {
		L.RaiseError("aes: a block has 16 bytes, got %d", len(block))
	}
	c, err := aes.NewCipher(key[:bits/8])
	if err != nil {
		L.RaiseError("aes: %s", err.Error())
	}
	out := make([]byte, 16)
	if encrypt {
		c.Encrypt(out, block[:16])
	} else {
		c.Decrypt(out, block[:16])
	}
	charge(L, 4)
	return pushed(L, bytesTable(L, out))
}

// openZeroPadding: ZeroPadding(blockSize, byteCount) is a stream of the zero bytes that complete
// byteCount bytes as AOS counts them: blockSize - ((byteCount - 1) % blockSize) + 1.
func openZeroPadding(L *lua.LState) int { return pushed(L, L.NewFunction(zeroPadding)) }

func zeroPadding(L *lua.LState) int {
	bs, n := checkInt(L, 1), checkInt(L, 2)
	if bs <= 0 {
		L.RaiseError("bad argument #2 to 'mod' (zero)")
	}
	count := bs - (((n-1)%bs)+bs)%bs + 1
	chargeAlloc(L, count*sizeEntry)
	charge(L, count/8)
	return pushed(L, bytesQueue(L, make([]byte, count)))
}

func openCryptoMac(L *lua.LState) int {
	hmac := requireModule(L, ".crypto.mac.hmac")
	t := L.CreateTable(0, 2)
	t.RawSetString("_version", version001)
	t.RawSetString("createHmac", L.GetField(hmac, "hmac"))
	return pushed(L, t)
}

func openMacHmac(L *lua.LState) int { return pushed(L, fnTable(L, []namedFn{{"hmac", macCreateHmac}})) }

func openCryptoKdf(L *lua.LState) int {
	p := requireModule(L, ".crypto.kdf.pbkdf2")
	t := L.CreateTable(0, 2)
	t.RawSetString("_version", version001)
	t.RawSetString("pbkdf2", L.GetField(p, "pbkdf2"))
	return pushed(L, t)
}

func openKdfPbkdf2(L *lua.LState) int { return pushed(L, fnTable(L, []namedFn{{"pbkdf2", kdfPbkdf2}})) }
