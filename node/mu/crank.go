package mu

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/aonode/aonode/bundler"
	"github.com/aonode/aonode/node/aos"
	"github.com/aonode/aonode/node/store"
)

// crank reads the result of a scheduled message and queues what it emitted, in the transaction that ends the
// crank: a crash before it signs again (nothing was sent), a crash after it sends the same items.
func (m *Service) crank(ctx context.Context, t *store.Task) error {
	b, err := m.crankOutbox(ctx, t)
	if err != nil {
		return err
	}
	if err := m.finish(ctx, t, b); err != nil {
		return err
	}
	m.cranked.Add(1)
	m.toWallets.Add(int64(len(b.Wallet)))
	return nil
}

// crankRunFor bounds how long crankRun signs before it writes what it has: a run of RSA signatures would
// otherwise hold back the first cranks' pushes.
const crankRunFor = 50 * time.Millisecond

// crankRun cranks several queued results of one process in nonce order and ends them all in one transaction: a
// busy process's cranks then share a commit (and its fsyncs), where one at a time each waited for its own. It
// returns how many it finished (the first n); an error is the next one's, ts[n], which was not.
func (m *Service) crankRun(ctx context.Context, ts []store.Task) (n int, err error) {
	bs := make([]store.TaskBatch, 0, len(ts))
	t0 := time.Now()
	for i := range ts {
		if i > 0 && time.Since(t0) > crankRunFor {
			break // the rest wait for the next run: the first ones' pushes should not wait on them
		}
		b, cerr := m.crankOutbox(ctx, &ts[i])
		if cerr != nil {
			err = cerr
			break
		}
		b.Done = ts[i].Seq
		bs = append(bs, b)
	}
	if len(bs) == 0 {
		return 0, err
	}
	if ferr := m.db.FinishTasks(ctx, bs...); ferr != nil {
		// One transaction for all: nothing was written. Finish them one by one, so a failure is the failing
		// task's own (and one that is gone does not hold up the others).
		for i, b := range bs {
			if ferr := m.db.FinishTasks(ctx, b); errors.Is(ferr, store.ErrTaskGone) {
				continue
			} else if ferr != nil {
				return i, ferr
			}
			m.cranked.Add(1)
			m.toWallets.Add(int64(len(b.Wallet)))
		}
		return len(bs), err
	}
	for _, b := range bs {
		m.cranked.Add(1)
		m.toWallets.Add(int64(len(b.Wallet)))
	}
	return len(bs), err
}

// crankOutbox reads the result of the scheduled message t names and signs what it emitted: the batch that
// finishes t.
func (m *Service) crankOutbox(ctx context.Context, t *store.Task) (store.TaskBatch, error) {
	res, sc, err := m.cu.Result(ctx, t.Process, t.Source)
	if err != nil {
		return store.TaskBatch{}, fmt.Errorf("read result: %w", err)
	}
	if sc == nil {
		if sc, err = m.su.Lookup(ctx, t.Process, t.Source); err != nil {
			return store.TaskBatch{}, fmt.Errorf("read scheduled message: %w", err)
		}
	}
	// Pushed-For names the user message a chain of pushes started from; an MU pushes it along (only a message
	// an MU pushed, with From-Process, carries one worth keeping).
	pushedFor := sc.Message.ID
	if _, pushed := sc.Message.Tag("From-Process"); pushed {
		if pf, ok := sc.Message.Tag("Pushed-For"); ok && pf != "" {
			pushedFor = pf
		}
	}
	// The signer of the message is a wallet (an address is a key's hash, never an item id), as are the
	// process's owner and this node's own keys: a message to any of them needs no lookup.
	wallets := map[string]bool{sc.Message.OwnerAddress(): true, m.wallet.Address(): true, m.su.Address(): true}
	return m.outbox(ctx, t.Process, t.Source, res, pushedFor, wallets)
}

var stripped = map[string]bool{"Data-Protocol": true, "Type": true, "From-Process": true, "From-Module": true, "Assignments": true}

