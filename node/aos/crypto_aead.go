package aos

import (
	"encoding/binary"
	"math/bits"

	lua "github.com/yuin/gopher-lua"
)

// crypto.cipher.morus (MORUS-1280, 16- or 32-byte keys, 16-byte nonces) and crypto.cipher.norx (NORX
// 64-4-1, 32-byte keys and nonces): authenticated encryption as AOS's modules give it. morus.encrypt(key,
// iv, msg [, ad]) gives ad .. ciphertext .. 16-byte tag, decrypt(key, iv, encrypted [, adlen]) the message
// or nil and "decrypt error"; norx.encrypt(key, nonce, plain [, header [, trailer]]) gives ciphertext ..
// 32-byte tag, decrypt(key, nonce, crypted [, header [, trailer]]) the plaintext or nil and "auth failure".
// asBytes gives the pieces the output was built from (strings), as AOS's do.

/* ---- MORUS-1280 ---- */

type morusState [20]uint64

var morusConst = [4]uint64{0xd08050302010100, 0x6279e99059372215, 0xf12fc26d55183ddb, 0xdd28b57342311120}

func (s *morusState) update(m [4]uint64) {
	rot := func(w []uint64, n int) {
		for i := range w {
			w[i] = bits.RotateLeft64(w[i], n)
		}
	}
	row := func(r int) []uint64 { return s[4*r : 4*r+4] }
	s0, s1, s2, s3, s4 := row(0), row(1), row(2), row(3), row(4)
	for i := 0; i < 4; i++ {
		s0[i] ^= s3[i] ^ s1[i]&s2[i]
	}
	rot(s0, 13)
	s3[0], s3[1], s3[2], s3[3] = s3[3], s3[0], s3[1], s3[2]
	for i := 0; i < 4; i++ {
		s1[i] ^= m[i] ^ s4[i] ^ s2[i]&s3[i]
	}
	rot(s1, 46)
	s4[0], s4[1], s4[2], s4[3] = s4[2], s4[3], s4[0], s4[1]
	for i := 0; i < 4; i++ {
		s2[i] ^= m[i] ^ s0[i] ^ s3[i]&s4[i]
	}
	rot(s2, 38)
	s0[0], s0[1], s0[2], s0[3] = s0[1], s0[2], s0[3], s0[0]
	for i := 0; i < 4; i++ {
		s3[i] ^= m[i] ^ s1[i] ^ s4[i]&s0[i]
	}
	rot(s3, 7)
	s1[0], s1[1], s1[2], s1[3] = s1[2], s1[3], s1[0], s1[1]
	for i := 0; i < 4; i++ {
		s4[i] ^= m[i] ^ s2[i] ^ s0[i]&s1[i]
	}
	rot(s4, 4)
	s2[0], s2[1], s2[2], s2[3] = s2[3], s2[0], s2[1], s2[2]
}

// keystream is the word each of the four message words is XORed with.
func (s *morusState) keystream() [4]uint64 {
	return [4]uint64{
		s[0] ^ s[5] ^ s[8]&s[12],
		s[1] ^ s[6] ^ s[9]&s[13],
		s[2] ^ s[7] ^ s[10]&s[14],
		s[3] ^ s[4] ^ s[11]&s[15],
	}
}

func words4(b []byte) [4]uint64 {
	var w [4]uint64
	for i := range w {
		w[i] = binary.LittleEndian.Uint64(b[8*i:])
	}
	return w
}

func bytes4(w [4]uint64) []byte {
	b := make([]byte, 32)
	for i, x := range w {
		binary.LittleEndian.PutUint64(b[8*i:], x)
	}
	return b
}

// pad32 is b zero-padded to 32 bytes.
func pad32(b []byte) []byte { return append(append([]byte(nil), b...), make([]byte, 32-len(b))...) }

