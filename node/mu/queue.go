package mu

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/aonode/aonode/node/store"
)

// lanes is the crank's view of the durable queue, in memory: tasks grouped by what must stay in order, each
// lane running its head only. A process's cranks run in nonce order (their pushes are queued in that order),
// and the messages and assignments from one process to one target go out in the order they were emitted
// (messages before assignments within one result); different lanes run side by side.
type lanes struct {
	mu      sync.Mutex
	m       map[string]*lane
	lastSeq uint64 // every task up to here is loaded
	loaded  bool   // the tasks left by an earlier run are in
}

type lane struct {
	tasks   []store.Task // head first
	running bool
}

// laneOf names the order a task keeps: a process's cranks; its spawns; what it sends or assigns to one target.
func laneOf(t *store.Task) string {
	switch t.Kind {
	case store.TaskCrank:
		return "crank " + t.Process
	case store.TaskSpawn:
		return "spawn " + t.Process
	}
	return "to " + t.Process + " " + t.Target
}

// Wake makes the crank look at the queue now (new tasks were written).
func (m *Service) Wake() {
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// Start runs the crank until ctx ends: tasks left by an earlier run (a crash, a shutdown) first, then whatever
// is queued.
func (m *Service) Start(ctx context.Context) {
	m.started = time.Now()
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		m.run(ctx)
	}()
}

// pollEvery bounds how long a task written without a wake-up (none is lost, but be safe) waits.
const pollEvery = time.Second

func (m *Service) run(ctx context.Context) {
	// Go 1.23+ timers: Reset drops a tick not received yet, so no draining is needed (nor safe).
	timer := time.NewTimer(pollEvery)
	defer timer.Stop()
	for {
		if err := m.load(ctx); err != nil && ctx.Err() == nil {
			m.log.Error("crank: read the queue", "err", err)
		}
		wait := pollEvery
		if next := m.dispatch(ctx); !next.IsZero() {
			wait = min(wait, max(time.Until(next), time.Millisecond))
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-m.wake:
		case <-timer.C:
		}
	}
}

// load adds the tasks queued since the last look to their lanes.
func (m *Service) load(ctx context.Context) error {
	for {
		m.q.mu.Lock()
		after := m.q.lastSeq
		m.q.mu.Unlock()
		ts, err := m.db.Tasks(ctx, after, 1000)
		if err != nil {
			return err
		}
		m.q.mu.Lock()
		for _, t := range ts {
			if t.Seq <= m.q.lastSeq {
				continue
			}
			if !m.q.loaded {
				t.NextAt = 0 // a start is a good moment to try again what waited (a peer may be back)
			}
			k := laneOf(&t)
			l := m.q.m[k]
			if l == nil {
				l = &lane{}
				m.q.m[k] = l
			}
			l.tasks = append(l.tasks, t)
			m.q.lastSeq = t.Seq
		}
		done := len(ts) < 1000
		if done {
			m.q.loaded = true
		}
		m.q.mu.Unlock()
		if done {
			return nil
		}
	}
}

// dispatch starts the head of every idle lane that is due, as far as the concurrency allows, and returns
// when the next waiting head is due (zero: none waits).
func (m *Service) dispatch(ctx context.Context) time.Time {
	m.q.mu.Lock()
	defer m.q.mu.Unlock()
	now := time.Now().UnixMilli()
	var next int64
	for k, l := range m.q.m {
		if len(l.tasks) == 0 && !l.running {
			delete(m.q.m, k)
			continue
		}
		if l.running {
			continue
		}
		h := l.tasks[0]
		if h.NextAt > now {
			if next == 0 || h.NextAt < next {
				next = h.NextAt
			}
			continue
		}
		select {
		case m.sem <- struct{}{}:
		default:
			return time.Time{} // full: a finishing task wakes the loop
		}
		run := 1
		if h.Kind == store.TaskCrank { // a process's queued cranks go together (crankRun)
			for run < len(l.tasks) && run < maxCrankRun && l.tasks[run].NextAt <= now {
				run++
			}
		}
		l.running = true
		m.wg.Add(1)
		go m.work(ctx, l, slices.Clone(l.tasks[:run]))
	}
	if next == 0 {
		return time.Time{}
	}
	return time.UnixMilli(next)
}

// maxCrankRun bounds how many of a process's queued cranks one worker runs before it writes them together.
const maxCrankRun = 64