// outbox signs what one evaluation of pid emitted (source names the evaluation) and returns the tasks that
// deliver it. Messages to a target in wallets are returned as wallet messages: stored and uploaded, nothing
// to deliver.
func (m *Service) outbox(ctx context.Context, pid, source string, res *aos.Result, pushedFor string, wallets map[string]bool) (store.TaskBatch, error) {
	var b store.TaskBatch
	info, err := m.process(ctx, pid)
	if err != nil {
		return b, err
	}
	wallets[info.owner] = true
	module := info.module
	warn := func(msg string, args ...any) {
		m.log.Warn(msg, append([]any{"process", pid, "source", source}, args...)...)
	}
	base := store.Task{Process: pid, Source: source, PushedFor: pushedFor}
	for i, out := range res.Messages {
		if !validID(out.Target) {
			warn("crank: outbox message has no valid Target; dropped", "index", i, "target", out.Target)
			continue
		}
		tags := make([]bundler.Tag, 0, len(out.Tags)+5)
		for _, t := range out.Tags {
			if !stripped[t.Name] {
				tags = append(tags, bundler.Tag{Name: t.Name, Value: t.Value})
			}
		}
		tags = append(tags,
			bundler.Tag{Name: "Data-Protocol", Value: "ao"}, bundler.Tag{Name: "Type", Value: "Message"},
			bundler.Tag{Name: "From-Process", Value: pid}, bundler.Tag{Name: "From-Module", Value: module})
		if pushedFor != "" { // cron results are pushed for nobody
			tags = append(tags, bundler.Tag{Name: "Pushed-For", Value: pushedFor})
		}
		it, err := m.sign(out.Data, out.Target, out.Anchor, tags)
		if err != nil {
			return b, fmt.Errorf("sign outbox message %d: %w", i, err)
		}
		t := base
		t.Kind, t.Target, t.ItemID, t.Index = store.TaskMessage, out.Target, it.ID, i
		if wallets[out.Target] {
			b.Wallet = append(b.Wallet, store.NewTask{Task: t, Raw: it.Raw})
		} else {
			b.Tasks = append(b.Tasks, store.NewTask{Task: t, Raw: it.Raw})
		}
	}
	for i, sp := range res.Spawns {
		child, notice, err := m.signSpawn(pid, module, sp, pushedFor)
		if err != nil {
			return b, fmt.Errorf("sign spawn %d: %w", i, err)
		}
		t := base
		t.Kind, t.ItemID, t.Index = store.TaskSpawn, child.ID, i
		n := base
		n.Kind, n.Target, n.ItemID, n.Index = store.TaskMessage, pid, notice.ID, i
		t.Then = &store.NewTask{Task: n, Raw: notice.Raw}
		b.Tasks = append(b.Tasks, store.NewTask{Task: t, Raw: child.Raw})
	}
	for i, a := range res.Assignments {
		for _, target := range a.Processes {
			if !validID(target) || !validID(a.Message) {
				warn("crank: assignment with an invalid process or message id; dropped", "index", i, "to", target, "message", a.Message)
				continue
			}
			t := base
			t.Kind, t.Target, t.Message, t.Index = store.TaskAssign, target, a.Message, i
			b.Tasks = append(b.Tasks, store.NewTask{Task: t})
		}
	}
	return b, nil
}

// process is pid's owner and module, from procs or from its spawn.
func (m *Service) process(ctx context.Context, pid string) (procInfo, error) {
	if info, ok := m.procs.Get(pid); ok {
		return info, nil
	}
	p, pit, err := m.su.Process(ctx, pid)
	if err != nil {
		return procInfo{}, fmt.Errorf("read process: %w", err)
	}
	module, _ := pit.Tag("Module")
	info := procInfo{owner: p.Owner, module: module}
	m.procs.Add(pid, info)
	return info, nil
}

