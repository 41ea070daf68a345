// Package su is the Scheduler Unit: it gives every message of a process a nonce, a timestamp, a block height
// and a link in the process's hash chain, signs that as an Assignment data item, and writes both durably
// (and into the upload queue) before it answers.
package su

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aonode/aonode/bundler"
	"github.com/aonode/aonode/node/cron"
	"github.com/aonode/aonode/node/httpx"
	"github.com/aonode/aonode/node/store"
)

// HeightSource gives the current Arweave block height (the gateway's /info, cached).
type HeightSource interface {
	Height(ctx context.Context) (int64, error)
}

// TxSource fetches a transaction or data item that this node does not hold (for assignments of on-chain messages).
type TxSource interface {
	Fetch(ctx context.Context, id string) (*bundler.Item, error)
}

// Error is a request the SU refused: the units' one client error (httpx.ClientError), Status 0 being 400.
type Error = httpx.ClientError

// ModuleCheck says whether the CU that evaluates this SU's processes can run the module with id: nil when it
// can, else an error (an *Error for a refusal the client must fix or retry).
type ModuleCheck func(ctx context.Context, id string) error

func clientErr(format string, args ...any) error { return &Error{Msg: fmt.Sprintf(format, args...)} }

// Service is the scheduler.
type Service struct {
	wallet  bundler.Signer
	db      Store
	heights HeightSource
	txs     TxSource
	log     *slog.Logger
	now     func() time.Time

	checkModule ModuleCheck // nil: modules are not checked
	authority   string      // named as an Authority on every spawn's assignment ("": none)
	scheduled   func()      // called after every entry written (the MU's crank has work)

	mu     sync.Mutex
	locks  map[string]*sync.Mutex
	pipes  map[string]*pipe // per process, guarded by its lock
	floors map[string]int64 // per process: every later assignment gets a timestamp above this (see Watermark)
	recent *recent          // the items of entries just signed, for the CU's Load (recent.go)
}

// pipe is one process's scheduling pipeline. Assignments are signed one after another under the process lock
// (each names the previous one's id in its Hash-Chain), but written to the store in groups, one transaction
// for whatever was signed while the previous group was being written: a process is then not limited to one
// fsync'd transaction (and bbolt's batch delay) per message. A client's acknowledgement still waits until
// its entry is on disk.
type pipe struct {
	head    *store.Head        // the newest signed entry, written or not; nil: read the store's
	pending map[string]*queued // message id -> its signed, unwritten entry (a retry waits for it)

	// qmu guards the rest. It is taken alone or inside the process lock, never the other way round: the store's
	// committer takes the queue under it, and a signer holding the process lock may be waiting on that
	// committer (the block height it reads is written through it).
	qmu        sync.Mutex
	queue      []*queued     // signed, waiting for the committer, in nonce order
	committing bool          // a committer goroutine is writing this process's queue
	idle       chan struct{} // closed when the committer stops
}

type queued struct {
	existing bool // the message was scheduled before: ne.Entry is its entry, nothing to write
	ne       store.NewEntry
	done     chan struct{} // closed once written (err nil) or failed
	err      error
}

// Config is what an SU is built from.
type Config struct {
	Signer  bundler.Signer // signs assignments; its address is the Scheduler tag value processes name
	Store   Store
	Heights HeightSource
	Txs     TxSource     // on-chain transactions for assignments of them (nil: none can be assigned)
	Log     *slog.Logger // nil: slog.Default()
	// ModuleCheck refuses a spawn naming a module the CU cannot run, before anything is stored (a process
	// whose module is unknown could never be evaluated). nil: every module is taken.
	ModuleCheck ModuleCheck
	// SpawnAuthority, when set, is named as an Authority of every process the SU schedules, in a tag of the
	// spawn's assignment (which the SU signs): the CU adds it to the process's own Authority tags. aonode names
	// its deployment's MU there, so processes trust the messages any MU of the deployment pushes for other
	// processes, even when their spawn (signed by a client, which the MU cannot change) names no Authority.
	SpawnAuthority string
	// OnScheduled is called after every entry the SU writes (each has a crank queued with it).
	OnScheduled func()
}

