package bundler

import (
	"context"
	"log/slog"
	"time"
)

// Queue is the durable upload queue the worker drains.
type Queue interface {
	// Next returns up to max pending items in queue order: their queue keys and raw bytes.
	Next(ctx context.Context, max int) (keys []uint64, raws [][]byte, err error)
	// Done records the outcome of one attempt for the keys.
	Done(ctx context.Context, keys []uint64, ref string, err error) error
}

// WorkerOptions tune batching.
type WorkerOptions struct {
	MaxItems int           // items per bundle
	MaxBytes int           // bytes per bundle
	Interval time.Duration // how often the queue is checked
	MaxDelay time.Duration // cap of the retry backoff after failures
	Logger   *slog.Logger
}

// Worker drains the queue into bundles. Items stay queued until a post succeeds, so a gateway outage or a
// restart only delays them.
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
		o.Interval = 2 * time.Second
	}
	if o.MaxDelay <= 0 {
		o.MaxDelay = time.Minute
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
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

// Flush uploads until the queue is empty or an attempt fails.
func (w *Worker) Flush(ctx context.Context) error {
	for {
		n, err := w.round(ctx)
		if err != nil || n == 0 {
			return err
		}
	}
}

// round posts one bundle; it returns how many items it posted.
func (w *Worker) round(ctx context.Context) (int, error) {
	keys, raws, err := w.q.Next(ctx, w.o.MaxItems)
	if err != nil || len(keys) == 0 {
		return 0, err
	}
	size := 0
	for i, r := range raws {
		if size += len(r); size > w.o.MaxBytes && i > 0 {
			keys, raws = keys[:i], raws[:i]
			break
		}
	}
	ref, perr := w.p.Post(ctx, raws)
	if err := w.q.Done(ctx, keys, ref, perr); err != nil {
		return 0, err
	}
	if perr != nil {
		return 0, perr
	}
	w.o.Logger.Info("bundle posted", "tx", ref, "items", len(raws))
	return len(raws), nil
}

// Run drains the queue until ctx ends, backing off while posts fail.
func (w *Worker) Run(ctx context.Context) {
	delay := w.o.Interval
	for {
		select {
		case <-ctx.Done():
			return
		case <-w.kick:
		case <-time.After(delay):
		}
		if err := w.Flush(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			delay = min(delay*2, w.o.MaxDelay)
			w.o.Logger.Warn("upload failed; retrying", "in", delay, "err", err)
			continue
		}
		delay = w.o.Interval
	}
}
