package snapshot

import "testing"

// TestRoundTripLibraries: the state the AOS libraries keep in a process (the random generators, crypto
// streams, queues and output queues, the io files, collectgarbage's settings) survives a snapshot, and the
// restored process goes on exactly as the original.
func TestRoundTripLibraries(t *testing.T) {
	p := boot(t)
	warm := eval(2, `local c = require('.crypto')
Q = c.utils.queue() Q.push(1) Q.push(2) Q.pop()
S = c.utils.stream.fromString('abcdef') S() S()
A = c.cipher.aes.encrypt('secret data', 'kkkkkkkkkkkkkkkk')
c.cipher.issac.seedIsaac('isaac seed', true) c.cipher.issac.getRandom()
for i = 1, 700 do math.random() end
collectgarbage('setpause', 123)
IsFile = io.type(io.stdout)`)
	if r := p.Handle(warm); r.Error != "" {
		t.Fatalf("warm-up: %s", r.Error)
	}
	q, _ := restore(t, p)
	same(t, p, q,
		eval(3, `local c = require('.crypto') return Q.pop() .. ' ' .. Q.size() .. ' ' .. S() .. ' ' .. A.asHex() .. ' ' ..
  c.cipher.issac.getRandom() .. ' ' .. math.random(1000000) .. ' ' .. collectgarbage('setpause') .. ' ' .. IsFile .. ' ' ..
  tostring(io.type(io.stdout))`),
		eval(4, `return tostring(A.asHex()) .. ' ' .. tostring(S()) .. ' ' .. require('.chance').random()`),
	)
}
