package bundler

import (
	"context"
	"log/slog"
	"time"
)

// Pending is one queued item.
type Pending struct {
	Key    uint64
	Raw    []byte
	Queued time.Time
}

// Posted is a post the gateway accepted, with the queue keys of the items it carried.
type Posted struct {
	Ref  string
	Keys []uint64
	At   time.Time
}

// Queue is the durable upload queue the worker drains.
type Queue interface {
	// Peek sums up the first max pending items in queue order without reading them, so a worker can tell
	// whether a batch is due before it reads one.
	Peek(ctx context.Context, max int) (Peek, error)
	// Next returns up to max pending items in queue order.
	Next(ctx context.Context, max int) ([]Pending, error)
	// Done records the outcome of one post attempt for the keys.
	Done(ctx context.Context, keys []uint64, ref string, err error) error
	// Posted returns posts not yet confirmed (grouped by ref, oldest first), at most max items in all.
	Posted(ctx context.Context, max int) ([]Posted, error)
	// Confirmed marks keys as confirmed in a block.
	Confirmed(ctx context.Context, keys []uint64, height int64) error
	// Requeue puts keys back to pending: their post never made it into a block.
	Requeue(ctx context.Context, keys []uint64, reason string) error
}

// Confirmation states of a post.
const (
	StateUnknown   = "unknown" // the gateway does not know the post (yet, or any more)
	StatePending   = "pending" // known, not in a block yet
	StateConfirmed = "confirmed"
)

// Status is what the gateway says of a post.
type Status struct {
	State  string
	Height int64
}

// Confirmer asks the gateway how far a post got.
type Confirmer interface {
	Confirm(ctx context.Context, ref string) (Status, error)
}

// Metrics receives the worker's counts (Prometheus in the node; nil means none).
type Metrics interface {
	Posted(items, bytes int)
	Failed()
	Confirmed(items int)
	Requeued(items int)
}

type nopMetrics struct{}

func (nopMetrics) Posted(int, int) {}
func (nopMetrics) Failed()         {}
func (nopMetrics) Confirmed(int)   {}
func (nopMetrics) Requeued(int)    {}

// WorkerOptions tune batching and confirmation.
type WorkerOptions struct {
	MaxItems int           // items per post
	MaxBytes int           // bytes per post
	MaxAge   time.Duration // a partial batch is posted once its oldest item waited this long
	Interval time.Duration // how often the queue is looked at
	MaxDelay time.Duration // cap of the retry backoff after failures
	// ConfirmInterval is how often posts are checked; RepostAfter is how long a post may stay unknown to the
	// gateway before its items are queued again.
	ConfirmInterval time.Duration
	RepostAfter     time.Duration
	Confirmer       Confirmer // nil: posts stay "posted"
	Metrics         Metrics
	Logger          *slog.Logger
	Now             func() time.Time // tests
}

// Worker drains the queue into posts. Items stay queued until a post succeeds, so a gateway outage or a
// restart only delays them; the queue order is kept, since a failed batch is retried whole before later items.
type Worker struct {
	q    Queue
	p    Poster
	o    WorkerOptions
	kick chan struct{}
}