// New builds the scheduler.
func New(c Config) *Service {
	if c.Log == nil {
		c.Log = slog.Default()
	}
	return &Service{
		wallet: c.Signer, db: c.Store, heights: c.Heights, txs: c.Txs, log: c.Log, checkModule: c.ModuleCheck,
		authority: c.SpawnAuthority, scheduled: c.OnScheduled,
		now: time.Now, locks: map[string]*sync.Mutex{}, pipes: map[string]*pipe{}, floors: map[string]int64{},
		recent: newRecent(),
	}
}

// Address is the scheduler's wallet address (the Scheduler tag value processes use).
func (s *Service) Address() string { return s.wallet.Address() }

func (s *Service) lock(pid string) func() {
	s.mu.Lock()
	l, ok := s.locks[pid]
	if !ok {
		l = &sync.Mutex{}
		s.locks[pid] = l
	}
	s.mu.Unlock()
	l.Lock()
	return l.Unlock
}

// ItemKind is what an ANS-104 item is to AO: a Process or a Message (the first Type tag decides).
func ItemKind(it *bundler.Item) (string, error) {
	if _, ok := bundler.FirstTagFold(it.Tags, "Data-Protocol"); !ok {
		return "", clientErr("Data-Protocol tag not present")
	}
	typ, ok := bundler.FirstTagFold(it.Tags, "Type")
	if !ok {
		return "", clientErr("Type tag not present")
	}
	switch typ {
	case "Process", "Message":
		return typ, nil
	}
	return "", clientErr("Unsupported Type tag value %q: must be Process or Message", typ)
}

// Write schedules a verified Process or Message item.
func (s *Service) Write(ctx context.Context, it *bundler.Item) (*store.Entry, error) {
	kind, err := ItemKind(it)
	if err != nil {
		return nil, err
	}
	if err := it.CheckUTF8(); err != nil {
		return nil, err
	}
	for _, t := range it.Tags {
		if strings.HasSuffix(t.Name, "+link") || strings.HasSuffix(t.Value, "+link") {
			return nil, clientErr("tag %q: +link tags are not supported", t.Name)
		}
	}
	if kind == "Process" {
		return s.spawn(ctx, it)
	}
	if it.Target == "" {
		return nil, clientErr("a Message needs a target process")
	}
	pid := it.Target
	if err := s.schedules(ctx, pid); err != nil {
		return nil, err
	}
	return s.append(ctx, pid, it.ID, it, nil, nil, []string{it.ID})
}

func (s *Service) spawn(ctx context.Context, it *bundler.Item) (*store.Entry, error) {
	module, ok := it.Tag("Module")
	if !ok {
		return nil, clientErr("a Process needs a Module tag")
	}
	sched, ok := it.Tag("Scheduler")
	if !ok {
		return nil, clientErr("a Process needs a Scheduler tag")
	}
	if sched != s.Address() {
		return nil, clientErr("Process names scheduler %s, this SU is %s", sched, s.Address())
	}
	if _, err := cron.Parse(it.Tags); err != nil {
		return nil, clientErr("%v", err)
	}
	if s.checkModule != nil {
		if err := s.checkModule(ctx, module); err != nil {
			return nil, err
		}
	}
	name, _ := it.Tag("Name")
	p := &store.Process{ID: it.ID, Owner: it.OwnerAddress(), Scheduler: sched, Name: name}
	var extra []bundler.Tag
	if s.authority != "" && s.authority != sched {
		extra = append(extra, bundler.Tag{Name: "Authority", Value: s.authority})
	}
	return s.append(ctx, it.ID, it.ID, it, p, extra, []string{it.ID})
}

