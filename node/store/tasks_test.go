package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

func entry(pid string, nonce int64, msg string) NewEntry {
	return NewEntry{
		Entry:         Entry{Process: pid, Nonce: nonce, AssignmentID: "asg-" + msg, MessageID: msg},
		AssignmentRaw: []byte("assignment " + msg), MessageRaw: []byte("message " + msg),
	}
}

// A crank is queued with the schedule entry it reads, only when asked (new entries, not recovered ones).
func TestCrankQueuedWithEntry(t *testing.T) {
	ctx := context.Background()
	d, _ := openTemp(t)
	spawn := entry("p1", 0, "p1")
	spawn.Process, spawn.Crank = &Process{ID: "p1", Scheduler: "su"}, true
	if err := d.Append(ctx, spawn); err != nil {
		t.Fatal(err)
	}
	noCrank := entry("p1", 1, "m1")
	if err := d.Append(ctx, noCrank); err != nil {
		t.Fatal(err)
	}
	// An entry that fails (a nonce out of order) leaves no crank behind.
	bad := entry("p1", 5, "m5")
	bad.Crank = true
	if err := d.Append(ctx, bad); err == nil {
		t.Fatal("out-of-order nonce accepted")
	}
	rec := entry("p2", 0, "p2")
	rec.Process = &Process{ID: "p2", Scheduler: "other"}
	if err := d.Restore(ctx, []NewEntry{rec}); err != nil {
		t.Fatal(err)
	}
	ts, err := d.Tasks(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) != 1 || ts[0].Kind != TaskCrank || ts[0].Process != "p1" || ts[0].Nonce != 0 || ts[0].Source != "p1" || ts[0].Created == 0 {
		t.Fatalf("tasks %+v, want the spawn's crank only", ts)
	}
}