// NewWorker builds a worker.
func NewWorker(q Queue, p Poster, o WorkerOptions) *Worker {
	if o.MaxItems <= 0 {
		o.MaxItems = 500
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = 8 << 20
	}
	if o.Interval <= 0 {
		o.Interval = 250 * time.Millisecond
	}
	if o.MaxDelay <= 0 {
		o.MaxDelay = time.Minute
	}
	if o.ConfirmInterval <= 0 {
		o.ConfirmInterval = 10 * time.Second
	}
	if o.RepostAfter <= 0 {
		o.RepostAfter = time.Hour
	}
	if o.Metrics == nil {
		o.Metrics = nopMetrics{}
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Worker{q: q, p: p, o: o, kick: make(chan struct{}, 1)}
}

// Kick asks for an upload round now.
func (w *Worker) Kick() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// Flush posts until the queue is empty or an attempt fails, whatever the batch's age.
func (w *Worker) Flush(ctx context.Context) error {
	for {
		n, err := w.round(ctx, true)
		if err != nil || n == 0 {
			return err
		}
	}
}

// drain posts every batch that is due (full, or old enough).
func (w *Worker) drain(ctx context.Context) error {
	for {
		n, err := w.round(ctx, false)
		if err != nil || n == 0 {
			return err
		}
	}
}

// cut takes from the first pending items the batch one post takes (at most MaxItems, and MaxBytes unless one
// item alone is larger) and says whether it is due, by the rule a peek at them is judged by (due).
func (w *Worker) cut(batch []Pending) (_ []Pending, size int, due bool) {
	all := Peek{Items: len(batch), Oldest: batch[0].Queued}
	for _, p := range batch {
		all.Bytes += len(p.Raw)
	}
	for i, p := range batch {
		if size+len(p.Raw) > w.o.MaxBytes && i > 0 {
			batch = batch[:i]
			break
		}
		size += len(p.Raw)
	}
	return batch, size, w.due(all)
}

// Peek is what Queue.Peek sums up: how many items, their total size, the first one's queue time.
type Peek struct {
	Items, Bytes int
	Oldest       time.Time
}

// due says whether a batch of the first items p sums up is to be posted: as many items as a post takes, more
// bytes than it takes (with two items or more: one item alone always fits, and then cut leaves some out), or
// the oldest waited MaxAge. It judges the peek before a read and, through cut, the items read.
func (w *Worker) due(p Peek) bool {
	return p.Items > 0 && (p.Items >= w.o.MaxItems || p.Items > 1 && p.Bytes > w.o.MaxBytes || w.o.Now().Sub(p.Oldest) >= w.o.MaxAge)
}

// round posts one batch if it is due (or force); it returns how many items it posted. Unless forced it peeks
// first: under a steady load most rounds find a batch still filling, and reading one (every row decoded,
// every item copied) only to put it back cost about 3% of the node's CPU.
func (w *Worker) round(ctx context.Context, force bool) (int, error) {
	if !force {
		p, err := w.q.Peek(ctx, w.o.MaxItems)
		if err != nil || !w.due(p) {
			return 0, err
		}
	}
	batch, err := w.q.Next(ctx, w.o.MaxItems)
	if err != nil || len(batch) == 0 {
		return 0, err
	}
	batch, size, due := w.cut(batch)
	if !force && !due {
		return 0, nil // let the batch fill up
	}
	keys := make([]uint64, len(batch))
	raws := make([][]byte, len(batch))
	for i, p := range batch {
		keys[i], raws[i] = p.Key, p.Raw
	}
	ref, perr := w.p.Post(ctx, raws)
	if err := w.q.Done(ctx, keys, ref, perr); err != nil {
		return 0, err
	}
	if perr != nil {
		w.o.Metrics.Failed()
		return 0, perr
	}
	w.o.Metrics.Posted(len(raws), size)
	w.o.Logger.Info("posted", "ref", ref, "items", len(raws), "bytes", size)
	return len(raws), nil
}

// Run drains the queue until ctx ends, backing off while posts fail, and checks posts for confirmation.
func (w *Worker) Run(ctx context.Context) {
	if w.o.Confirmer != nil {
		go w.runConfirm(ctx)
	}
	delay := w.o.Interval
	for {
		select {
		case <-ctx.Done():
			return
		case <-w.kick:
		case <-time.After(delay):
		}
		if err := w.drain(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			delay = min(max(delay*2, time.Second), w.o.MaxDelay)
			w.o.Logger.Warn("upload failed; retrying", "in", delay, "err", err)
			continue
		}
		delay = w.o.Interval
	}
}

func (w *Worker) runConfirm(ctx context.Context) {
	t := time.NewTicker(w.o.ConfirmInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := w.Confirm(ctx); err != nil && ctx.Err() == nil {
			w.o.Logger.Warn("checking uploads failed", "err", err)
		}
	}
}

// Confirm checks every unconfirmed post once: confirmed posts are recorded, and posts the gateway still does
// not know RepostAfter their post are queued again, so a dropped transaction loses nothing.
func (w *Worker) Confirm(ctx context.Context) error {
	posts, err := w.q.Posted(ctx, 10*w.o.MaxItems)
	if err != nil {
		return err
	}
	for _, p := range posts {
		st, err := w.o.Confirmer.Confirm(ctx, p.Ref)
		if err != nil {
			return err
		}
		switch {
		case st.State == StateConfirmed:
			if err := w.q.Confirmed(ctx, p.Keys, st.Height); err != nil {
				return err
			}
			w.o.Metrics.Confirmed(len(p.Keys))
		case st.State == StateUnknown && w.o.Now().Sub(p.At) >= w.o.RepostAfter:
			if err := w.q.Requeue(ctx, p.Keys, "post "+p.Ref+" never reached a block"); err != nil {
				return err
			}
			w.o.Metrics.Requeued(len(p.Keys))
			w.o.Logger.Warn("post lost by the gateway; items queued again", "ref", p.Ref, "items", len(p.Keys))
			w.Kick()
		}
	}
	return nil
}