func morusInit(L *lua.LState, key, iv []byte) *morusState {
	if len(key) != 16 && len(key) != 32 {
		cryptoFail(L, `[string ".crypto.cipher.morus"]`, 411, "key must be 16 or 32 bytes")
	}
	if len(iv) != 16 {
		cryptoFail(L, `[string ".crypto.cipher.morus"]`, 413, "iv must be 16 bytes")
	}
	var ek [4]uint64
	ek[0], ek[1] = binary.LittleEndian.Uint64(key), binary.LittleEndian.Uint64(key[8:])
	if len(key) == 16 {
		ek[2], ek[3] = ek[0], ek[1]
	} else {
		ek[2], ek[3] = binary.LittleEndian.Uint64(key[16:]), binary.LittleEndian.Uint64(key[24:])
	}
	s := &morusState{binary.LittleEndian.Uint64(iv), binary.LittleEndian.Uint64(iv[8:]), 0, 0,
		ek[0], ek[1], ek[2], ek[3], ^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0), 0, 0, 0, 0,
		morusConst[0], morusConst[1], morusConst[2], morusConst[3]}
	for i := 0; i < 16; i++ {
		s.update([4]uint64{})
	}
	for i := 0; i < 4; i++ {
		s[4+i] ^= ek[i]
	}
	return s
}

// absorb runs the associated data through the state.
func (s *morusState) absorb(ad []byte) {
	for i := 0; i < len(ad); i += 32 {
		s.update(words4(pad32(ad[i:min(i+32, len(ad))])))
	}
}

func (s *morusState) tag(mlen, adlen int) []byte {
	m := [4]uint64{uint64(adlen) << 3, uint64(mlen) << 3, 0, 0}
	for i := 0; i < 4; i++ {
		s[16+i] ^= s[i]
	}
	for i := 0; i < 10; i++ {
		s.update(m)
	}
	k := s.keystream()
	return bytes4(k)[:16]
}

func morusEncrypt(L *lua.LState) int {
	key, iv := []byte(luaStringArg(L, 1)), []byte(luaStringArg(L, 2))
	msg := []byte(luaStringArg(L, 3))
	var ad []byte
	if L.Get(4) != lua.LNil {
		ad = []byte(luaStringArg(L, 4))
	}
	s := morusInit(L, key, iv)
	charge(L, int64(len(msg)+len(ad))/8+32)
	s.absorb(ad)
	pieces := []lua.LValue{lua.LString(ad)}
	all := append([]byte(nil), ad...)
	for i := 0; i < len(msg); i += 32 {
		end := min(i+32, len(msg))
		m := words4(pad32(msg[i:end]))
		k := s.keystream()
		s.update(m)
		var c [4]uint64
		for j := range c {
			c[j] = m[j] ^ k[j]
		}
		piece := bytes4(c)[:end-i]
		pieces = append(pieces, lua.LString(piece))
		all = append(all, piece...)
	}
	tag := s.tag(len(msg), len(ad))
	pieces = append(pieces, lua.LString(tag))
	all = append(all, tag...)
	L.Push(aeadResult(L, pieces, all))
	return 1
}

func morusDecrypt(L *lua.LState) int {
	key, iv := []byte(luaStringArg(L, 1)), []byte(luaStringArg(L, 2))
	e := []byte(luaStringArg(L, 3))
	adlen := 0
	if L.Get(4) != lua.LNil {
		adlen = int(checkInt(L, 4))
	}
	s := morusInit(L, key, iv)
	elen := len(e) - 16
	if adlen < 0 || elen < adlen {
		L.RaiseError("morus: the encrypted text is shorter than its tag and associated data")
	}
	charge(L, int64(len(e))/8+32)
	s.absorb(e[:adlen])
	var plain []byte
	for i := adlen; i < elen; i += 32 {
		end := min(i+32, elen)
		c := words4(pad32(e[i:end]))
		k := s.keystream()
		var m [4]uint64
		for j := range m {
			m[j] = c[j] ^ k[j]
		}
		block := bytes4(m)[:end-i]
		s.update(words4(pad32(block))) // a partial block is absorbed zero-padded
		plain = append(plain, block...)
	}
	tag := s.tag(elen-adlen, adlen)
	if string(tag) != string(e[elen:]) {
		L.Push(lua.LNil)
		L.Push(lua.LString("decrypt error"))
		return 2
	}
	L.Push(lua.LString(plain))
	return 1
}

// morusStateUpdate is state_update(s, m0, m1, m2, m3) on a table of the 20 state words (numbers).
func morusStateUpdate(L *lua.LState) int {
	t := L.CheckTable(1)
	var s morusState
	for i := range s {
		s[i] = uint64(int64(lua.LVAsNumber(t.RawGetInt(i + 1))))
	}
	var m [4]uint64
	for i := range m {
		m[i] = uint64(int64(lua.LVAsNumber(L.Get(2 + i))))
	}
	s.update(m)
	for i, w := range s {
		t.RawSetInt(i+1, lua.LNumber(float64(int64(w))))
	}
	return 0
}

