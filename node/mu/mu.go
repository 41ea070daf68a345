// Package mu is the Messenger Unit: it takes signed data items from clients and hands them to the process's
// scheduler, and it "cranks" results: every message, spawn and assignment a process emits is signed by the MU
// wallet and delivered in turn, so processes talk to each other, on this node or another.
//
// The crank is a durable queue (store.Task). This node's SU queues a crank with every entry it schedules,
// whoever delivered the message (a client, this MU, another node's MU), so every result's outbox is pushed
// exactly by the node that schedules the process. A crank reads the result, signs what it emitted once and
// queues one push per item in the transaction that ends the crank; a push re-sends the same signed item until
// it is delivered, so the receiving SU recognises a repeat by its id.
package mu

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/aonode/aonode/bundler"
	"github.com/aonode/aonode/node/aos"
	"github.com/aonode/aonode/node/cu"
	"github.com/aonode/aonode/node/httpx"
	"github.com/aonode/aonode/node/store"
	"github.com/aonode/aonode/node/su"
)

// ResultReader is the CU as the MU uses it.
type ResultReader interface {
	// Result is the result of message id of pid, with the message as scheduled when the CU has it at hand
	// (nil: the MU looks it up).
	Result(ctx context.Context, pid, id string) (*aos.Result, *su.Scheduled, error)
	// Crons evaluates up to untilMs and returns cron results with afterMs < tick <= untilMs.
	Crons(ctx context.Context, pid string, afterMs, untilMs int64) ([]cu.CronResult, error)
}

// Remote delivers items to processes scheduled by other SUs.
type Remote interface {
	// Locate returns the scheduler URL of a process: ErrUnknownTarget when the gateway holds no transaction
	// with that id (a wallet, or a process it has not indexed yet), ErrNotProcess when it holds one that is
	// not a process.
	Locate(ctx context.Context, pid string) (string, error)
	// LocateScheduler returns the URL a scheduler address publishes.
	LocateScheduler(ctx context.Context, address string) (string, error)
	Post(ctx context.Context, url string, raw []byte) (id string, err error)
	// Assign asks the SU at url to assign message msg to process pid.
	Assign(ctx context.Context, url, pid, msg string) error
	// IsWallet reports whether the gateway knows transactions signed by address (then it is a wallet).
	IsWallet(ctx context.Context, address string) (bool, error)
}

var (
	// ErrNotProcess means the target is a transaction that is not a process: pushed messages to it only go
	// to Arweave.
	ErrNotProcess = errors.New("not a process")
	// ErrUnknownTarget means the gateway knows nothing by that id (yet).
	ErrUnknownTarget = errors.New("unknown to the gateway")
)

// Error is a client error (Status 0: HTTP 400): the units' one client error, httpx.ClientError.
type Error = httpx.ClientError

// Options tune the crank.
type Options struct {
	Concurrency int           // tasks running at once
	Timeout     time.Duration // per task attempt
	// A task that fails is tried again after RetryMin, doubling up to RetryMax, and given up (listed as failed)
	// once it has been failing for Lifetime since it was queued or this MU started, whichever is later.
	RetryMin, RetryMax, Lifetime time.Duration
	// NoSU is set on a node whose SU is off (an MU-only or CU-only node): every item goes to the SU its
	// process names, none is scheduled here.
	NoSU bool
}

// Stats counts what the crank did since the node started.
type Stats struct {
	Cranked, Delivered, ToWallets, Retries, Failed int64
}

// Service is the messenger.
type Service struct {
	wallet bundler.Signer
	su     *su.Service
	cu     ResultReader
	remote Remote
	db     Store
	log    *slog.Logger
	opts   Options

	q       lanes
	wake    chan struct{}
	sem     chan struct{}
	wg      sync.WaitGroup
	started time.Time

	cranked, delivered, toWallets, retries, failed atomic.Int64

	// procs keeps what the crank reads of each process (its owner and module: a spawn never changes), so a
	// crank does not read and parse the process's spawn item again.
	procs *lru.Cache[string, procInfo]
}

type procInfo struct{ owner, module string }

// procEntries bounds procs: a process's crank reads its spawn item again once evicted.
const procEntries = 4096

// New builds the MU; w is the MU wallet, which signs everything the MU pushes.
func New(w bundler.Signer, s *su.Service, c ResultReader, remote Remote, db Store, log *slog.Logger, opts Options) *Service {
	if log == nil {
		log = slog.Default()
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 16
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 2 * time.Minute
	}
	if opts.RetryMin <= 0 {
		opts.RetryMin = 250 * time.Millisecond
	}
	if opts.RetryMax <= 0 {
		opts.RetryMax = 30 * time.Second
	}
	if opts.Lifetime <= 0 {
		opts.Lifetime = 10 * time.Minute
	}
	procs, _ := lru.New[string, procInfo](procEntries) // errors only for a size below 1
	return &Service{
		wallet: w, su: s, cu: c, remote: remote, db: db, log: log, opts: opts,
		q: lanes{m: map[string]*lane{}}, wake: make(chan struct{}, 1), sem: make(chan struct{}, opts.Concurrency),
		procs: procs,
	}
}

