package store

import (
	"fmt"
	"strconv"
)

// The store's key space: every bbolt bucket, its keys and values, and who writes it. A change to any of these
// formats is a new StorageVersion with a migration step (migrate.go). be64 is a big-endian uint64, so keys
// sort numerically; a|b is a followed by b, and "|" is the byte '|'.
var (
	// SU: the scheduled processes, their schedules and the items they hold.
	bProcesses = []byte("processes") // pid -> Process JSON (written by the SU at spawn, read by all)
	bProcIndex = []byte("procindex") // timestamp(be64)|pid -> ProcessRow JSON; its sequence counts processes (SU)
	bLogs      = []byte("logs")      // pid -> nested bucket: nonce(be64) -> Entry JSON (SU, recovery)
	// item id -> record (records.go): the raw ANS-104 bytes when held (SU, MU wallet messages, node records),
	// the upload queue seq, the schedule slots pid+nonce the id fills (SU, recovery).
	bRecords = []byte("records")

	// CU: what evaluation produced.
	bResults   = []byte("results")   // pid -> nested bucket: nonce(be64) -> result JSON
	bCrons     = []byte("crons")     // pid -> nested bucket: tick(be64)|index(be16) -> result JSON
	bSnapshots = []byte("snapshots") // pid -> nonce(be64) + the CU's latest snapshot of the process

	// Upload queue (SU, MU and CU enqueue; the bundler worker moves rows through their statuses).
	bUploads       = []byte("uploads")         // seq(be64) -> Upload JSON (an item's row: its record's upload seq)
	bUploadPending = []byte("uploads-pending") // seq(be64) -> item size(be32), nil when indexed before sizes were: the pending rows, so the worker never scans the rest
	bUploadPosted  = []byte("uploads-posted")  // seq(be64) -> nil: the posted rows the confirmer checks

	// MU: the durable crank, monitors and what it delivered.
	bTasks        = []byte("tasks")         // seq(be64) -> Task JSON, pending
	bTaskItems    = []byte("task-items")    // seq(be64) -> the task's signed item
	bTasksFailed  = []byte("tasks-failed")  // seq(be64) -> Task JSON, given up (listed and retried by operators)
	bMonitors     = []byte("monitors")      // pid -> Monitor JSON
	bPushes       = []byte("pushes")        // pushKey -> when(be64 unix ms) + item id: what an outbox entry became
	bPushesByTime = []byte("pushes-bytime") // when(be64 unix ms)|pushKey -> nil: collection order (pushes.go)

	// Single values, each under a key declared below; nothing else writes this bucket.
	bMeta = []byte("meta") // MetaKey -> value
)

// allBuckets is every top-level bucket of the current version; Open creates the missing ones.
var allBuckets = [][]byte{
	bProcesses, bProcIndex, bLogs, bRecords,
	bResults, bCrons, bSnapshots,
	bUploads, bUploadPending, bUploadPosted,
	bTasks, bTaskItems, bTasksFailed, bMonitors, bPushes, bPushesByTime,
	bMeta,
}

// MetaKey names one value of the meta bucket. Only the constructors below make them, so every key the store
// holds is listed here.
type MetaKey struct{ k string }

func (m MetaKey) String() string { return m.k }

// keyStorageVersion holds the store's StorageVersion (decimal). Stores made before it existed have none: 1.
var keyStorageVersion = MetaKey{"storage-version"}

// GatewayHeight is the last block height the SU read from the gateway (decimal), used while the gateway is
// down. Written by the node's height source for the SU.
func GatewayHeight() MetaKey { return MetaKey{"gateway-height"} }

// ModuleRecord is the id of the module item the node published for a runtime release and its limits, so a
// restart publishes it once. Written by the node at start.
func ModuleRecord(release, digest string, compute, memory int64) MetaKey {
	return MetaKey{fmt.Sprintf("module/%s/%s/%d/%d", release, digest, compute, memory)}
}

// SchedulerLocation is the id of the Scheduler-Location item published for a URL and TTL (seconds). Written
// by the node at start.
func SchedulerLocation(url string, ttl int64) MetaKey {
	return MetaKey{"scheduler-location/" + url + "/" + strconv.FormatInt(ttl, 10)}
}

// SUWatermark is the SU's watermark of a process (unix ms, decimal): no later assignment is stamped at or
// before it. Written by the SU.
func SUWatermark(pid string) MetaKey { return MetaKey{"su-floor/" + pid} }

// CUCheckpoint is the last checkpoint the CU queued for a process: "<nonce> <item id>". Written by the CU.
func CUCheckpoint(pid string) MetaKey { return MetaKey{"cu-checkpoint/" + pid} }
