package aos

import "testing"

// TestBase64AgainstWasm: .base64 as the wasm has it, lenient decoding and error positions included. (Bytes
// that are not UTF-8 were checked as byte lists: the wasm's JSON output replaces them.)
func TestBase64AgainstWasm(t *testing.T) {
	pe := func(call string) string {
		return "local b = require('.base64') local ok, e = pcall(" + call + ") return tostring(ok) .. ' ' .. tostring(e)"
	}
	b := func(expr string) string { return "local b = require('.base64') return " + expr }
	runWasmCases(t, []wasmCase{
		{b(`b.encode('') .. '|' .. b.encode('f') .. '|' .. b.encode('fo') .. '|' .. b.encode('foo') .. '|' .. b.encode('foob') .. '|' .. b.encode('\0\255\254')`), "|Zg==|Zm8=|Zm9v|Zm9vYg==|AP/+"},
		{b(`b.decode('') .. '|' .. b.decode('Zg==') .. '|' .. b.decode('Zm8=') .. '|' .. b.decode('Zm9v') .. '|' .. b.decode('Zm9vYg==') .. '|' .. b.decode('Zm 9v\nYmFy!')`), "|f|fo|foo|foob|foobar"},
		{pe("b.decode, 'abc'"), `false [string ".base64"]:281: attempt to perform arithmetic on a nil value (field '?')`},
		{pe("b.decode, 'ab'"), `false [string ".base64"]:281: attempt to perform arithmetic on a nil value (field '?')`},
		{pe("b.decode, 'a'"), `false [string ".base64"]:281: attempt to perform arithmetic on a nil value (field '?')`},
		{pe("b.decode, 'ab=c'"), "true i\xc0\x1c"}, // bytes 105,192,28 in the wasm
		{pe("b.decode, '='"), `false [string ".base64"]:297: attempt to perform arithmetic on a nil value (field '?')`},
		{pe("b.decode, '=='"), `false [string ".base64"]:305: attempt to perform arithmetic on a nil value (field '?')`},
		{pe("b.decode, 'a='"), `false [string ".base64"]:297: attempt to perform arithmetic on a nil value (field '?')`},
		{pe("b.decode, 'a=='"), `false [string ".base64"]:305: attempt to perform arithmetic on a nil value (field '?')`},
		{b("#b.decode('ab==') .. ' ' .. #b.decode('abc=') .. ' ' .. b.decode('a===') .. ' ' .. b.decode('====')"), "1 2 l \x04"},
		{pe("b.encode, 5"), `false [string ".base64"]:163: attempt to get length of a number value (local 'str')`},
		{pe("b.encode, nil"), `false [string ".base64"]:163: attempt to get length of a nil value (local 'str')`},
		{pe("b.decode, nil"), `false [string ".base64"]:247: attempt to index a nil value (local 'b64')`},
		{pe("b.decode, 5"), `false [string ".base64"]:247: attempt to index a number value (local 'b64')`},
		{pe("b.decode, {}"), `false [string ".base64"]:247: attempt to call a nil value (method 'gsub')`},
		{pe("b.encode, {}"), "true "},
		{pe("b.encode, {1}"), `false [string ".base64"]:211: attempt to call a nil value (method 'byte')`},
		{pe("b.encode, {1,2,3}"), `false [string ".base64"]:171: attempt to call a nil value (method 'byte')`},
		{pe("b.encode, 'abc', {}"), `false [string ".base64"]:191: bad argument #1 to 'char' (number expected, got nil)`},
		{pe("b.encode, 'ab', {}"), `false [string ".base64"]:207: bad argument #1 to 'char' (number expected, got nil)`},
		{pe("b.encode, 'a', {}"), `false [string ".base64"]:213: bad argument #1 to 'char' (number expected, got nil)`},
		{pe("b.encode, 'abc', {}, true"), `false [string ".base64"]:183: bad argument #1 to 'char' (number expected, got nil)`},
		{pe("b.decode, 'abcd', nil, true"), "true i\xb7\x1d"},
		{pe("b.decode, 'abc', nil, true"), `false [string ".base64"]:265: attempt to perform arithmetic on a nil value (local 'd')`},
		{pe("b.decode, 'Zm9v', {}"), `false [string ".base64"]:243: bad argument #1 to 'char' (number expected, got nil)`},
		{pe("b.makeencoder, 5"), `false [string ".base64"]:123: attempt to index a number value (local 'char')`},
		{pe("b.makedecoder, 5"), `false [string ".base64"]:123: attempt to index a number value (local 'char')`},
		{b(`b.encode('\251\255\191', b.makeencoder('-', '_', '.')) .. ' ' .. b.encode('a', b.makeencoder('-', '_', '.')) .. ' ' .. b.decode(b.encode('\251\255\191', b.makeencoder('-', '_', '.')), b.makedecoder('-', '_', '.'))`), "-_-_ YQ.. \xfb\xff\xbf"},
		{"local b = require('.base64') local e = b.makeencoder() local ks = {} for k, v in pairs(e) do ks[#ks+1] = k .. '=' .. v end table.sort(ks) return #ks .. ' ' .. e[0] .. ' ' .. e[63] .. ' ' .. e[64]", "65 65 47 61"},
		{"local b = require('.base64') local d = b.makedecoder() return tostring(d[65]) .. ' ' .. tostring(d[61]) .. ' ' .. tostring(d[43])", "0 64 62"},
		{b("b.encode('hello world', nil, true) .. ' ' .. b.decode('aGVsbG8gd29ybGQ=', nil, true)"), "aGVsbG8gd29ybGQ= hello world"},
		{"local b = require('.base64') local ks = {} for k in pairs(b) do ks[#ks+1] = k end table.sort(ks) return table.concat(ks, ' ')", "decode encode makedecoder makeencoder"},
		{"local b = require('.base64') local e = b.makeencoder('xy', 'z') return e[62] .. ' ' .. e[63] .. ' ' .. e[64]", "120 122 61"},
		{b("b.decode('Zm9v', b.makedecoder('-', '_')) .. '|' .. b.decode('Zm+v') .. '|' .. b.decode('Zm-v', b.makedecoder('-', '_'))"), "foo|fo\xaf|fo\xaf"},
		{b("#b.decode(b.encode(string.rep('xyz', 1000)))"), "3000"},
		{pe("b.encode, 'abc', {[0]=300, 1, 2, 3}"), `false [string ".base64"]:191: bad argument #1 to 'char' (number expected, got nil)`},
		{"local b = require('.base64') local d = b.makedecoder() d[90] = 'x' local ok, e = pcall(b.decode, 'Zm9v', d) return tostring(ok) .. ' ' .. tostring(e)", `false [string ".base64"]:281: attempt to perform arithmetic on a string value (field '?')`},
		{"local b = require('.base64') local d = b.makedecoder() d[90] = '7' local ok, e = pcall(b.decode, 'Zm9v', d) return tostring(ok) .. ' ' .. tostring(#e)", "true 3"},
	})
}