// Address is the MU wallet's address: processes trust it through their Authority tags.
func (m *Service) Address() string { return m.wallet.Address() }

// Stats returns the crank's counts.
func (m *Service) Stats() Stats {
	return Stats{Cranked: m.cranked.Load(), Delivered: m.delivered.Load(), ToWallets: m.toWallets.Load(), Retries: m.retries.Load(), Failed: m.failed.Load()}
}

// Wait blocks until the crank started by Start has stopped (cancel its context first).
func (m *Service) Wait() { m.wg.Wait() }

// Send takes a verified Process or Message item from a client and schedules it; its scheduler queues its crank.
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
	if err := m.deliver(ctx, kind, it); err != nil {
		return "", err
	}
	return it.ID, nil
}

// Assign schedules an existing message for a process (this SU's); it returns the assignment id.
func (m *Service) Assign(ctx context.Context, pid, msgID string, baseLayer bool, exclude []string) (string, error) {
	if local, err := m.schedulesHere(ctx, pid); err != nil {
		return "", err
	} else if !local {
		return m.assignRemote(ctx, pid, msgID, baseLayer, exclude)
	}
	e, err := m.su.Assign(ctx, pid, msgID, baseLayer, exclude)
	if err != nil {
		return "", err
	}
	return e.AssignmentID, nil
}

// assignRemote forwards a client's assignment to the SU of pid (its POST /?process-id=&assign= route).
func (m *Service) assignRemote(ctx context.Context, pid, msgID string, baseLayer bool, exclude []string) (string, error) {
	base, err := m.remote.Locate(ctx, pid)
	if errors.Is(err, ErrNotProcess) || errors.Is(err, ErrUnknownTarget) {
		return "", &Error{Msg: fmt.Sprintf("process %s is not known to this node or the gateway", pid)}
	}
	if err != nil {
		return "", fmt.Errorf("locate scheduler of %s: %w", pid, err)
	}
	q := url.Values{"process-id": {pid}, "assign": {msgID}}
	if baseLayer {
		q.Set("base-layer", "")
	}
	if len(exclude) > 0 {
		q.Set("exclude", strings.Join(exclude, ","))
	}
	return m.remote.Post(ctx, base+"/?"+q.Encode(), nil)
}

// deliver hands a client's item to its scheduler: this node's SU when it schedules the process, another SU
// otherwise. The client is told at once when the target is not known.
func (m *Service) deliver(ctx context.Context, kind string, it *bundler.Item) error {
	if kind == "Process" {
		sched, _ := it.Tag("Scheduler")
		if sched == "" && m.opts.NoSU {
			return &Error{Msg: "a Process needs a Scheduler tag naming its SU (this node runs no SU)"}
		}
		if sched == "" || sched == m.su.Address() && !m.opts.NoSU {
			_, err := m.su.Write(ctx, it)
			return err
		}
		url, err := m.remote.LocateScheduler(ctx, sched)
		if err != nil {
			return &Error{Msg: fmt.Sprintf("scheduler %s: %v", sched, err)}
		}
		_, err = m.remote.Post(ctx, url, it.Raw)
		return err
	}
	if it.Target == "" {
		return &Error{Msg: "a Message needs a target process"}
	}
	local, err := m.schedulesHere(ctx, it.Target)
	if err != nil {
		return err
	}
	if local {
		_, err := m.su.Write(ctx, it)
		return err
	}
	url, err := m.remote.Locate(ctx, it.Target)
	if errors.Is(err, ErrNotProcess) || errors.Is(err, ErrUnknownTarget) {
		return &Error{Msg: fmt.Sprintf("target %s is not a process known to this node or the gateway", it.Target)}
	}
	if err != nil {
		return fmt.Errorf("locate scheduler of %s: %w", it.Target, err)
	}
	_, err = m.remote.Post(ctx, url, it.Raw)
	return err
}

// schedulesHere reports whether this node's SU schedules pid (a process recovered with another scheduler is
// held here read-only: its messages go to its own SU).
func (m *Service) schedulesHere(ctx context.Context, pid string) (bool, error) {
	if m.opts.NoSU {
		return false, nil
	}
	p, err := m.db.GetProcess(ctx, pid)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return p.Scheduler == m.su.Address(), nil
}