// Assign schedules an existing message (held here, or on Arweave) for another process.
func (s *Service) Assign(ctx context.Context, pid, msgID string, baseLayer bool, exclude []string) (*store.Entry, error) {
	if len(msgID) != 43 {
		return nil, clientErr("assign must be a 43-character transaction id")
	}
	if _, err := base64.RawURLEncoding.DecodeString(msgID); err != nil {
		return nil, clientErr("assign is not a base64url id")
	}
	if err := s.schedules(ctx, pid); err != nil {
		return nil, err
	}
	local := true
	var msg *bundler.Item
	if raw, err := s.db.Item(ctx, msgID); err == nil {
		if msg, err = bundler.ParseStored(raw); err != nil {
			return nil, fmt.Errorf("stored message %s: %w", msgID, err)
		}
	} else {
		if !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		local = false
		if s.txs == nil {
			return nil, clientErr("Message %s not found", msgID)
		}
		if msg, err = s.txs.Fetch(ctx, msgID); err != nil {
			return nil, clientErr("Message %s not found on this node or the gateway: %v", msgID, err)
		}
	}
	// An on-chain message enters this node here; one held here was checked when it arrived (or before this
	// check existed, so again).
	if err := msg.CheckUTF8(); err != nil {
		return nil, clientErr("Message %s: %v", msgID, err)
	}
	var extra []bundler.Tag
	for _, e := range exclude {
		if e = strings.TrimSpace(e); e != "" {
			extra = append(extra, bundler.Tag{Name: "Exclude", Value: e})
		}
	}
	if baseLayer {
		extra = append(extra, bundler.Tag{Name: "Base-Layer", Value: "true"})
	}
	e, err := s.append(ctx, pid, msgID, nil, nil, extra, nil)
	if err != nil {
		return nil, err
	}
	e.Local = local
	return e, nil
}

// schedules checks that this SU may add to pid's schedule: the process is here and names this SU. A process
// recovered from the gateway with another scheduler is held only so the CU can evaluate it.
func (s *Service) schedules(ctx context.Context, pid string) error {
	p, err := s.db.GetProcess(ctx, pid)
	if errors.Is(err, store.ErrNotFound) {
		return clientErr("Process %s is not scheduled by this SU", pid)
	}
	if err != nil {
		return err
	}
	if p.Scheduler != s.Address() {
		return clientErr("Process %s is scheduled by %s, not this SU (%s)", pid, p.Scheduler, s.Address())
	}
	return nil
}

// HashChain is the Hash-Chain of the assignment after prev (nil for the first), as the reference SU and CU
// compute it: sha256(process id) first, then sha256(previous assignment id || previous hash chain).
func HashChain(pid string, prev *store.Head) (string, error) {
	h := sha256.New()
	if prev == nil {
		b, err := base64.RawURLEncoding.DecodeString(pid)
		if err != nil {
			return "", fmt.Errorf("decode process id: %w", err)
		}
		h.Write(b)
	} else {
		a, err := base64.RawURLEncoding.DecodeString(prev.AssignmentID)
		if err != nil {
			return "", fmt.Errorf("decode assignment id: %w", err)
		}
		c, err := base64.RawURLEncoding.DecodeString(prev.HashChain)
		if err != nil {
			return "", fmt.Errorf("decode hash chain: %w", err)
		}
		h.Write(a)
		h.Write(c)
	}
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil)), nil
}

// pipeOf returns pid's pipeline; called with the process lock held.
func (s *Service) pipeOf(pid string) *pipe {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.pipes[pid]
	if p == nil {
		p = &pipe{pending: map[string]*queued{}}
		s.pipes[pid] = p
	}
	return p
}

// wait returns the entry of a queued item once it is written.
func (q *queued) wait() (*store.Entry, error) {
	<-q.done
	if q.err != nil {
		return nil, q.err
	}
	e := q.ne.Entry
	return &e, nil
}

func (s *Service) append(ctx context.Context, pid, msgID string, msg *bundler.Item, proc *store.Process, extra []bundler.Tag, uploads []string) (*store.Entry, error) {
	unlock := s.lock(pid)
	p := s.pipeOf(pid)
	// A message sent twice (a client retrying after a lost answer) is scheduled once; the retry gets the
	// same answer, also while the first is still being written.
	if q := p.pending[msgID]; q != nil {
		unlock()
		return q.wait()
	}
	q, err := s.sign(ctx, p, pid, msgID, msg, proc, extra, uploads)
	if err != nil || q.existing {
		unlock()
		if err != nil {
			return nil, err
		}
		return q.wait()
	}
	p.pending[msgID] = q
	p.qmu.Lock()
	p.queue = append(p.queue, q)
	if !p.committing {
		p.committing, p.idle = true, make(chan struct{})
		go s.commit(pid, p)
	}
	p.qmu.Unlock()
	unlock()
	e, err := q.wait()
	if err == nil {
		s.log.Debug("scheduled", "process", pid, "nonce", e.Nonce, "message", msgID, "assignment", e.AssignmentID)
	}
	return e, err
}

