// Package progress follows work that takes long (a recovery from the gateway, a CU rebuilding a process) so
// it can be shown while it runs: as a bar on a terminal, as periodic log lines elsewhere, and in the
// explorer. It only observes: nothing a process can see comes from here.
package progress

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// Tracker holds the jobs running now and the last ones that ended. A nil *Tracker tracks nothing, so code
// that reports progress needs no checks.
type Tracker struct {
	mu    sync.Mutex
	seq   int64
	jobs  map[int64]*Job
	ended []Status // the most recent last, at most keepEnded
	now   func() time.Time
}

// keepEnded is how many ended jobs are kept (for reporters that missed the end, and the explorer).
const keepEnded = 64

// New is an empty tracker.
func New() *Tracker { return &Tracker{jobs: map[int64]*Job{}, now: time.Now} }

// Job is one piece of work. A nil *Job ignores every call.
type Job struct {
	t  *Tracker
	id int64
	// Guarded by t.mu: updates are a few per batch of work, and readers want a consistent view of all jobs.
	kind, subject      string
	phase, unit        string
	done, total        int64
	started, phaseFrom time.Time
	phaseDone          int64 // done when the phase started: the rate counts this phase's work only
}

// Status is what a job has done, as of now.
type Status struct {
	ID      int64         `json:"id"`
	Kind    string        `json:"kind"`    // "recover", "evaluate"
	Subject string        `json:"subject"` // the process
	Phase   string        `json:"phase"`   // what it does now ("fetching items", "evaluating")
	Unit    string        `json:"unit"`    // what Done and Total count ("messages")
	Done    int64         `json:"done"`
	Total   int64         `json:"total"` // 0: not known (yet)
	Started time.Time     `json:"started"`
	Elapsed time.Duration `json:"elapsed"`
	Rate    float64       `json:"rate"` // units per second in this phase
	Left    time.Duration `json:"left"` // -1: not known
	Ended   bool          `json:"ended"`
}

// Start begins a job: kind of work on subject, in its first phase, counting unit up to total (0: unknown).
func (t *Tracker) Start(kind, subject, phase, unit string, total int64) *Job {
	if t == nil {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.seq++
	now := t.now()
	j := &Job{t: t, id: t.seq, kind: kind, subject: subject, phase: phase, unit: unit, total: total, started: now, phaseFrom: now}
	t.jobs[j.id] = j
	return j
}

// Phase moves the job to its next phase, counting from zero again.
func (j *Job) Phase(phase, unit string, total int64) {
	if j == nil {
		return
	}
	j.t.mu.Lock()
	defer j.t.mu.Unlock()
	j.phase, j.unit, j.total, j.done, j.phaseDone, j.phaseFrom = phase, unit, total, 0, 0, j.t.now()
}

// Add counts n more units done.
func (j *Job) Add(n int64) {
	if j == nil {
		return
	}
	j.t.mu.Lock()
	j.done += n
	j.t.mu.Unlock()
}

// Set says how many units are done.
func (j *Job) Set(done int64) {
	if j == nil {
		return
	}
	j.t.mu.Lock()
	j.done = done
	j.t.mu.Unlock()
}

// SetTotal says how many units the phase has (learnt after it started).
func (j *Job) SetTotal(total int64) {
	if j == nil {
		return
	}
	j.t.mu.Lock()
	j.total = total
	j.t.mu.Unlock()
}

// End finishes the job; it is kept among the ended ones.
func (j *Job) End() {
	if j == nil {
		return
	}
	t := j.t
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.jobs[j.id]; !ok {
		return
	}
	st := j.status(t.now())
	st.Ended, st.Left = true, 0
	delete(t.jobs, j.id)
	t.ended = append(t.ended, st)
	if len(t.ended) > keepEnded {
		t.ended = slices.Delete(t.ended, 0, len(t.ended)-keepEnded)
	}
}

// status is the job's Status at now (called with t.mu held).
func (j *Job) status(now time.Time) Status {
	st := Status{
		ID: j.id, Kind: j.kind, Subject: j.subject, Phase: j.phase, Unit: j.unit, Done: j.done, Total: j.total,
		Started: j.started, Elapsed: now.Sub(j.started), Left: -1,
	}
	if d := now.Sub(j.phaseFrom); d > 0 {
		st.Rate = float64(j.done-j.phaseDone) / d.Seconds()
	}
	if st.Total > 0 && st.Rate > 0 {
		st.Left = time.Duration(float64(max(st.Total-st.Done, 0)) / st.Rate * float64(time.Second))
	}
	return st
}

// Active is every running job, oldest first.
func (t *Tracker) Active() []Status {
	if t == nil {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	out := make([]Status, 0, len(t.jobs))
	for _, j := range t.jobs {
		out = append(out, j.status(now))
	}
	slices.SortFunc(out, func(a, b Status) int { return int(a.ID - b.ID) })
	return out
}

// Ended is the last jobs that ended, oldest first.
func (t *Tracker) Ended() []Status {
	if t == nil {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Clone(t.ended)
}

// Of is the running jobs about subject, oldest first.
func (t *Tracker) Of(subject string) []Status {
	var out []Status
	for _, s := range t.Active() {
		if s.Subject == subject {
			out = append(out, s)
		}
	}
	return out
}

// Percent is how far the phase is (0 when its total is unknown).
func (s Status) Percent() float64 {
	if s.Total <= 0 {
		return 0
	}
	return min(100, 100*float64(s.Done)/float64(s.Total))
}

// Counts is "done/total unit" (or "done unit" while the total is unknown), with thousands separators.
func (s Status) Counts() string {
	if s.Total > 0 {
		return fmt.Sprintf("%s/%s %s", Group(s.Done), Group(s.Total), s.Unit)
	}
	return fmt.Sprintf("%s %s", Group(s.Done), s.Unit)
}

// Speed is "1,234 unit/s, 5s left" as far as known.
func (s Status) Speed() string {
	var parts []string
	if s.Rate > 0 {
		parts = append(parts, fmt.Sprintf("%s %s/s", Group(int64(s.Rate+0.5)), s.Unit))
	}
	if s.Left >= 0 && !s.Ended {
		parts = append(parts, Duration(s.Left)+" left")
	}
	return strings.Join(parts, ", ")
}

// String is a one-line summary.
func (s Status) String() string {
	line := fmt.Sprintf("%s %s: %s %s", s.Kind, s.Subject, s.Phase, s.Counts())
	if s.Total > 0 {
		line += fmt.Sprintf(" (%.0f%%)", s.Percent())
	}
	if sp := s.Speed(); sp != "" {
		line += ", " + sp
	}
	return line
}

// Group writes n with thousands separators.
func Group(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// Duration writes d briefly: "850ms", "42s", "3m05s", "2h10m".
func Duration(d time.Duration) string {
	switch {
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Round(time.Second).Seconds()))
	case d < time.Hour:
		d = d.Round(time.Second)
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	default:
		d = d.Round(time.Minute)
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
}
