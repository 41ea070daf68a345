// Package cache holds evaluation results and process snapshots where every CU of a deployment can read them:
// in process memory by default (embedded), or in Redis so several aonode CUs sharing one Redis answer for each
// other. Results and states are deterministic functions of a process's schedule, so what any CU computed is
// valid for all of them.
package cache

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/redis/go-redis/v9"
)

// Cache stores evaluation results (JSON) by process and message id (or assignment id), and the latest
// snapshot of each process's state by nonce.
type Cache interface {
	Result(ctx context.Context, pid, id string) (raw []byte, ok bool, err error)
	PutResult(ctx context.Context, pid string, ids []string, raw []byte) error
	// PutResults stores several results of one process at once (one round trip to a server).
	PutResults(ctx context.Context, pid string, entries []Entry) error
	// Snapshot returns the newest snapshot stored for pid and the nonce it was taken after.
	Snapshot(ctx context.Context, pid string) (nonce int64, data []byte, ok bool, err error)
	// PutSnapshot keeps data as pid's snapshot unless one at the same or a later nonce is already there, so
	// CUs writing concurrently never move a process back.
	PutSnapshot(ctx context.Context, pid string, nonce int64, data []byte) error
	Close() error
}

// Entry is one result and the ids it is found by (message id, assignment id).
type Entry struct {
	IDs []string
	Raw []byte
}

// Memory is the embedded default: an LRU of the most recent results. It keeps no snapshots: the CU's own
// store already holds the latest of each process, and a copy in memory would only cost megabytes per process.
type Memory struct {
	l *lru.Cache[string, []byte]
}

// NewMemory keeps up to size results.
func NewMemory(size int) (*Memory, error) {
	if size <= 0 {
		size = 10000
	}
	l, err := lru.New[string, []byte](size)
	if err != nil {
		return nil, fmt.Errorf("memory cache: %w", err)
	}
	return &Memory{l: l}, nil
}

func key(pid, id string) string { return pid + "/" + id }

// Result implements Cache.
func (m *Memory) Result(_ context.Context, pid, id string) ([]byte, bool, error) {
	v, ok := m.l.Get(key(pid, id))
	return v, ok, nil
}

// PutResult implements Cache.
func (m *Memory) PutResult(_ context.Context, pid string, ids []string, raw []byte) error {
	for _, id := range ids {
		if id != "" {
			m.l.Add(key(pid, id), raw)
		}
	}
	return nil
}

// PutResults implements Cache.
func (m *Memory) PutResults(ctx context.Context, pid string, entries []Entry) error {
	for _, e := range entries {
		m.PutResult(ctx, pid, e.IDs, e.Raw)
	}
	return nil
}

// Snapshot implements Cache: Memory has none.
func (m *Memory) Snapshot(context.Context, string) (int64, []byte, bool, error) {
	return 0, nil, false, nil
}

// PutSnapshot implements Cache: Memory keeps none (see Memory).
func (m *Memory) PutSnapshot(context.Context, string, int64, []byte) error { return nil }

// Close implements Cache.
func (m *Memory) Close() error { return nil }

// Redis keeps results in a Redis server shared by several CUs.
type Redis struct {
	c      *redis.Client
	prefix string
	ttl    time.Duration
}

// RedisOptions configure the Redis cache.
type RedisOptions struct {
	URL    string        // redis://host:port/db
	Prefix string        // key prefix, so deployments can share a server (default "aonode:")
	TTL    time.Duration // how long a result is kept (0: a week)
}

// NewRedis connects and checks the server answers.
func NewRedis(ctx context.Context, o RedisOptions) (*Redis, error) {
	opt, err := redis.ParseURL(o.URL)
	if err != nil {
		return nil, fmt.Errorf("redis cache: url %q: %w", o.URL, err)
	}
	if o.Prefix == "" {
		o.Prefix = "aonode:"
	}
	if o.TTL <= 0 {
		o.TTL = 7 * 24 * time.Hour
	}
	c := redis.NewClient(opt)
	if err := c.Ping(ctx).Err(); err != nil {
		c.Close()
		return nil, fmt.Errorf("redis cache: ping %s: %w", opt.Addr, err)
	}
	return &Redis{c: c, prefix: o.Prefix, ttl: o.TTL}, nil
}

func (r *Redis) key(pid, id string) string { return r.prefix + "result:" + key(pid, id) }

// Result implements Cache.
func (r *Redis) Result(ctx context.Context, pid, id string) ([]byte, bool, error) {
	b, err := r.c.Get(ctx, r.key(pid, id)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("redis cache: read result %s/%s: %w", pid, id, err)
	}
	return b, true, nil
}

// PutResult implements Cache: one round trip for all the ids of a result.
func (r *Redis) PutResult(ctx context.Context, pid string, ids []string, raw []byte) error {
	return r.PutResults(ctx, pid, []Entry{{IDs: ids, Raw: raw}})
}

// PutResults implements Cache: one round trip for all of them.
func (r *Redis) PutResults(ctx context.Context, pid string, entries []Entry) error {
	_, err := r.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, e := range entries {
			for _, id := range e.IDs {
				if id != "" {
					p.Set(ctx, r.key(pid, id), e.Raw, r.ttl)
				}
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("redis cache: store %d results of %s: %w", len(entries), pid, err)
	}
	return nil
}

func (r *Redis) snapKey(pid string) string { return r.prefix + "snapshot:" + pid }

// putSnapshot stores a snapshot only over an older one, atomically on the server: two CUs racing on one
// process cannot replace a later snapshot with an earlier one.
var putSnapshot = redis.NewScript(`
local cur = redis.call('HGET', KEYS[1], 'nonce')
if cur and tonumber(cur) >= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'nonce', ARGV[1], 'data', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
`)

// Snapshot implements Cache.
func (r *Redis) Snapshot(ctx context.Context, pid string) (int64, []byte, bool, error) {
	vals, err := r.c.HMGet(ctx, r.snapKey(pid), "nonce", "data").Result()
	if err != nil {
		return 0, nil, false, fmt.Errorf("redis cache: read snapshot of %s: %w", pid, err)
	}
	ns, ok1 := vals[0].(string)
	data, ok2 := vals[1].(string)
	if !ok1 || !ok2 {
		return 0, nil, false, nil
	}
	nonce, err := strconv.ParseInt(ns, 10, 64)
	if err != nil {
		return 0, nil, false, fmt.Errorf("redis cache: snapshot of %s has nonce %q", pid, ns)
	}
	return nonce, []byte(data), true, nil
}

// PutSnapshot implements Cache.
func (r *Redis) PutSnapshot(ctx context.Context, pid string, nonce int64, data []byte) error {
	err := putSnapshot.Run(ctx, r.c, []string{r.snapKey(pid)}, nonce, data, r.ttl.Milliseconds()).Err()
	if err != nil {
		return fmt.Errorf("redis cache: store snapshot of %s at nonce %d: %w", pid, nonce, err)
	}
	return nil
}

// Close implements Cache.
func (r *Redis) Close() error { return r.c.Close() }