func aeadResult(L *lua.LState, pieces []lua.LValue, all []byte) *lua.LTable {
	res := L.CreateTable(0, 3)
	res.RawSetString("asBytes", L.NewClosure(returnUpvalue, valuesTable(L, pieces)))
	res.RawSetString("asString", L.NewClosure(digestString, lua.LString(all)))
	res.RawSetString("asHex", L.NewClosure(digestHex, lua.LString(all)))
	return res
}

/* ---- NORX 64-4-1 ---- */

type norxState [16]uint64

const (
	norxHeader  = 0x01
	norxPayload = 0x02
	norxTrailer = 0x04
	norxFinal   = 0x08
	norxRate    = 96
)

func norxH(a, b uint64) uint64 { return a ^ b ^ (a&b)<<1 }

func (s *norxState) g(a, b, c, d int) {
	A, B, C, D := s[a], s[b], s[c], s[d]
	A = norxH(A, B)
	D = bits.RotateLeft64(D^A, -8)
	C = norxH(C, D)
	B = bits.RotateLeft64(B^C, -19)
	A = norxH(A, B)
	D = bits.RotateLeft64(D^A, -40)
	C = norxH(C, D)
	B = bits.RotateLeft64(B^C, -63)
	s[a], s[b], s[c], s[d] = A, B, C, D
}

func (s *norxState) f() {
	s.g(0, 4, 8, 12)
	s.g(1, 5, 9, 13)
	s.g(2, 6, 10, 14)
	s.g(3, 7, 11, 15)
	s.g(0, 5, 10, 15)
	s.g(1, 6, 11, 12)
	s.g(2, 7, 8, 13)
	s.g(3, 4, 9, 14)
}

func (s *norxState) permute() {
	for i := 0; i < 4; i++ {
		s.f()
	}
}

func norxWords(b []byte, n int) []uint64 {
	w := make([]uint64, n)
	for i := range w {
		w[i] = binary.LittleEndian.Uint64(b[8*i:])
	}
	return w
}

// norxPad is a last block padded to 96 bytes: 0x01, zeros, 0x80 (0x81 when one byte is left).
func norxPad(b []byte) []byte {
	out := append(append([]byte(nil), b...), make([]byte, norxRate-len(b))...)
	out[len(b)] |= 0x01
	out[norxRate-1] |= 0x80
	return out
}

func norxInit(L *lua.LState, key, nonce []byte) (*norxState, []uint64) {
	if len(nonce) < 32 {
		cryptoFail(L, `[string ".crypto.cipher.norx"]`, 329, "bad argument #2 to 'unpack' (data string too short)")
	}
	if len(key) < 32 {
		cryptoFail(L, `[string ".crypto.cipher.norx"]`, 333, "bad argument #2 to 'unpack' (data string too short)")
	}
	var s norxState
	for i := range s {
		s[i] = uint64(i)
	}
	s.f()
	s.f()
	copy(s[0:4], norxWords(nonce, 4))
	k := norxWords(key, 4)
	copy(s[4:8], k)
	s[12] ^= 64
	s[13] ^= 4
	s[14] ^= 1
	s[15] ^= 256
	s.permute()
	for i := 0; i < 4; i++ {
		s[12+i] ^= k[i]
	}
	return &s, k
}

func (s *norxState) absorbBlock(b []byte, tag uint64) {
	s[15] ^= tag
	s.permute()
	for i, w := range norxWords(b, 12) {
		s[i] ^= w
	}
}

// absorbData: full blocks, then the padded rest (an empty rest too, after full blocks); nothing for no data.
func (s *norxState) absorbData(data []byte, tag uint64) {
	if len(data) == 0 {
		return
	}
	i := 0
	for ; len(data)-i >= norxRate; i += norxRate {
		s.absorbBlock(data[i:i+norxRate], tag)
	}
	s.absorbBlock(norxPad(data[i:]), tag)
}

func (s *norxState) encryptBlock(b []byte) []byte {
	s[15] ^= norxPayload
	s.permute()
	out := make([]byte, norxRate)
	for i, w := range norxWords(b, 12) {
		s[i] ^= w
		binary.LittleEndian.PutUint64(out[8*i:], s[i])
	}
	return out
}

