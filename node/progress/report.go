package progress

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// Options say which jobs are shown and how often.
type Options struct {
	// After: a job is shown once it ran this long, so quick work stays quiet (default 1s).
	After time.Duration
	// Every: how often the display is refreshed (default 200ms for a bar, 5s for log lines).
	Every time.Duration
}

func (o Options) with(every time.Duration) Options {
	if o.After <= 0 {
		o.After = time.Second
	}
	if o.Every <= 0 {
		o.Every = every
	}
	return o
}

// watch calls show with the long jobs every o.Every, and ended once for each shown job that ended, until
// ctx is done.
func watch(ctx context.Context, t *Tracker, o Options, show func([]Status), ended func(Status)) {
	shown := map[int64]bool{}
	tick := time.NewTicker(o.Every)
	defer tick.Stop()
	for {
		var long []Status
		for _, s := range t.Active() {
			if s.Elapsed >= o.After {
				long = append(long, s)
				shown[s.ID] = true
			}
		}
		for _, s := range t.Ended() {
			if shown[s.ID] {
				delete(shown, s.ID)
				ended(s)
			}
		}
		show(long)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// Log writes a line for each long job every o.Every (default 5s) and one when it ends, until ctx is done:
// for a node whose output is not a terminal (a service, a CI log).
func Log(ctx context.Context, t *Tracker, log *slog.Logger, o Options) {
	o = o.with(5 * time.Second)
	watch(ctx, t, o, func(jobs []Status) {
		for _, s := range jobs {
			log.Info("progress", attrs(s)...)
		}
	}, func(s Status) {
		log.Info("progress: done", attrs(s)...)
	})
}

func attrs(s Status) []any {
	a := []any{"work", s.Kind, "process", s.Subject, "phase", s.Phase, "done", s.Done}
	if s.Total > 0 {
		a = append(a, "total", s.Total, "percent", fmt.Sprintf("%.1f", s.Percent()))
	}
	a = append(a, "unit", s.Unit, "rate", fmt.Sprintf("%.0f/s", s.Rate), "elapsed", Duration(s.Elapsed))
	if s.Left >= 0 && !s.Ended {
		a = append(a, "left", Duration(s.Left))
	}
	return a
}

// Terminal draws a bar per long job at the bottom of a terminal. Log lines must be written through it
// (it is an io.Writer): it takes the bars away, writes the lines, and draws the bars again below them.
type Terminal struct {
	mu    sync.Mutex
	w     io.Writer
	width int
	bars  []string
	drawn int // bar lines on screen
}

// NewTerminal draws on w, a terminal width columns wide (<= 0: 80).
func NewTerminal(w io.Writer, width int) *Terminal {
	if width <= 0 {
		width = 80
	}
	return &Terminal{w: w, width: width}
}

// Write writes p above the bars.
func (t *Terminal) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.clear()
	n, err := t.w.Write(p)
	t.draw()
	return n, err
}

// clear erases the bars (called with t.mu held); the cursor ends at the start of the first bar's line.
func (t *Terminal) clear() {
	if t.drawn == 0 {
		return
	}
	var b strings.Builder
	b.WriteString("\r\x1b[K")
	for i := 1; i < t.drawn; i++ {
		b.WriteString("\x1b[1A\x1b[K")
	}
	_, _ = io.WriteString(t.w, b.String())
	t.drawn = 0
}

// draw writes the bars (called with t.mu held), leaving the cursor at the end of the last one.
func (t *Terminal) draw() {
	if len(t.bars) == 0 {
		return
	}
	_, _ = io.WriteString(t.w, strings.Join(t.bars, "\n"))
	t.drawn = len(t.bars)
}

// Run draws the tracker's long jobs every o.Every (default 200ms) until ctx is done; a job that ends leaves
// a line saying what it did.
func (t *Terminal) Run(ctx context.Context, tr *Tracker, o Options) {
	o = o.with(200 * time.Millisecond)
	watch(ctx, tr, o, func(jobs []Status) {
		bars := make([]string, len(jobs))
		for i, s := range jobs {
			bars[i] = Bar(s, t.width)
		}
		t.mu.Lock()
		t.clear()
		t.bars = bars
		t.draw()
		t.mu.Unlock()
	}, func(s Status) {
		t.mu.Lock()
		t.clear()
		_, _ = fmt.Fprintf(t.w, "%s: %s %s done in %s\n", s.Kind, short(s.Subject), s.Counts(), Duration(s.Elapsed))
		t.draw()
		t.mu.Unlock()
	})
	t.mu.Lock()
	t.clear()
	t.bars = nil
	t.mu.Unlock()
}

// Bar is one line, at most width columns: what, a bar (or a count while the total is unknown), the rate
// and the time left.
func Bar(s Status, width int) string {
	head := fmt.Sprintf("%s %s %s ", s.Kind, short(s.Subject), s.Phase)
	tail := " " + s.Counts()
	if s.Total > 0 {
		tail += fmt.Sprintf(" %3.0f%%", s.Percent())
	}
	if sp := s.Speed(); sp != "" {
		tail += " " + sp
	}
	room := width - len(head) - len(tail) - 2
	if s.Total <= 0 || room < 10 {
		line := head + strings.TrimPrefix(tail, " ")
		if len(line) > width {
			line = line[:width]
		}
		return line
	}
	room = min(room, 40)
	fill := int(float64(room) * s.Percent() / 100)
	return head + "[" + strings.Repeat("=", fill) + strings.Repeat(" ", room-fill) + "]" + tail
}

// short abbreviates a 43-character id to its ends.
func short(id string) string {
	if len(id) <= 16 {
		return id
	}
	return id[:6] + ".." + id[len(id)-6:]
}