// commit writes pid's queue until it is empty. Each write takes the queue only as the store's transaction
// that carries it begins, and the next write is queued as soon as one has taken its group: whatever is signed
// while a transaction commits joins the very next one, even when other writes (the CU's, the crank's) were
// queued before it. An entry that cannot be written fails with every entry signed after it (their hash chains
// name it), and the next one is signed on the store's head again.
func (s *Service) commit(pid string, p *pipe) {
	ctx := context.Background() // the entries belong to several clients: none of them may cancel the write
	for {
		taken := make(chan []*queued, 1)
		refused := make(chan error, 1)
		go func() {
			var group []*queued
			took := false
			err := s.db.AppendTaken(ctx, func() []store.NewEntry {
				p.qmu.Lock()
				group, p.queue = p.queue, nil
				p.qmu.Unlock()
				took = true
				taken <- group
				nes := make([]store.NewEntry, len(group))
				for i, q := range group {
					nes[i] = q.ne
				}
				return nes
			})
			if !took { // the store took no write at all (it is closing)
				refused <- err
				return
			}
			s.settle(pid, p, group, err)
		}()
		select {
		case group := <-taken:
			if len(group) > 0 {
				continue
			}
			p.qmu.Lock()
			if len(p.queue) > 0 { // signed after the empty take: write it too
				p.qmu.Unlock()
				continue
			}
			p.committing = false
			close(p.idle)
			p.qmu.Unlock()
			return
		case err := <-refused:
			unlock := s.lock(pid)
			s.failQueued(p, nil, err)
			p.qmu.Lock()
			p.committing = false
			close(p.idle)
			p.qmu.Unlock()
			unlock()
			return
		}
	}
}

// settle answers the clients of a written (err nil) or failed group.
func (s *Service) settle(pid string, p *pipe, group []*queued, err error) {
	if errors.Is(err, store.ErrDuplicate) {
		err = clientErr("Message already exists: %v", err)
	}
	unlock := s.lock(pid)
	if err != nil {
		s.failQueued(p, group, err)
		unlock()
		return
	}
	for _, q := range group {
		delete(p.pending, q.ne.Entry.MessageID)
		close(q.done)
	}
	unlock()
	if len(group) > 0 && s.scheduled != nil {
		s.scheduled()
	}
}

// failQueued fails group and everything queued after it, and forgets the head they were signed on; called with the
// process lock held.
func (s *Service) failQueued(p *pipe, group []*queued, err error) {
	p.head = nil
	p.qmu.Lock()
	group = append(group, p.queue...)
	p.queue = nil
	p.qmu.Unlock()
	for _, q := range group {
		q.err = err
		delete(p.pending, q.ne.Entry.MessageID)
		close(q.done)
	}
}

