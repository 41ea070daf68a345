package cu

import (
	"context"

	"github.com/aonode/aonode/node/store"
)

// Store is what the CU needs of the node's store: results, cron results, snapshots, its checkpoint notes and
// the checkpoint items it signs. *store.DB is one; a test can give the CU a store that counts or fails.
type Store interface {
	Result(ctx context.Context, pid string, nonce int64) ([]byte, error)
	PutResults(ctx context.Context, pid string, results []store.ResultRow) error
	LastResultNonce(ctx context.Context, pid string) (int64, error)
	CronResult(ctx context.Context, pid string, tick int64, idx int) ([]byte, error)
	CronResults(ctx context.Context, pid string, after, until int64) ([]store.CronRow, error)
	CronResultsBetween(ctx context.Context, pid string, lo, hi store.CronAt, desc bool, limit int) ([]store.CronRow, error)
	PutCronResult(ctx context.Context, pid string, tick int64, idx int, raw []byte) error
	Snapshot(ctx context.Context, pid string) (int64, []byte, error)
	SnapshotNonce(ctx context.Context, pid string) (int64, error)
	PutSnapshot(ctx context.Context, pid string, nonce int64, data []byte) error
	Meta(ctx context.Context, key store.MetaKey) (string, error)
	SetMeta(ctx context.Context, key store.MetaKey, value string) error
	PutItem(ctx context.Context, id string, raw []byte, upload bool) error
}

var _ Store = (*store.DB)(nil)