// work runs the first tasks of a lane (several only for cranks) and records what became of them.
func (m *Service) work(ctx context.Context, l *lane, ts []store.Task) {
	defer m.wg.Done()
	defer func() { <-m.sem }()
	tctx, cancel := context.WithTimeout(ctx, m.opts.Timeout)
	var n int
	var err error
	if len(ts) == 1 {
		if err = m.runTask(tctx, &ts[0]); err == nil {
			n = 1
		}
	} else {
		n, err = m.crankRun(tctx, ts)
	}
	cancel()
	// ts[n] is the task that failed, when one did.
	drop, failed := n, false
	if err != nil && n < len(ts) {
		failed = true
		if ctx.Err() == nil && m.failed1(ctx, &ts[n], err) {
			drop++
		}
	}
	m.q.mu.Lock()
	l.running = false
	l.tasks = l.tasks[drop:]
	if failed && drop == n {
		l.tasks[0] = ts[n]
	}
	m.q.mu.Unlock()
	m.Wake()
}

// permanent marks an error that trying again cannot change: the task is given up at once.
type permanent struct{ error }

func (p permanent) Unwrap() error { return p.error }

// failed1 records a failed attempt: the task is tried again later, or given up once its lifetime is over. It
// reports whether the task left the queue.
func (m *Service) failed1(ctx context.Context, t *store.Task, err error) bool {
	attempts := t.Attempts + 1
	born := time.UnixMilli(t.Created)
	if born.Before(m.started) {
		born = m.started // a task left by an earlier run gets a whole lifetime in this one
	}
	log := m.log.With("task", t.Seq, "kind", t.Kind, "process", t.Process, "source", t.Source, "target", t.Target, "attempts", attempts)
	var perm permanent
	if errors.As(err, &perm) || time.Since(born) >= m.opts.Lifetime {
		// A message nobody could deliver still goes to Arweave, as the reference MU writes messages to wallets:
		// if its target turns out to be a process, the message can be assigned to it from there.
		upload := t.Kind == store.TaskMessage
		if ferr := m.db.FailTask(ctx, t.Seq, attempts, err.Error(), upload); ferr != nil && !errors.Is(ferr, store.ErrTaskGone) {
			log.Error("crank: record failed task", "err", ferr)
			t.NextAt = time.Now().Add(m.opts.RetryMax).UnixMilli() // not in a tight loop while the store fails
			return false
		}
		m.failed.Add(1)
		log.Error("crank: task given up (listed by the admin API: GET /pushes?status=failed)", "err", err)
		return true
	}
	wait := m.opts.RetryMin << min(attempts-1, 20)
	if wait <= 0 || wait > m.opts.RetryMax {
		wait = m.opts.RetryMax
	}
	next := time.Now().Add(wait)
	if rerr := m.db.RetryTask(ctx, t.Seq, attempts, next, err.Error()); rerr != nil {
		if errors.Is(rerr, store.ErrTaskGone) {
			return true
		}
		log.Error("crank: record retry", "err", rerr)
	}
	t.Attempts, t.NextAt, t.LastError = attempts, next.UnixMilli(), err.Error()
	m.retries.Add(1)
	if errors.Is(err, ErrUnknownTarget) {
		log.Info("crank: target not known yet; trying again", "in", wait, "err", err)
	} else {
		log.Warn("crank: task failed; trying again", "in", wait, "err", err)
	}
	return false
}

// runTask does one task; nil means it is done and gone from the queue.
func (m *Service) runTask(ctx context.Context, t *store.Task) error {
	var err error
	switch t.Kind {
	case store.TaskCrank:
		err = m.crank(ctx, t)
	case store.TaskMessage:
		err = m.pushMessage(ctx, t)
	case store.TaskSpawn:
		err = m.pushSpawn(ctx, t)
	case store.TaskAssign:
		err = m.pushAssign(ctx, t)
	default:
		err = permanent{fmt.Errorf("unknown task kind %q", t.Kind)}
	}
	if errors.Is(err, store.ErrTaskGone) {
		return nil // finished meanwhile (cannot happen with one crank per store, but harmless)
	}
	return err
}

// finish ends task t with what it leads to.
func (m *Service) finish(ctx context.Context, t *store.Task, b store.TaskBatch) error {
	b.Done = t.Seq
	if err := m.db.FinishTasks(ctx, b); err != nil {
		return err
	}
	return nil
}