// sign builds and signs the next entry of pid, on the pipeline's head; called with the process lock held. It
// returns a done entry when the message is already scheduled. msg is nil when the message is not held here.
func (s *Service) sign(ctx context.Context, p *pipe, pid, msgID string, msg *bundler.Item, proc *store.Process, extra []bundler.Tag, uploads []string) (*queued, error) {
	var msgRaw []byte
	if msg != nil {
		msgRaw = msg.Raw
	}
	head := p.head
	if proc == nil {
		if head == nil {
			h, err := s.db.Head(ctx, pid)
			if err != nil {
				return nil, fmt.Errorf("schedule %s: %w", msgID, err)
			}
			head = h
		}
		if e, err := s.db.EntryByID(ctx, pid, msgID); err == nil {
			q := &queued{existing: true, ne: store.NewEntry{Entry: *e}, done: make(chan struct{})}
			close(q.done)
			return q, nil
		}
	} else if _, err := s.db.GetProcess(ctx, pid); err == nil {
		es, err := s.db.Entries(ctx, pid, 0, 0, 1)
		if err != nil || len(es) == 0 {
			return nil, fmt.Errorf("schedule %s: read its spawn entry: %v", pid, err)
		}
		q := &queued{existing: true, ne: store.NewEntry{Entry: es[0]}, done: make(chan struct{})}
		close(q.done)
		return q, nil
	}
	nonce := int64(0)
	ts := s.now().UnixMilli()
	if head != nil {
		nonce = head.Nonce + 1
		// Strictly increasing timestamps keep timestamp pagination exact.
		if ts <= head.Timestamp {
			ts = head.Timestamp + 1
		}
	}
	if f, err := s.floor(ctx, pid); err != nil {
		return nil, err
	} else if ts <= f {
		ts = f + 1
	}
	height, err := s.heights.Height(ctx)
	if err != nil {
		return nil, fmt.Errorf("schedule %s: read block height: %w", msgID, err)
	}
	chain, err := HashChain(pid, head)
	if err != nil {
		return nil, fmt.Errorf("schedule %s: %w", msgID, err)
	}
	tags := []bundler.Tag{
		{Name: "Process", Value: pid},
		{Name: "Epoch", Value: "0"},
		{Name: "Nonce", Value: strconv.FormatInt(nonce, 10)},
		{Name: "Hash-Chain", Value: chain},
		{Name: "Block-Height", Value: fmt.Sprintf("%012d", height)},
		{Name: "Timestamp", Value: strconv.FormatInt(ts, 10)},
		{Name: "Data-Protocol", Value: "ao"},
		{Name: "Type", Value: "Assignment"},
		{Name: "Variant", Value: "ao.TN.1"},
		{Name: "Message", Value: msgID},
	}
	tags = append(tags, extra...)
	asg, err := s.wallet.Sign(nil, "", "", tags)
	if err != nil {
		return nil, fmt.Errorf("schedule %s: sign assignment: %w", msgID, err)
	}
	e := store.Entry{
		Process: pid, Nonce: nonce, Epoch: 0, Timestamp: ts, BlockHeight: height, HashChain: chain,
		AssignmentID: asg.ID, MessageID: msgID, Local: msgRaw != nil,
	}
	if proc != nil {
		proc.Timestamp, proc.BlockHeight = ts, height
	}
	p.head = &store.Head{Nonce: nonce, HashChain: chain, AssignmentID: asg.ID, Timestamp: ts}
	s.recent.offer(e, asg, msg)
	return &queued{
		ne:   store.NewEntry{Entry: e, AssignmentRaw: asg.Raw, MessageRaw: msgRaw, Process: proc, Uploads: append(uploads, asg.ID), Crank: true},
		done: make(chan struct{}),
	}, nil
}

// Scheduled is one entry with its items, as the CU consumes it.
type Scheduled struct {
	store.Entry
	Assignment *bundler.Item
	Message    *bundler.Item
}

// Load returns the entries of a process from fromNonce (at most limit), with their items.
func (s *Service) Load(ctx context.Context, pid string, fromNonce, toNonce int64, limit int) ([]Scheduled, error) {
	es, err := s.db.Entries(ctx, pid, fromNonce, toNonce, limit)
	if err != nil {
		return nil, err
	}
	out := make([]Scheduled, 0, len(es))
	for _, e := range es {
		if sc, ok := s.recent.take(e); ok {
			out = append(out, sc)
			continue
		}
		sc, err := s.hydrate(ctx, e)
		if err != nil {
			return nil, err
		}
		out = append(out, *sc)
	}
	return out, nil
}

func (s *Service) hydrate(ctx context.Context, e store.Entry) (*Scheduled, error) {
	araw, err := s.db.Item(ctx, e.AssignmentID)
	if err != nil {
		return nil, err
	}
	// Both were verified when they were stored: decoding them again is enough.
	asg, err := bundler.ParseStored(araw)
	if err != nil {
		return nil, fmt.Errorf("stored assignment %s: %w", e.AssignmentID, err)
	}
	var msg *bundler.Item
	if raw, err := s.db.Item(ctx, e.MessageID); err == nil {
		if msg, err = bundler.ParseStored(raw); err != nil {
			return nil, fmt.Errorf("stored message %s: %w", e.MessageID, err)
		}
	} else if errors.Is(err, store.ErrNotFound) && s.txs != nil {
		if msg, err = s.txs.Fetch(ctx, e.MessageID); err != nil {
			return nil, fmt.Errorf("fetch assigned message %s: %w", e.MessageID, err)
		}
	} else {
		return nil, err
	}
	return &Scheduled{Entry: e, Assignment: asg, Message: msg}, nil
}

