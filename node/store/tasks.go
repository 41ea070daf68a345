package store

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Task kinds. A crank reads the result of one scheduled message and signs what it emitted; the others deliver
// one thing that result emitted.
const (
	TaskCrank   = "crank"   // read the result of Process at Nonce (message Source) and queue its outbox
	TaskMessage = "message" // deliver a signed message to Target (a process, or a wallet: then only to Arweave)
	TaskSpawn   = "spawn"   // deliver a signed spawn to its scheduler
	TaskAssign  = "assign"  // assign Message to Target
)

// Task is one step of the MU's durable crank. It is written in the same transaction as what makes it due (a
// crank with the schedule entry it reads; pushes with the removal of the crank that signed them), so a crash
// loses none, and a push keeps its signed item: a re-send is the same item, which the receiving SU
// recognises by its id.
type Task struct {
	Seq     uint64 `json:"seq"`
	Kind    string `json:"kind"`
	Process string `json:"process"`         // the process whose result this comes from
	Nonce   int64  `json:"nonce,omitempty"` // crank: the scheduled nonce
	// Source is the evaluation: the scheduled message's id, or cron-<tick>-<index> for a cron result.
	Source    string `json:"source"`
	PushedFor string `json:"pushed_for,omitempty"`
	Target    string `json:"target,omitempty"`  // message, assign: the recipient
	ItemID    string `json:"item,omitempty"`    // message, spawn: the signed item (its bytes are kept beside the task)
	Message   string `json:"message,omitempty"` // assign: the message assigned
	Index     int    `json:"index"`             // its place in the result's outbox
	// Then is queued when this task is done (the Spawned notice, once the spawn is scheduled).
	Then *NewTask `json:"then,omitempty"`

	Created   int64  `json:"created"` // unix ms
	Attempts  int    `json:"attempts,omitempty"`
	NextAt    int64  `json:"next_at,omitempty"` // unix ms: not tried again before
	LastError string `json:"last_error,omitempty"`
	Failed    int64  `json:"failed,omitempty"` // unix ms, when it was given up
}

// NewTask is a task to queue with its signed item (nil for cranks and assignments).
type NewTask struct {
	Task Task   `json:"task"`
	Raw  []byte `json:"raw,omitempty"`
}

// TaskBatch is what finishing one task writes, in one transaction.
type TaskBatch struct {
	Done  uint64    // the task that is finished (0: none)
	Tasks []NewTask // tasks it leads to
	// Wallet holds messages to wallets: stored and queued for upload, no delivery needed.
	Wallet []NewTask
	// Monitor, when set, is saved too (a monitor's cursor moves with the cron pushes it queued), unless the
	// monitor was removed meanwhile.
	Monitor *Monitor
}

// ErrTaskGone is returned when finishing a task that is no longer pending (finished or failed meanwhile).
var ErrTaskGone = errors.New("task is no longer pending")

func addTask(tx *bolt.Tx, nt NewTask, now int64) error {
	b := tx.Bucket(bTasks)
	seq, err := b.NextSequence()
	if err != nil {
		return err
	}
	t := nt.Task
	t.Seq, t.Created = seq, now
	t.Attempts, t.NextAt, t.LastError, t.Failed = 0, 0, "", 0
	if err := putJSON(b, be64(seq), t); err != nil {
		return err
	}
	if nt.Raw != nil {
		return tx.Bucket(bTaskItems).Put(be64(seq), nt.Raw)
	}
	return nil
}

