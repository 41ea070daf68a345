// Package mu is the Messenger Unit: it takes signed data items from clients, hands them to the process's
// scheduler, and then "cranks" the results: every message, spawn and assignment a process emits is signed by
// the node wallet and delivered in turn, so processes talk to each other.
package mu

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"time"

	"github.com/aonode/aonode/bundler"
	"github.com/aonode/aonode/node/aos"
	"github.com/aonode/aonode/node/cu"
	"github.com/aonode/aonode/node/store"
	"github.com/aonode/aonode/node/su"
)

// ResultReader is the CU as the MU uses it.
type ResultReader interface {
	Result(ctx context.Context, pid, id string) (*aos.Result, error)
	// Crons evaluates up to untilMs and returns cron results with afterMs < tick <= untilMs.
	Crons(ctx context.Context, pid string, afterMs, untilMs int64) ([]cu.CronResult, error)
}

// Remote delivers items to processes scheduled by other SUs.
type Remote interface {
	// Locate returns the scheduler URL of a process, or ErrNotProcess when the id is not an AO process.
	Locate(ctx context.Context, pid string) (string, error)
	// LocateScheduler returns the URL a scheduler address publishes.
	LocateScheduler(ctx context.Context, address string) (string, error)
	Post(ctx context.Context, url string, raw []byte) (id string, err error)
}

// ErrNotProcess means the target is not a process (a wallet): pushed messages to it only go to Arweave.
var ErrNotProcess = errors.New("not a process")

// Error is a client error (HTTP 400).
type Error struct{ Msg string }

func (e *Error) Error() string { return e.Msg }

// Options tune the crank.
type Options struct {
	MaxDepth    int           // hops of process-to-process messages followed from one user message
	Concurrency int           // cranks running at once
	Timeout     time.Duration // per crank step
}

// Service is the messenger.
type Service struct {
	wallet *bundler.Wallet
	su     *su.Service
	cu     ResultReader
	remote Remote
	db     *store.DB
	log    *slog.Logger
	opts   Options

	sem chan struct{}
	wg  sync.WaitGroup
	ctx context.Context
}

// New builds the MU; ctx bounds background cranks (cancel it on shutdown, then call Wait).
func New(ctx context.Context, w *bundler.Wallet, s *su.Service, c ResultReader, remote Remote, db *store.DB, log *slog.Logger, opts Options) *Service {
	if log == nil {
		log = slog.Default()
	}
	if opts.MaxDepth == 0 {
		opts.MaxDepth = 64
	}
	if opts.Concurrency == 0 {
		opts.Concurrency = 16
	}
	if opts.Timeout == 0 {
		opts.Timeout = 2 * time.Minute
	}
	return &Service{wallet: w, su: s, cu: c, remote: remote, db: db, log: log, opts: opts, sem: make(chan struct{}, opts.Concurrency), ctx: ctx}
}

// Wait blocks until running cranks finish.
func (m *Service) Wait() { m.wg.Wait() }

// Send takes a verified Process or Message item from a client, schedules it, and starts its crank.
func (m *Service) Send(ctx context.Context, it *bundler.Item) (string, error) {
	kind, err := su.ItemKind(it)
	if err != nil {
		return "", err
	}
	// Refused here too, not only by this node's SU: an item for another SU must not leave with tags its JSON
	// views would show differently from what was signed.
	if err := it.CheckUTF8(); err != nil {
		return "", err
	}
	pid := it.Target
	if kind == "Process" {
		pid = it.ID
	}
	local, err := m.deliver(ctx, kind, it)
	if err != nil {
		return "", err
	}
	if local {
		m.crank(pid, it.ID, it.ID, 0)
	}
	return it.ID, nil
}

// Assign schedules an existing message for a process and cranks its result; it returns the assignment id.
func (m *Service) Assign(ctx context.Context, pid, msgID string, baseLayer bool, exclude []string) (string, error) {
	e, err := m.su.Assign(ctx, pid, msgID, baseLayer, exclude)
	if err != nil {
		return "", err
	}
	m.crank(pid, e.AssignmentID, msgID, 0)
	return e.AssignmentID, nil
}

