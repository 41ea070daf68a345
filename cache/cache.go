// Package cache holds evaluation results where every CU of a deployment can read them: in process memory by
// default (embedded), or in Redis so several aonode CUs sharing one Redis answer for each other. Results are
// deterministic functions of a process's schedule, so a result computed by any CU is valid for all of them.
package cache

import (
	"context"
	"errors"
	"fmt"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/redis/go-redis/v9"
)

// Cache stores evaluation results (JSON) by process and message id (or assignment id).
type Cache interface {
	Result(ctx context.Context, pid, id string) (raw []byte, ok bool, err error)
	PutResult(ctx context.Context, pid string, ids []string, raw []byte) error
	Close() error
}

// Memory is the embedded default: an LRU of the most recent results.
type Memory struct{ l *lru.Cache[string, []byte] }

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
		m.l.Add(key(pid, id), raw)
	}
	return nil
}

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
	_, err := r.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, id := range ids {
			p.Set(ctx, r.key(pid, id), raw, r.ttl)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("redis cache: store result %s: %w", pid, err)
	}
	return nil
}

// Close implements Cache.
func (r *Redis) Close() error { return r.c.Close() }