// FinishTasks writes the batches in one transaction, in order: each finished task goes (with its item, leaving a
// push record for a delivered message or spawn), new tasks are queued, wallet messages are stored and queued for
// upload, the monitor is saved, and push records past their retention are collected. ErrTaskGone when a Done
// task is not pending; then nothing is written.
func (d *DB) FinishTasks(ctx context.Context, bs ...TaskBatch) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	clock := d.now()
	err := d.update(func(tx *bolt.Tx) error {
		for _, b := range bs {
			if err := finishTask(tx, b, clock, d.pushRetention); err != nil {
				if b.Done != 0 {
					return fmt.Errorf("task %d: %w", b.Done, err)
				}
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("finish %d tasks: %w", len(bs), err)
	}
	return nil
}

// finishTask writes one batch of FinishTasks.
func finishTask(tx *bolt.Tx, b TaskBatch, clock time.Time, retention time.Duration) error {
	now := clock.UnixMilli()
	if b.Done != 0 {
		tasks := tx.Bucket(bTasks)
		raw := tasks.Get(be64(b.Done))
		if raw == nil {
			return ErrTaskGone
		}
		var done Task
		if err := json.Unmarshal(raw, &done); err == nil && done.ItemID != "" {
			// What a result's outbox entry became (the explorer links a message to what it caused).
			if key, ok := taskPushKey(done); ok {
				if err := putPush(tx, key, done.ItemID, now); err != nil {
					return err
				}
			}
			if _, _, err := collectPushes(tx, clock.Add(-retention).UnixMilli(), pushCollectBatch); err != nil {
				return err
			}
		}
		if err := tasks.Delete(be64(b.Done)); err != nil {
			return err
		}
		if err := tx.Bucket(bTaskItems).Delete(be64(b.Done)); err != nil {
			return err
		}
	}
	for _, nt := range b.Tasks {
		if err := addTask(tx, nt, now); err != nil {
			return err
		}
	}
	for _, w := range b.Wallet {
		if err := holdItem(tx, w.Task.ItemID, w.Raw, true); err != nil {
			return err
		}
	}
	if m := b.Monitor; m != nil && tx.Bucket(bMonitors).Get([]byte(m.Process)) != nil {
		if err := putJSON(tx.Bucket(bMonitors), []byte(m.Process), m); err != nil {
			return err
		}
	}
	return nil
}

// Tasks returns up to limit pending tasks with a seq above after, in queue order.
func (d *DB) Tasks(ctx context.Context, after uint64, limit int) ([]Task, error) {
	return d.listTasks(ctx, bTasks, after, limit)
}

// FailedTasks returns up to limit given-up tasks with a seq above after.
func (d *DB) FailedTasks(ctx context.Context, after uint64, limit int) ([]Task, error) {
	return d.listTasks(ctx, bTasksFailed, after, limit)
}

func (d *DB) listTasks(ctx context.Context, bucket []byte, after uint64, limit int) ([]Task, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	var out []Task
	err := d.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucket).Cursor()
		for k, v := c.Seek(be64(after + 1)); k != nil && (limit <= 0 || len(out) < limit); k, v = c.Next() {
			var t Task
			if err := json.Unmarshal(v, &t); err != nil {
				return fmt.Errorf("task %d: %w", binary.BigEndian.Uint64(k), err)
			}
			out = append(out, t)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", bucket, err)
	}
	return out, nil
}

// Task returns one task, pending or failed (failed tells which).
func (d *DB) Task(ctx context.Context, seq uint64) (t *Task, failed bool, err error) {
	if err := ctxErr(ctx); err != nil {
		return nil, false, err
	}
	err = d.db.View(func(tx *bolt.Tx) error {
		t = new(Task)
		if err := getJSON(tx.Bucket(bTasks), be64(seq), t); !errors.Is(err, ErrNotFound) {
			return err
		}
		failed = true
		return getJSON(tx.Bucket(bTasksFailed), be64(seq), t)
	})
	if err != nil {
		return nil, false, fmt.Errorf("read task %d: %w", seq, err)
	}
	return t, failed, nil
}

// TaskItem returns the signed item of a task (pending or failed).
func (d *DB) TaskItem(ctx context.Context, seq uint64) ([]byte, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	var raw []byte
	err := d.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bTaskItems).Get(be64(seq))
		if v == nil {
			return ErrNotFound
		}
		raw = append([]byte(nil), v...)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read item of task %d: %w", seq, err)
	}
	return raw, nil
}

