package mu

import (
	"context"
	"time"

	"github.com/aonode/aonode/node/store"
)

// Store is what the MU needs of the node's store: its durable task queue, monitors, and the schedule and items
// it reads to know where a push goes. *store.DB is one.
type Store interface {
	Tasks(ctx context.Context, after uint64, limit int) ([]store.Task, error)
	FailedTasks(ctx context.Context, after uint64, limit int) ([]store.Task, error)
	Task(ctx context.Context, seq uint64) (*store.Task, bool, error)
	TaskItem(ctx context.Context, seq uint64) ([]byte, error)
	TaskCounts(ctx context.Context) (map[string]int, error)
	FinishTasks(ctx context.Context, bs ...store.TaskBatch) error
	RetryTask(ctx context.Context, seq uint64, attempts int, next time.Time, reason string) error
	FailTask(ctx context.Context, seq uint64, attempts int, reason string, upload bool) error
	RequeueTask(ctx context.Context, seq uint64) (*store.Task, error)
	Monitors(ctx context.Context) ([]store.Monitor, error)
	PutMonitor(ctx context.Context, m store.Monitor) error
	DeleteMonitor(ctx context.Context, pid string) error
	GetProcess(ctx context.Context, pid string) (*store.Process, error)
	Entries(ctx context.Context, pid string, fromNonce, toNonce int64, limit int) ([]store.Entry, error)
	Item(ctx context.Context, id string) ([]byte, error)
	UploadStatus(ctx context.Context, itemID string) (*store.Upload, error)
}

var _ Store = (*store.DB)(nil)