func TestTaskLifecycle(t *testing.T) {
	ctx := context.Background()
	d, _ := openTemp(t)
	if err := d.PutMonitor(ctx, Monitor{Process: "p", Cursor: 1}); err != nil {
		t.Fatal(err)
	}
	crank := NewTask{Task: Task{Kind: TaskCrank, Process: "p", Source: "m"}}
	if err := d.FinishTasks(ctx, TaskBatch{Tasks: []NewTask{crank}}); err != nil {
		t.Fatal(err)
	}
	notice := &NewTask{Task: Task{Kind: TaskMessage, Process: "p", Target: "p", ItemID: "notice"}, Raw: []byte("notice bytes")}
	// Finishing the crank queues its pushes, stores its wallet messages and moves the monitor, all at once.
	push := Task{Kind: TaskMessage, Process: "p", Source: "m", Target: "q", ItemID: "msg-1", Attempts: 9, LastError: "stale"}
	err := d.FinishTasks(ctx, TaskBatch{
		Done:    1,
		Tasks:   []NewTask{{Task: push, Raw: []byte("msg-1 bytes")}, {Task: Task{Kind: TaskSpawn, Process: "p", ItemID: "child", Then: notice}, Raw: []byte("child bytes")}},
		Wallet:  []NewTask{{Task: Task{Kind: TaskMessage, Target: "w", ItemID: "to-wallet"}, Raw: []byte("wallet bytes")}},
		Monitor: &Monitor{Process: "p", Cursor: 42},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.FinishTasks(ctx, TaskBatch{Done: 1}); !errors.Is(err, ErrTaskGone) {
		t.Fatalf("finishing a task twice: %v, want ErrTaskGone", err)
	}
	ts, _ := d.Tasks(ctx, 0, 0)
	if len(ts) != 2 || ts[0].Seq != 2 || ts[0].Attempts != 0 || ts[0].LastError != "" || ts[1].Then == nil || string(ts[1].Then.Raw) != "notice bytes" {
		t.Fatalf("queued %+v", ts)
	}
	if raw, err := d.TaskItem(ctx, 2); err != nil || string(raw) != "msg-1 bytes" {
		t.Fatalf("item of task 2: %q %v", raw, err)
	}
	if raw, err := d.Item(ctx, "to-wallet"); err != nil || string(raw) != "wallet bytes" {
		t.Fatalf("wallet message not stored: %v", err)
	}
	if _, err := d.UploadStatus(ctx, "to-wallet"); err != nil {
		t.Fatalf("wallet message not queued for upload: %v", err)
	}
	if m, _ := d.GetMonitor(ctx, "p"); m.Cursor != 42 {
		t.Fatalf("monitor cursor %d", m.Cursor)
	}
	// A removed monitor stays removed.
	if err := d.DeleteMonitor(ctx, "p"); err != nil {
		t.Fatal(err)
	}
	if err := d.FinishTasks(ctx, TaskBatch{Monitor: &Monitor{Process: "p", Cursor: 50}}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.GetMonitor(ctx, "p"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("monitor came back: %v", err)
	}

	next := time.Now().Add(time.Minute)
	if err := d.RetryTask(ctx, 2, 1, next, "unknown target"); err != nil {
		t.Fatal(err)
	}
	if got, failed, err := d.Task(ctx, 2); err != nil || failed || got.Attempts != 1 || got.NextAt != next.UnixMilli() || got.LastError != "unknown target" {
		t.Fatalf("after retry: %+v %v %v", got, failed, err)
	}
	counts := func() map[string]int {
		c, err := d.TaskCounts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	if c := counts(); c[TaskMessage] != 1 || c[TaskSpawn] != 1 || c["failed"] != 0 {
		t.Fatalf("counts %v", c)
	}
	// Given up: listed as failed with its item, and uploaded.
	if err := d.FailTask(ctx, 2, 5, "still unknown", true); err != nil {
		t.Fatal(err)
	}
	if err := d.FailTask(ctx, 2, 5, "again", true); !errors.Is(err, ErrTaskGone) {
		t.Fatalf("failing a failed task: %v", err)
	}
	if err := d.RetryTask(ctx, 2, 6, next, "x"); !errors.Is(err, ErrTaskGone) {
		t.Fatalf("retrying a failed task: %v", err)
	}
	failed, _ := d.FailedTasks(ctx, 0, 0)
	if len(failed) != 1 || failed[0].Seq != 2 || failed[0].Failed == 0 || failed[0].LastError != "still unknown" {
		t.Fatalf("failed list %+v", failed)
	}
	if got, isFailed, err := d.Task(ctx, 2); err != nil || !isFailed || got.Attempts != 5 {
		t.Fatalf("failed task: %+v %v %v", got, isFailed, err)
	}
	if _, err := d.UploadStatus(ctx, "msg-1"); err != nil {
		t.Fatalf("failed message not queued for upload: %v", err)
	}
	if c := counts(); c[TaskMessage] != 0 || c["failed"] != 1 {
		t.Fatalf("counts %v", c)
	}
	// Requeued: back at the end with a new seq, from zero attempts, still with its item.
	re, err := d.RequeueTask(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if re.Seq <= 3 || re.Attempts != 0 || re.Failed != 0 || re.ItemID != "msg-1" {
		t.Fatalf("requeued %+v", re)
	}
	if raw, err := d.TaskItem(ctx, re.Seq); err != nil || string(raw) != "msg-1 bytes" {
		t.Fatalf("requeued item: %q %v", raw, err)
	}
	if _, err := d.RequeueTask(ctx, 2); !errors.Is(err, ErrNotFound) {
		t.Fatalf("requeue twice: %v", err)
	}
	if _, _, err := d.Task(ctx, 999); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown task: %v", err)
	}
	if ts, _ := d.Tasks(ctx, re.Seq-1, 0); len(ts) != 1 || ts[0].Seq != re.Seq {
		t.Fatalf("tasks after %d: %+v", re.Seq-1, ts)
	}
}

// A delivered message or spawn leaves a record of the item it became, under its outbox entry's key.
func TestFinishedPushRecorded(t *testing.T) {
	ctx := context.Background()
	d, _ := openTemp(t)
	push := NewTask{Task: Task{Kind: TaskMessage, Process: "P", Source: "M", Target: "T", ItemID: "ITEM", Index: 2}, Raw: []byte("signed")}
	if err := d.FinishTasks(ctx, TaskBatch{Tasks: []NewTask{push}}); err != nil {
		t.Fatal(err)
	}
	tasks, err := d.Tasks(ctx, 0, 10)
	if err != nil || len(tasks) != 1 {
		t.Fatalf("tasks %v %v", tasks, err)
	}
	if _, err := d.Push(ctx, "P", "M", "m2"); err == nil {
		t.Fatal("recorded before it was delivered")
	}
	if err := d.FinishTasks(ctx, TaskBatch{Done: tasks[0].Seq}); err != nil {
		t.Fatal(err)
	}
	if id, err := d.Push(ctx, "P", "M", "m2"); err != nil || id != "ITEM" {
		t.Fatalf("record: %q %v", id, err)
	}
}