// LookupEntry finds one entry by message id or assignment id, without reading its items.
func (s *Service) LookupEntry(ctx context.Context, pid, id string) (*store.Entry, error) {
	return s.db.EntryByID(ctx, pid, id)
}

// Lookup finds one entry by message id or assignment id.
func (s *Service) Lookup(ctx context.Context, pid, id string) (*Scheduled, error) {
	e, err := s.db.EntryByID(ctx, pid, id)
	if err != nil {
		return nil, err
	}
	return s.hydrate(ctx, *e)
}

// Latest returns the last entry of a process.
func (s *Service) Latest(ctx context.Context, pid string) (*store.Entry, error) {
	h, err := s.db.Head(ctx, pid)
	if err != nil {
		return nil, err
	}
	es, err := s.db.Entries(ctx, pid, h.Nonce, h.Nonce, 1)
	if err != nil || len(es) == 0 {
		return nil, fmt.Errorf("latest entry of %s: %w", pid, store.ErrNotFound)
	}
	return &es[0], nil
}

// Process returns a process record and its spawn item.
func (s *Service) Process(ctx context.Context, pid string) (*store.Process, *bundler.Item, error) {
	p, err := s.db.GetProcess(ctx, pid)
	if err != nil {
		return nil, nil, err
	}
	raw, err := s.db.Item(ctx, pid)
	if err != nil {
		return nil, nil, err
	}
	it, err := bundler.ParseStored(raw)
	if err != nil {
		return nil, nil, fmt.Errorf("stored process %s: %w", pid, err)
	}
	return p, it, nil
}

// Watermark returns a time no later assignment of the process will be stamped at or before, so a CU may
// evaluate cron ticks up to it without a scheduled message ever landing in between. It is kept on disk, so
// a clock that steps back across a restart cannot break the promise.
func (s *Service) Watermark(ctx context.Context, pid string) (int64, error) {
	unlock := s.lock(pid)
	// Entries signed but not yet written carry timestamps the CU has not seen: they must land first.
	for p := s.pipeOf(pid); ; {
		p.qmu.Lock()
		committing, idle := p.committing, p.idle
		p.qmu.Unlock()
		if !committing {
			break
		}
		unlock()
		<-idle
		unlock = s.lock(pid)
	}
	defer unlock()
	f, err := s.floor(ctx, pid)
	if err != nil {
		return 0, err
	}
	if now := s.now().UnixMilli(); now > f {
		if err := s.db.SetMeta(ctx, store.SUWatermark(pid), strconv.FormatInt(now, 10)); err != nil {
			return 0, err
		}
		s.mu.Lock()
		s.floors[pid] = now
		s.mu.Unlock()
		f = now
	}
	return f, nil
}

// floor is the process's watermark (0 when none was ever given); called with the process lock held.
func (s *Service) floor(ctx context.Context, pid string) (int64, error) {
	s.mu.Lock()
	f, ok := s.floors[pid]
	s.mu.Unlock()
	if ok {
		return f, nil
	}
	v, err := s.db.Meta(ctx, store.SUWatermark(pid))
	if errors.Is(err, store.ErrNotFound) {
		v, err = "0", nil
	}
	if err != nil {
		return 0, err
	}
	f, err = strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("watermark of %s: %w", pid, err)
	}
	s.mu.Lock()
	s.floors[pid] = f
	s.mu.Unlock()
	return f, nil
}

// Timestamp is the SU clock and the current block height.
func (s *Service) Timestamp(ctx context.Context) (int64, int64, error) {
	h, err := s.heights.Height(ctx)
	return s.now().UnixMilli(), h, err
}

// Entries returns schedule entries without their items.
func (s *Service) Entries(ctx context.Context, pid string, fromNonce, toNonce int64, limit int) ([]store.Entry, error) {
	return s.db.Entries(ctx, pid, fromNonce, toNonce, limit)
}

// FirstNonceAfter returns the first nonce of a process's schedule later than ts (after the last when none is).
func (s *Service) FirstNonceAfter(ctx context.Context, pid string, ts int64) (int64, error) {
	return s.db.FirstNonceAfter(ctx, pid, ts)
}