func (s *norxState) decryptBlock(c []byte) []byte {
	s[15] ^= norxPayload
	s.permute()
	out := make([]byte, norxRate)
	for i, w := range norxWords(c, 12) {
		binary.LittleEndian.PutUint64(out[8*i:], s[i]^w)
		s[i] = w
	}
	return out
}

// decryptLast decrypts a last, partial block: the state's bytes with the ciphertext over their start and
// the padding bits flipped are the block the state takes.
func (s *norxState) decryptLast(c []byte) []byte {
	s[15] ^= norxPayload
	s.permute()
	block := make([]byte, norxRate)
	for i := 0; i < 12; i++ {
		binary.LittleEndian.PutUint64(block[8*i:], s[i])
	}
	copy(block, c)
	block[len(c)] ^= 0x01
	block[norxRate-1] ^= 0x80
	out := make([]byte, norxRate)
	for i, w := range norxWords(block, 12) {
		binary.LittleEndian.PutUint64(out[8*i:], s[i]^w)
		s[i] = w
	}
	return out[:len(c)]
}

func (s *norxState) finalize(k []uint64) []byte {
	s[15] ^= norxFinal
	s.permute()
	for i := 0; i < 4; i++ {
		s[12+i] ^= k[i]
	}
	s.permute()
	tag := make([]byte, 32)
	for i := 0; i < 4; i++ {
		s[12+i] ^= k[i]
		binary.LittleEndian.PutUint64(tag[8*i:], s[12+i])
	}
	return tag
}

// optStringArg is an optional string argument, "" when absent.
func optStringArg(L *lua.LState, n int) []byte {
	if L.Get(n) == lua.LNil {
		return nil
	}
	return []byte(luaStringArg(L, n))
}

func norxEncrypt(L *lua.LState) int {
	key, nonce := []byte(luaStringArg(L, 1)), []byte(luaStringArg(L, 2))
	plain := []byte(luaStringArg(L, 3))
	header, trailer := optStringArg(L, 4), optStringArg(L, 5)
	s, k := norxInit(L, key, nonce)
	charge(L, int64(len(plain)+len(header)+len(trailer))/8+32)
	s.absorbData(header, norxHeader)
	var pieces []lua.LValue
	var all []byte
	if len(plain) > 0 {
		i := 0
		for ; len(plain)-i >= norxRate; i += norxRate {
			out := s.encryptBlock(plain[i : i+norxRate])
			for j := 0; j < 12; j++ {
				pieces = append(pieces, lua.LString(out[8*j:8*j+8]))
			}
			all = append(all, out...)
		}
		last := s.encryptBlock(norxPad(plain[i:]))[:len(plain)-i]
		pieces = append(pieces, lua.LString(last))
		all = append(all, last...)
	}
	s.absorbData(trailer, norxTrailer)
	tag := s.finalize(k)
	pieces = append(pieces, lua.LString(tag))
	all = append(all, tag...)
	L.Push(aeadResult(L, pieces, all))
	return 1
}

func norxDecrypt(L *lua.LState) int {
	key, nonce := []byte(luaStringArg(L, 1)), []byte(luaStringArg(L, 2))
	crypted := []byte(luaStringArg(L, 3))
	header, trailer := optStringArg(L, 4), optStringArg(L, 5)
	if len(crypted) < 32 {
		cryptoFail(L, `[string ".crypto.cipher.norx"]`, 599, "assertion failed!")
	}
	s, k := norxInit(L, key, nonce)
	charge(L, int64(len(crypted)+len(header)+len(trailer))/8+32)
	s.absorbData(header, norxHeader)
	c := crypted[:len(crypted)-32]
	var plain []byte
	if len(c) > 0 {
		i := 0
		for ; len(c)-i >= norxRate; i += norxRate {
			plain = append(plain, s.decryptBlock(c[i:i+norxRate])...)
		}
		plain = append(plain, s.decryptLast(c[i:])...)
	}
	s.absorbData(trailer, norxTrailer)
	if string(s.finalize(k)) != string(crypted[len(crypted)-32:]) {
		L.Push(lua.LNil)
		L.Push(lua.LString("auth failure"))
		return 2
	}
	L.Push(lua.LString(plain))
	return 1
}