// deliver hands an item to its scheduler: this node's SU when it schedules the process, another SU otherwise.
func (m *Service) deliver(ctx context.Context, kind string, it *bundler.Item) (local bool, err error) {
	if kind == "Process" {
		sched, _ := it.Tag("Scheduler")
		if sched == "" || sched == m.su.Address() {
			_, err := m.su.Write(ctx, it)
			return true, err
		}
		url, err := m.remote.LocateScheduler(ctx, sched)
		if err != nil {
			return false, &Error{Msg: fmt.Sprintf("scheduler %s: %v", sched, err)}
		}
		_, err = m.remote.Post(ctx, url, it.Raw)
		return false, err
	}
	if it.Target == "" {
		return false, &Error{Msg: "a Message needs a target process"}
	}
	if p, err := m.db.GetProcess(ctx, it.Target); err == nil && p.Scheduler == m.su.Address() {
		_, err := m.su.Write(ctx, it)
		return true, err
	} else if err != nil && !errors.Is(err, store.ErrNotFound) {
		return false, err
	}
	url, err := m.remote.Locate(ctx, it.Target)
	if errors.Is(err, ErrNotProcess) {
		return false, &Error{Msg: fmt.Sprintf("target %s is not a process known to this node or the gateway", it.Target)}
	}
	if err != nil {
		return false, fmt.Errorf("locate scheduler of %s: %w", it.Target, err)
	}
	_, err = m.remote.Post(ctx, url, it.Raw)
	return false, err
}

// crank pushes the outbox of (pid, id) in the background.
func (m *Service) crank(pid, id, pushedFor string, depth int) {
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		select {
		case m.sem <- struct{}{}:
		case <-m.ctx.Done():
			return
		}
		defer func() { <-m.sem }()
		m.push(pid, id, pushedFor, depth)
	}()
}

var stripped = map[string]bool{"Data-Protocol": true, "Type": true, "From-Process": true, "From-Module": true, "Assignments": true}

// push delivers what one evaluation emitted.
func (m *Service) push(pid, id, pushedFor string, depth int) {
	ctx, cancel := context.WithTimeout(m.ctx, m.opts.Timeout)
	defer cancel()
	log := m.log.With("process", pid, "message", id)
	if depth > m.opts.MaxDepth {
		log.Warn("crank depth limit reached; outbox not pushed", "depth", depth)
		return
	}
	res, err := m.cu.Result(ctx, pid, id)
	if err != nil {
		log.Error("crank: read result", "err", err)
		return
	}
	m.pushResult(ctx, log, pid, id, res, pushedFor, depth)
}