// signSpawn signs a spawn a process emitted and the Spawned notice its parent gets once it is scheduled.
func (m *Service) signSpawn(parent, parentModule string, sp aos.OutSpawn, pushedFor string) (child, notice *bundler.Item, err error) {
	tags := make([]bundler.Tag, 0, len(sp.Tags)+7)
	hasScheduler, hasModule, hasAuthority := false, false, false
	variant := "ao.TN.1"
	for _, t := range sp.Tags {
		switch t.Name {
		case "Data-Protocol", "Type", "From-Process", "From-Module", "Pushed-For":
			continue
		case "Variant":
			variant = t.Value
			continue
		case "Scheduler":
			hasScheduler = true
		case "Module":
			hasModule = true
		case "Authority":
			hasAuthority = true
		}
		tags = append(tags, bundler.Tag{Name: t.Name, Value: t.Value})
	}
	if !hasModule {
		tags = append(tags, bundler.Tag{Name: "Module", Value: parentModule})
	}
	if !hasScheduler {
		tags = append(tags, bundler.Tag{Name: "Scheduler", Value: m.su.Address()})
	}
	if !hasAuthority {
		// As aos does for the processes it spawns: the child trusts the MU that pushes for it (and for the
		// other processes of the deployment), whichever SU schedules it.
		tags = append(tags, bundler.Tag{Name: "Authority", Value: m.wallet.Address()})
	}
	tags = append(tags,
		bundler.Tag{Name: "Variant", Value: variant}, bundler.Tag{Name: "Data-Protocol", Value: "ao"},
		bundler.Tag{Name: "Type", Value: "Process"}, bundler.Tag{Name: "From-Process", Value: parent},
		bundler.Tag{Name: "From-Module", Value: parentModule})
	if pushedFor != "" {
		tags = append(tags, bundler.Tag{Name: "Pushed-For", Value: pushedFor})
	}
	if child, err = m.sign(sp.Data, "", "", tags); err != nil {
		return nil, nil, err
	}
	// The parent is told, as the reference MU does, so `Spawned` handlers (and ao.spawn().receive()) fire.
	note := []bundler.Tag{}
	for _, t := range sp.Tags {
		switch t.Name {
		case "Data-Protocol", "Variant", "Type", "Module", "Scheduler", "From-Process", "From-Module", "Pushed-For", "On-Boot", "Authority":
			continue
		}
		note = append(note, bundler.Tag{Name: t.Name, Value: t.Value})
	}
	note = append(note,
		bundler.Tag{Name: "Data-Protocol", Value: "ao"}, bundler.Tag{Name: "Type", Value: "Message"},
		bundler.Tag{Name: "Variant", Value: "ao.TN.1"}, bundler.Tag{Name: "Action", Value: "Spawned"},
		bundler.Tag{Name: "Process", Value: child.ID}, bundler.Tag{Name: "From-Process", Value: parent})
	if pushedFor != "" {
		note = append(note, bundler.Tag{Name: "Pushed-For", Value: pushedFor})
	}
	if notice, err = m.sign("", parent, "", note); err != nil {
		return nil, nil, err
	}
	return child, notice, nil
}

func validID(id string) bool {
	if len(id) != 43 {
		return false
	}
	_, err := bundler.DecodeB64(id)
	return err == nil
}

func (m *Service) sign(data, target, anchor string, tags []bundler.Tag) (*bundler.Item, error) {
	if data == "" {
		data = " " // an empty payload is not a valid Arweave item for most gateways; the reference MU does the same
	}
	if len(anchor) != 32 {
		anchor = ""
	}
	// Pushing outboxes is background work: at most half the cores sign at once (an RSA-4096 signature is
	// ~7 ms of CPU), so a process that sends a thousand messages cannot starve the node's other requests.
	pushSigners <- struct{}{}
	defer func() { <-pushSigners }()
	return m.wallet.Sign([]byte(data), target, anchor, tags)
}

var pushSigners = make(chan struct{}, max(1, runtime.NumCPU()/2))
