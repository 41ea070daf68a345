package su

import (
	"context"

	"github.com/aonode/aonode/node/store"
)

// Store is what the SU needs of the node's store: the schedule it writes and serves, the items it holds, its
// watermarks and the upload queue it reports. *store.DB is one; a test can give the SU a store that fails.
type Store interface {
	Append(ctx context.Context, ne store.NewEntry) error
	AppendTaken(ctx context.Context, take func() []store.NewEntry) error
	Head(ctx context.Context, pid string) (*store.Head, error)
	GetProcess(ctx context.Context, pid string) (*store.Process, error)
	Entries(ctx context.Context, pid string, fromNonce, toNonce int64, limit int) ([]store.Entry, error)
	EntriesByTime(ctx context.Context, pid string, from, to int64, limit int) ([]store.Entry, error)
	FirstNonceAfter(ctx context.Context, pid string, ts int64) (int64, error)
	EntryByID(ctx context.Context, pid, id string) (*store.Entry, error)
	Item(ctx context.Context, id string) ([]byte, error)
	Meta(ctx context.Context, key store.MetaKey) (string, error)
	SetMeta(ctx context.Context, key store.MetaKey, value string) error
	ListUploads(ctx context.Context, status string, after uint64, limit int) ([]store.Upload, error)
	UploadCounts(ctx context.Context) (map[string]int, error)
	UploadStatus(ctx context.Context, itemID string) (*store.Upload, error)
}

var _ Store = (*store.DB)(nil)
