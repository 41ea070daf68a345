package progress

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aonode/aonode/internal/nodetest"
)

// clock is a fake time source the tests move by hand.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }
func newTracker() (*Tracker, *clock) {
	c := &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	t := New()
	t.now = c.now
	return t, c
}

func TestStatusRateAndTimeLeft(t *testing.T) {
	tr, c := newTracker()
	j := tr.Start("recover", "pid", "fetching items", "items", 1000)
	c.advance(2 * time.Second)
	j.Add(200)
	j.Add(200)
	st := tr.Active()[0]
	if st.Done != 400 || st.Total != 1000 || st.Rate != 200 {
		t.Fatalf("status %+v: want 400/1000 at 200/s", st)
	}
	if st.Left != 3*time.Second {
		t.Fatalf("left %s, want 3s", st.Left)
	}
	if got := st.Percent(); got != 40 {
		t.Fatalf("percent %v, want 40", got)
	}
	// A new phase counts from zero, and its rate only its own work.
	j.Phase("evaluating", "messages", 0)
	c.advance(time.Second)
	j.Set(50)
	st = tr.Active()[0]
	if st.Phase != "evaluating" || st.Done != 50 || st.Rate != 50 || st.Left != -1 || st.Elapsed != 3*time.Second {
		t.Fatalf("after the phase change: %+v", st)
	}
	j.SetTotal(100)
	if st = tr.Active()[0]; st.Left != time.Second {
		t.Fatalf("left %s once the total is known, want 1s", st.Left)
	}
	j.End()
	j.End() // a second End changes nothing
	if len(tr.Active()) != 0 {
		t.Fatal("an ended job is still active")
	}
	ended := tr.Ended()
	if len(ended) != 1 || !ended[0].Ended || ended[0].Done != 50 {
		t.Fatalf("ended %+v", ended)
	}
}

func TestNilTrackerAndJobDoNothing(t *testing.T) {
	var tr *Tracker
	j := tr.Start("x", "y", "z", "u", 1)
	j.Add(1)
	j.Set(2)
	j.SetTotal(3)
	j.Phase("a", "b", 4)
	j.End()
	if tr.Active() != nil || tr.Ended() != nil || tr.Of("y") != nil {
		t.Fatal("a nil tracker reports jobs")
	}
}

func TestEndedKeepsTheLastJobs(t *testing.T) {
	tr, _ := newTracker()
	for i := 0; i < keepEnded+10; i++ {
		tr.Start("evaluate", "p", "evaluating", "messages", 0).End()
	}
	e := tr.Ended()
	if len(e) != keepEnded || e[0].ID != 11 || e[len(e)-1].ID != keepEnded+10 {
		t.Fatalf("kept %d ended jobs, ids %d..%d", len(e), e[0].ID, e[len(e)-1].ID)
	}
}

func TestOfSelectsTheSubject(t *testing.T) {
	tr, _ := newTracker()
	tr.Start("evaluate", "a", "evaluating", "messages", 0)
	tr.Start("recover", "b", "listing", "assignments", 0)
	tr.Start("evaluate", "b", "evaluating", "messages", 0)
	got := tr.Of("b")
	if len(got) != 2 || got[0].Kind != "recover" || got[1].Kind != "evaluate" {
		t.Fatalf("Of(b) = %+v", got)
	}
}

