package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/aonode/aonode/node/httpx"
)

// Lifecycle is a background service the node owns (go-ethereum's node.Lifecycle): Start returns once it
// runs, Stop once it has stopped. The node starts its services in order and stops them in reverse, so a
// service never outlives one it depends on.
type Lifecycle interface {
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
}

// service is a registered Lifecycle with the name logs and errors give it.
type service struct {
	name string
	Lifecycle
}

// startAll starts services in order; when one fails, those already started are stopped (in reverse) and
// the error names the one that failed.
func startAll(ctx context.Context, log *slog.Logger, svcs []service) ([]service, error) {
	started := make([]service, 0, len(svcs))
	for _, s := range svcs {
		if err := s.Start(ctx); err != nil {
			stopAll(context.Background(), log, started)
			return nil, fmt.Errorf("start %s: %w", s.name, err)
		}
		log.Debug("service started", "service", s.name)
		started = append(started, s)
	}
	return started, nil
}

// stopTimeout bounds each service's stop; past it the node goes on to the next one (and says so).
const stopTimeout = 10 * time.Second

// stopAll stops services in reverse order, each within stopTimeout of its own.
func stopAll(ctx context.Context, log *slog.Logger, svcs []service) error {
	var errs []error
	for i := len(svcs) - 1; i >= 0; i-- {
		s := svcs[i]
		sctx, cancel := context.WithTimeout(ctx, stopTimeout)
		if err := s.Stop(sctx); err != nil {
			log.Warn("service did not stop cleanly", "service", s.name, "err", err)
			errs = append(errs, fmt.Errorf("stop %s: %w", s.name, err))
		} else {
			log.Debug("service stopped", "service", s.name)
		}
		cancel()
	}
	return errors.Join(errs...)
}

// routine is a goroutine as a service: Start runs fn, Stop cancels its context and waits for it to return.
type routine struct {
	fn     func(ctx context.Context)
	cancel context.CancelFunc
	done   chan struct{}
}

func newRoutine(fn func(ctx context.Context)) *routine { return &routine{fn: fn} }

func (r *routine) Start(context.Context) error {
	// Its own context: the one Start gets is the caller's, which ends when Start returns.
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel, r.done = cancel, make(chan struct{})
	go func() {
		defer close(r.done)
		r.fn(ctx)
	}()
	return nil
}

func (r *routine) Stop(ctx context.Context) error {
	r.cancel()
	select {
	case <-r.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// listener is an HTTP server as a service: Start listens (a taken port fails the node's start), Stop
// drains in-flight requests.
type listener struct {
	addr string
	h    http.Handler
	opts httpx.ServerOptions
	// perIP bounds connections per remote address (0: none).
	perIP int
	log   *slog.Logger

	srv  *http.Server
	done chan struct{}
}

func (l *listener) Start(context.Context) error {
	ln, err := net.Listen("tcp", l.addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", l.addr, err)
	}
	l.srv = httpx.NewServer(l.h, l.opts)
	ln = httpx.LimitPerIP(ln, l.perIP, l.log)
	l.done = make(chan struct{})
	go func() {
		defer close(l.done)
		if err := l.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			l.log.Error("server stopped", "err", err)
		}
	}()
	l.log.Info("listening", "addr", ln.Addr().String())
	return nil
}

func (l *listener) Stop(ctx context.Context) error {
	err := l.srv.Shutdown(ctx)
	<-l.done
	return err
}

// funcs adapts a pair of functions to a Lifecycle.
type funcs struct {
	start func(ctx context.Context) error
	stop  func(ctx context.Context) error
}

func (f funcs) Start(ctx context.Context) error {
	if f.start == nil {
		return nil
	}
	return f.start(ctx)
}

func (f funcs) Stop(ctx context.Context) error {
	if f.stop == nil {
		return nil
	}
	return f.stop(ctx)
}