// RetryTask records a failed attempt: the task stays pending and is not tried again before next.
func (d *DB) RetryTask(ctx context.Context, seq uint64, attempts int, next time.Time, reason string) error {
	return d.updateTask(ctx, seq, func(t *Task) {
		t.Attempts, t.NextAt, t.LastError = attempts, next.UnixMilli(), reason
	})
}

func (d *DB) updateTask(ctx context.Context, seq uint64, fn func(t *Task)) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	err := d.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bTasks)
		var t Task
		if err := getJSON(b, be64(seq), &t); err != nil {
			if errors.Is(err, ErrNotFound) {
				return ErrTaskGone
			}
			return err
		}
		fn(&t)
		return putJSON(b, be64(seq), t)
	})
	if err != nil {
		return fmt.Errorf("update task %d: %w", seq, err)
	}
	return nil
}

// FailTask gives a task up: it leaves the queue for the failed list, keeping its item. When upload is set its
// item is also stored and queued for Arweave (where it can still be assigned to its target later).
func (d *DB) FailTask(ctx context.Context, seq uint64, attempts int, reason string, upload bool) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	err := d.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bTasks)
		var t Task
		if err := getJSON(b, be64(seq), &t); err != nil {
			if errors.Is(err, ErrNotFound) {
				return ErrTaskGone
			}
			return err
		}
		t.Attempts, t.LastError, t.Failed, t.NextAt = attempts, reason, time.Now().UnixMilli(), 0
		if err := b.Delete(be64(seq)); err != nil {
			return err
		}
		if err := putJSON(tx.Bucket(bTasksFailed), be64(seq), t); err != nil {
			return err
		}
		if raw := tx.Bucket(bTaskItems).Get(be64(seq)); upload && raw != nil && t.ItemID != "" {
			return holdItem(tx, t.ItemID, raw, true)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("fail task %d: %w", seq, err)
	}
	return nil
}

// RequeueTask puts a failed task back at the end of the queue (a new seq, attempts from zero) and returns it.
func (d *DB) RequeueTask(ctx context.Context, seq uint64) (*Task, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	var out Task
	err := d.update(func(tx *bolt.Tx) error {
		failed := tx.Bucket(bTasksFailed)
		var t Task
		if err := getJSON(failed, be64(seq), &t); err != nil {
			return err
		}
		items := tx.Bucket(bTaskItems)
		raw := items.Get(be64(seq))
		nt := NewTask{Task: t}
		if raw != nil {
			nt.Raw = append([]byte(nil), raw...)
		}
		if err := failed.Delete(be64(seq)); err != nil {
			return err
		}
		if err := items.Delete(be64(seq)); err != nil {
			return err
		}
		if err := addTask(tx, nt, time.Now().UnixMilli()); err != nil {
			return err
		}
		return getJSON(tx.Bucket(bTasks), be64(tx.Bucket(bTasks).Sequence()), &out)
	})
	if err != nil {
		return nil, fmt.Errorf("requeue task %d: %w", seq, err)
	}
	return &out, nil
}

// TaskCounts counts pending tasks by kind, and failed ones (key "failed").
func (d *DB) TaskCounts(ctx context.Context) (map[string]int, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	out := map[string]int{TaskCrank: 0, TaskMessage: 0, TaskSpawn: 0, TaskAssign: 0, "failed": 0}
	err := d.db.View(func(tx *bolt.Tx) error {
		err := tx.Bucket(bTasks).ForEach(func(_, v []byte) error {
			var t struct {
				Kind string `json:"kind"`
			}
			if err := json.Unmarshal(v, &t); err != nil {
				return err
			}
			out[t.Kind]++
			return nil
		})
		out["failed"] = tx.Bucket(bTasksFailed).Stats().KeyN
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("count tasks: %w", err)
	}
	return out, nil
}