func TestFormatting(t *testing.T) {
	for _, c := range []struct {
		got, want string
	}{
		{Group(0), "0"},
		{Group(999), "999"},
		{Group(1000), "1,000"},
		{Group(1234567), "1,234,567"},
		{Group(-1234), "-1,234"},
		{Duration(850 * time.Millisecond), "850ms"},
		{Duration(42 * time.Second), "42s"},
		{Duration(185 * time.Second), "3m05s"},
		{Duration(130 * time.Minute), "2h10m"},
		{Status{Kind: "recover", Subject: "p", Phase: "fetching items", Unit: "items", Done: 5, Total: 0, Left: -1}.String(),
			"recover p: fetching items 5 items"},
		{Status{Kind: "evaluate", Subject: "p", Phase: "evaluating", Unit: "messages", Done: 2500, Total: 10000, Rate: 1250, Left: 6 * time.Second}.String(),
			"evaluate p: evaluating 2,500/10,000 messages (25%), 1,250 messages/s, 6s left"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

func TestBar(t *testing.T) {
	pid := "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	st := Status{Kind: "evaluate", Subject: pid, Phase: "evaluating", Unit: "messages", Done: 50, Total: 100, Rate: 10, Left: 5 * time.Second}
	bar := Bar(st, 120)
	if !strings.Contains(bar, "AAAAAA..AAAAAA") || !strings.Contains(bar, "50/100 messages  50%") || !strings.Contains(bar, "5s left") {
		t.Fatalf("bar %q", bar)
	}
	open, end := strings.Index(bar, "["), strings.Index(bar, "]")
	inner := bar[open+1 : end]
	if strings.Count(inner, "=") != len(inner)/2 {
		t.Fatalf("bar %q is not half full", inner)
	}
	// Too narrow for a bar: the counts alone, cut to the width.
	if b := Bar(st, 40); len(b) > 40 || strings.Contains(b, "[") {
		t.Fatalf("narrow bar %q", b)
	}
	// Unknown total: no bar.
	st.Total, st.Left = 0, -1
	if b := Bar(st, 120); strings.Contains(b, "[") || !strings.Contains(b, "50 messages") {
		t.Fatalf("bar without a total %q", b)
	}
}

func TestTerminalKeepsLogLinesAboveTheBars(t *testing.T) {
	var out bytes.Buffer
	term := NewTerminal(&out, 80)
	term.mu.Lock()
	term.bars = []string{"bar one", "bar two"}
	term.draw()
	term.mu.Unlock()
	if _, err := term.Write([]byte("a log line\n")); err != nil {
		t.Fatal(err)
	}
	want := "bar one\nbar two" + "\r\x1b[K\x1b[1A\x1b[K" + "a log line\n" + "bar one\nbar two"
	if out.String() != want {
		t.Fatalf("terminal wrote %q, want %q", out.String(), want)
	}
}

func TestTerminalRunShowsLongJobsAndTheirEnd(t *testing.T) {
	tr, c := newTracker()
	var out nodetest.LockedBuffer
	term := NewTerminal(&out, 100)
	j := tr.Start("recover", "proc", "fetching items", "items", 10)
	c.advance(2 * time.Second)
	tr.Start("evaluate", "quick", "evaluating", "messages", 10) // not long yet: never shown
	j.Set(5)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { term.Run(ctx, tr, Options{After: time.Second, Every: time.Millisecond}); close(done) }()
	waitFor(t, func() bool { return strings.Contains(out.String(), "recover proc fetching items [") })
	j.End()
	waitFor(t, func() bool { return strings.Contains(out.String(), "recover: proc 5/10 items done in 2s\n") })
	cancel()
	<-done
	if strings.Contains(out.String(), "quick") {
		t.Fatalf("a job shorter than After was shown: %q", out.String())
	}
}

func TestLogWritesLinesForLongJobs(t *testing.T) {
	tr, c := newTracker()
	var out nodetest.LockedBuffer
	log := slog.New(slog.NewTextHandler(&out, nil))
	j := tr.Start("evaluate", "proc", "evaluating", "messages", 1000)
	c.advance(10 * time.Second)
	j.Set(500)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { Log(ctx, tr, log, Options{After: time.Second, Every: time.Millisecond}); close(done) }()
	waitFor(t, func() bool {
		return strings.Contains(out.String(), "msg=progress work=evaluate process=proc phase=evaluating done=500 total=1000 percent=50.0 unit=messages rate=50/s elapsed=10s left=10s")
	})
	j.End()
	waitFor(t, func() bool { return strings.Contains(out.String(), `msg="progress: done" work=evaluate process=proc`) })
	cancel()
	<-done
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 5s")
		}
		time.Sleep(time.Millisecond)
	}
}