// pushResult delivers the outbox of one evaluation; id names the evaluation in the push-once records.
func (m *Service) pushResult(ctx context.Context, log *slog.Logger, pid, id string, res *aos.Result, pushedFor string, depth int) {
	_, pit, err := m.su.Process(ctx, pid)
	if err != nil {
		log.Error("crank: read process", "err", err)
		return
	}
	module, _ := pit.Tag("Module")
	for i, out := range res.Messages {
		key := fmt.Sprintf("push/%s/%s/m%d", pid, id, i)
		if m.done(ctx, key) {
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
		if !validID(out.Target) {
			log.Warn("crank: outbox message has no valid Target; dropped", "index", i, "target", out.Target)
			continue
		}
		it, err := m.sign(out.Data, out.Target, out.Anchor, tags)
		if err != nil {
			log.Error("crank: sign pushed message", "err", err)
			continue
		}
		m.forward(ctx, log, key, it, pushedFor, depth)
	}
	for i, sp := range res.Spawns {
		key := fmt.Sprintf("push/%s/%s/s%d", pid, id, i)
		if m.done(ctx, key) {
			continue
		}
		m.spawn(ctx, log, key, pid, module, sp, pushedFor, depth)
	}
	for i, a := range res.Assignments {
		for j, target := range a.Processes {
			key := fmt.Sprintf("push/%s/%s/a%d.%d", pid, id, i, j)
			if m.done(ctx, key) {
				continue
			}
			e, err := m.su.Assign(ctx, target, a.Message, false, nil)
			if err != nil {
				log.Warn("crank: assignment refused", "to", target, "message", a.Message, "err", err)
				continue
			}
			m.mark(ctx, key, e.AssignmentID)
			m.crank(target, e.AssignmentID, pushedFor, depth+1)
		}
	}
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

// done reports whether an outbox entry was already pushed (a crank repeated after a restart pushes nothing twice).
func (m *Service) done(ctx context.Context, key string) bool {
	_, err := m.db.Meta(ctx, key)
	return err == nil
}

func (m *Service) mark(ctx context.Context, key, id string) {
	if err := m.db.SetMeta(ctx, key, id); err != nil {
		m.log.Error("crank: record push", "key", key, "err", err)
	}
}

// forward delivers one pushed message: to a process (then cranks it), or, for a wallet, only to Arweave.
func (m *Service) forward(ctx context.Context, log *slog.Logger, key string, it *bundler.Item, pushedFor string, depth int) {
	local, err := m.deliver(ctx, "Message", it)
	var ce *Error
	switch {
	case errors.As(err, &ce):
		// Not a process: a message to a wallet is kept and uploaded, as the reference MU writes it to Arweave.
		if err := m.db.PutItem(ctx, it.ID, it.Raw, true); err != nil {
			log.Error("crank: store message to wallet", "err", err)
			return
		}
	case err != nil:
		log.Error("crank: deliver pushed message", "to", it.Target, "err", err)
		return
	}
	m.mark(ctx, key, it.ID)
	if local {
		m.crank(it.Target, it.ID, pushedFor, depth+1)
	}
}

func (m *Service) spawn(ctx context.Context, log *slog.Logger, key, parent, parentModule string, sp aos.OutSpawn, pushedFor string, depth int) {
	tags := make([]bundler.Tag, 0, len(sp.Tags)+6)
	hasScheduler, hasModule := false, false
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
		}
		tags = append(tags, bundler.Tag{Name: t.Name, Value: t.Value})
	}
	if !hasModule {
		tags = append(tags, bundler.Tag{Name: "Module", Value: parentModule})
	}
	if !hasScheduler {
		tags = append(tags, bundler.Tag{Name: "Scheduler", Value: m.su.Address()})
	}
	tags = append(tags,
		bundler.Tag{Name: "Variant", Value: variant}, bundler.Tag{Name: "Data-Protocol", Value: "ao"},
		bundler.Tag{Name: "Type", Value: "Process"}, bundler.Tag{Name: "From-Process", Value: parent},
		bundler.Tag{Name: "From-Module", Value: parentModule}, bundler.Tag{Name: "Pushed-For", Value: pushedFor})
	child, err := m.sign(sp.Data, "", "", tags)
	if err != nil {
		log.Error("crank: sign spawn", "err", err)
		return
	}
	local, err := m.deliver(ctx, "Process", child)
	if err != nil {
		log.Error("crank: spawn", "err", err)
		return
	}
	m.mark(ctx, key, child.ID)
	if local {
		m.crank(child.ID, child.ID, pushedFor, depth+1)
	}
	// Tell the parent, as the reference MU does, so `Spawned` handlers (and ao.spawn().receive()) fire.
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
		bundler.Tag{Name: "Process", Value: child.ID}, bundler.Tag{Name: "From-Process", Value: parent},
		bundler.Tag{Name: "Pushed-For", Value: pushedFor})
	msg, err := m.sign("", parent, "", note)
	if err != nil {
		log.Error("crank: sign spawn notice", "err", err)
		return
	}
	if _, err := m.deliver(ctx, "Message", msg); err != nil {
		log.Error("crank: deliver spawn notice", "err", err)
		return
	}
	m.crank(parent, msg.ID, pushedFor, depth+1)
}

// RunMonitors pushes the cron results of monitored processes every interval until ctx ends.
func (m *Service) RunMonitors(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		mons, err := m.db.Monitors(ctx)
		if err != nil {
			m.log.Error("monitors: list", "err", err)
			continue
		}
		for _, mon := range mons {
			m.tickMonitor(ctx, mon)
		}
	}
}

func (m *Service) tickMonitor(ctx context.Context, mon store.Monitor) {
	log := m.log.With("process", mon.Process)
	until, err := m.su.Watermark(ctx, mon.Process)
	if err != nil {
		log.Error("monitor: watermark", "err", err)
		return
	}
	after := max(mon.Cursor, mon.Since)
	results, err := m.cu.Crons(ctx, mon.Process, after, until)
	if err != nil {
		log.Error("monitor: evaluate crons", "err", err)
		return
	}
	for _, r := range results {
		m.pushResult(ctx, log, mon.Process, fmt.Sprintf("cron-%d-%d", r.Tick, r.Index), r.Result, "", 0)
		mon.Cursor = r.Tick
	}
	if len(results) > 0 {
		// A monitor removed meanwhile stays removed.
		if _, err := m.db.GetMonitor(ctx, mon.Process); err == nil {
			if err := m.db.PutMonitor(ctx, mon); err != nil {
				log.Error("monitor: save cursor", "err", err)
			}
		}
	}
}
