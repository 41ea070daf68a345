package store

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"testing"
)

// BenchmarkScheduleWrites is the SU's write of a group of 8 messages for one of 50 processes (each message
// and its assignment held, both queued for upload, the crank queued), on a store that already holds 20,000
// messages, so its trees are as deep as a running node's. It reports the pages a message makes the commit
// write, which is what a commit's time grows with (about 38 µs a page on the 2-core machine, README).
func BenchmarkScheduleWrites(b *testing.B) {
	ctx := context.Background()
	d, _ := openTemp(b)
	const procs, group = 50, 8
	next := make([]int64, procs)
	id := func() string {
		var h [32]byte
		rand.Read(h[:])
		return base64.RawURLEncoding.EncodeToString(h[:])
	}
	pids := make([]string, procs)
	for i := range pids {
		pids[i] = id()
		spawn := NewEntry{Entry: Entry{Process: pids[i], AssignmentID: id(), MessageID: pids[i], Local: true},
			AssignmentRaw: make([]byte, 1100), MessageRaw: make([]byte, 1000), Process: &Process{ID: pids[i]}}
		if err := d.Append(ctx, spawn); err != nil {
			b.Fatal(err)
		}
		next[i] = 1
	}
	write := func(g, n int) {
		p := g % procs
		nes := make([]NewEntry, n)
		for k := range nes {
			e := Entry{Process: pids[p], Nonce: next[p], AssignmentID: id(), MessageID: id(), Local: true}
			next[p]++
			msg, asg := make([]byte, 1000), make([]byte, 1100)
			rand.Read(msg)
			rand.Read(asg)
			nes[k] = NewEntry{Entry: e, AssignmentRaw: asg, MessageRaw: msg, Uploads: []string{e.MessageID, e.AssignmentID}, Crank: true}
		}
		if err := d.AppendTaken(ctx, func() []NewEntry { return nes }); err != nil {
			b.Fatal(err)
		}
	}
	for g := range 40 {
		write(g, 500)
	}
	before := d.db.Stats().TxStats
	b.ResetTimer()
	for g := range b.N {
		write(g, group)
	}
	b.StopTimer()
	after := d.db.Stats().TxStats
	msgs := float64(b.N * group)
	b.ReportMetric(float64(after.GetWrite()-before.GetWrite())/msgs, "pages/msg")
	b.ReportMetric(float64((after.GetWriteTime()-before.GetWriteTime()).Microseconds())/msgs, "write-µs/msg")
	b.ReportMetric(float64(b.Elapsed().Microseconds())/msgs, "µs/msg")
}
