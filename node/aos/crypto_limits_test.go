package aos

import (
	"strings"
	"testing"
)

// TestLibraryWorkIsBounded: library calls whose work a caller controls (iterations, counts, streams
// that never end, __index that never gives nil) stop at the message's limits instead of running on.
func TestLibraryWorkIsBounded(t *testing.T) {
	env := Env{Process: ProcessInfo{Id: pid, Owner: owner, Tags: []Tag{{"Type", "Process"}, {"Module", "MOD"}}}, Module: ModuleInfo{Id: "MOD"}}
	p, err := New(env, Options{ComputeLimit: 5_000_000, MemoryLimit: 64 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if r := p.Handle(Message{Id: pid, Owner: owner, From: owner, Target: pid, Tags: env.Process.Tags}); r.Error != "" {
		t.Fatal(r.Error)
	}
	for _, code := range []string{
		"local c = require('.crypto') return c.kdf.pbkdf2(c.utils.array.fromString('p'), c.utils.array.fromString('s'), 1e12, 32).asHex()",
		"local c = require('.crypto') return c.kdf.pbkdf2(c.utils.array.fromString('p'), c.utils.array.fromString('s'), 1e300, 1e300).asHex()",
		"local c = require('.crypto') return #c.utils.array.truncate({}, 1e15)",
		"local c = require('.crypto') return #c.utils.array.slice({}, 1, 1e15)",
		"local c = require('.crypto') return #c.utils.array.fromStream(function() return 1 end)",
		"local c = require('.crypto') return #c.utils.array.toHex(setmetatable({}, { __index = function() return 1 end }))",
		"local c = require('.crypto') return #c.utils.array.toHex(setmetatable({}, { __index = tostring }))",
		"local c = require('.crypto') return #c.utils.stream.toArray(math.random)",
		"local c = require('.crypto') return #c.utils.array.readFromQueue(c.utils.queue(), 1e15)",
		"local z = require('.crypto.padding.zero') return z(1e15, 2) ~= nil",
		"local c = require('.crypto') return c.digest.sha2_256(function() return 97 end).asHex()",
	} {
		r := p.Handle(msg(owner, code, Tag{"Action", "Eval"}))
		if !strings.Contains(r.Error, "compute limit exceeded") && !strings.Contains(r.Error, "not enough memory") {
			t.Errorf("%s\n  gave %q (output %q), want a limit error", code, r.Error, r.Output.Data)
		}
	}
}
