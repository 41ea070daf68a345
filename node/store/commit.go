package store

import (
	"errors"
	"fmt"
	"sync"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// maxGroup bounds how many writes share one transaction, so one commit's dirty pages stay a modest amount.
const maxGroup = 512

// committer is the store's group commit. Every small write (an SU group, a CU batch of results, an MU crank, an
// upload's status) is queued here; one goroutine runs whatever is queued in one bbolt transaction, and the
// writes that arrive during that commit go together in the next one. A commit costs two fdatasyncs however
// little it holds, and bbolt has one writer at a time, so the number of commits, not their size, is what
// bounds how fast the node can write. Unlike bbolt's Batch there is no timer: a write to an idle store
// commits at once, and under load the groups grow by themselves.
type committer struct {
	db    *bolt.DB
	mu    sync.Mutex
	queue []*write
	wake  chan struct{} // one pending wake-up is enough: the loop takes the whole queue
	quit  chan struct{}
	done  chan struct{}
	shut  bool
}

type write struct {
	fn func(*bolt.Tx) error
	// prep, when set, makes fn late: the committer calls prep just before the transaction that will carry the
	// write, so what a writer gathers while the previous commit runs still joins the next one. A nil fn from
	// prep means there is nothing to write.
	prep func() func(*bolt.Tx) error
	err  chan error
}

// errAlone tells a writer its function failed inside a group: the others were committed without it, and it is
// run again in a transaction of its own, which gives its error (or, if the failure came from another write's
// effects, its success).
var errAlone = errors.New("store: run the write alone")

func newCommitter(db *bolt.DB) *committer {
	c := &committer{db: db, wake: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{})}
	go c.run()
	return c
}

// do runs fn in a durable write transaction, shared with whatever other writes are queued, and returns once
// that transaction is committed (fsynced) or has failed. fn may run more than once, each time on a fresh
// transaction, so it must not keep state across calls, as with bbolt's Batch.
func (c *committer) do(fn func(*bolt.Tx) error) error { return c.submit(&write{fn: fn}) }

// doLate is do for a write made up at the last moment: prep runs once, on the committer's goroutine right
// before the transaction that carries the write begins (never if the store is closed), and returns the write's
// fn, or nil for none. The writer's queue can then keep filling while the commit before runs.
func (c *committer) doLate(prep func() func(*bolt.Tx) error) error {
	return c.submit(&write{prep: prep})
}

func (c *committer) submit(w *write) error {
	w.err = make(chan error, 1)
	c.mu.Lock()
	if c.shut {
		c.mu.Unlock()
		return bolterrors.ErrDatabaseNotOpen // as bbolt answers a closed store
	}
	c.queue = append(c.queue, w)
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
	err := <-w.err
	if err == errAlone {
		return c.db.Update(func(tx *bolt.Tx) error { return call(w.fn, tx) })
	}
	return err
}

func (c *committer) run() {
	defer close(c.done)
	for {
		select {
		case <-c.wake:
			c.drain()
		case <-c.quit:
			c.drain() // close set shut first, so nothing joins the queue after this
			return
		}
	}
}

// drain commits the queue, group by group, until it is empty.
func (c *committer) drain() {
	for {
		c.mu.Lock()
		group := c.queue
		if len(group) > maxGroup {
			group, c.queue = group[:maxGroup:maxGroup], group[maxGroup:]
		} else {
			c.queue = nil
		}
		c.mu.Unlock()
		if len(group) == 0 {
			return
		}
		if group = prepare(group); len(group) > 0 {
			c.commit(group)
		}
	}
}

// commit runs a group in one transaction. A write that fails is taken out and told to run alone, and the rest
// are run again without it: its effects were rolled back with the transaction, and the others must not pay for
// its error.
func (c *committer) commit(group []*write) {
	for len(group) > 0 {
		failed := -1
		err := c.db.Update(func(tx *bolt.Tx) error {
			for i, w := range group {
				if err := call(w.fn, tx); err != nil {
					failed = i
					return err
				}
			}
			return nil
		})
		if failed < 0 {
			for _, w := range group {
				w.err <- err // nil, or the commit's own failure (disk full, I/O error) for everyone
			}
			return
		}
		group[failed].err <- errAlone
		group = append(group[:failed:failed], group[failed+1:]...)
	}
}

// close stops taking writes and returns once the queued ones are committed.
func (c *committer) close() {
	c.mu.Lock()
	if c.shut {
		c.mu.Unlock()
		<-c.done
		return
	}
	c.shut = true
	c.mu.Unlock()
	close(c.quit)
	<-c.done
}

// prepare makes up the late writes of a group; those with nothing to write (or whose prep failed) are answered
// at once and left out.
func prepare(group []*write) []*write {
	kept := group[:0]
	for _, w := range group {
		if w.prep != nil {
			fn, err := prepCall(w.prep)
			w.fn, w.prep = fn, nil
			if err != nil || fn == nil {
				w.err <- err
				continue
			}
		}
		kept = append(kept, w)
	}
	return kept
}

func prepCall(prep func() func(*bolt.Tx) error) (fn func(*bolt.Tx) error, err error) {
	defer func() {
		if p := recover(); p != nil {
			fn, err = nil, fmt.Errorf("store write panicked: %v", p)
		}
	}()
	return prep(), nil
}

// call runs fn, turning a panic into an error so one bad write cannot take the committer (and every writer
// waiting on it) down.
func call(fn func(*bolt.Tx) error, tx *bolt.Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("store write panicked: %v", p)
		}
	}()
	return fn(tx)
}
