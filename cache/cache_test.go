package cache

import (
	"context"
	"fmt"
	"net"
	"os"
	"testing"
	"time"
)

// redisURL is a real Redis for the tests: AONODE_TEST_REDIS_URL, else 127.0.0.1:6379 (the test script
// starts one when none answers). Without one the Redis cases skip, unless AONODE_REQUIRE_REDIS=1.
func redisURL(t *testing.T) string {
	if testing.Short() {
		t.Skip("-short: skipping a test that needs Redis")
	}
	if u := os.Getenv("AONODE_TEST_REDIS_URL"); u != "" {
		return u
	}
	c, err := net.DialTimeout("tcp", "127.0.0.1:6379", time.Second)
	if err != nil {
		if os.Getenv("AONODE_REQUIRE_REDIS") == "1" {
			t.Fatalf("no Redis on 127.0.0.1:6379: %v", err)
		}
		t.Skip("no Redis on 127.0.0.1:6379 (run ./scripts/test.sh, which starts one)")
	}
	c.Close()
	return "redis://127.0.0.1:6379/0"
}

// caches opens each cache kind; the Redis one skips its subtest when no Redis is there (or under -short).
func caches() map[string]func(t *testing.T) Cache {
	prefix := fmt.Sprintf("aonode-test-%d:", time.Now().UnixNano()) // tests never see each other's keys
	return map[string]func(t *testing.T) Cache{
		"memory": func(t *testing.T) Cache {
			m, err := NewMemory(3)
			if err != nil {
				t.Fatal(err)
			}
			return m
		},
		"redis": func(t *testing.T) Cache {
			r, err := NewRedis(context.Background(), RedisOptions{URL: redisURL(t), Prefix: prefix, TTL: time.Minute})
			if err != nil {
				t.Fatal(err)
			}
			return r
		},
	}
}

func TestCaches(t *testing.T) {
	ctx := context.Background()
	for name, open := range caches() {
		t.Run(name, func(t *testing.T) {
			c := open(t)
			defer c.Close()
			if _, ok, err := c.Result(ctx, "p", "m1"); ok || err != nil {
				t.Fatalf("empty cache answered: %v %v", ok, err)
			}
			if err := c.PutResult(ctx, "p", []string{"m1", "a1"}, []byte(`{"Output":1}`)); err != nil {
				t.Fatal(err)
			}
			for _, id := range []string{"m1", "a1"} {
				raw, ok, err := c.Result(ctx, "p", id)
				if !ok || err != nil || string(raw) != `{"Output":1}` {
					t.Fatalf("result by %s: %q %v %v", id, raw, ok, err)
				}
			}
			if _, ok, _ := c.Result(ctx, "other", "m1"); ok {
				t.Fatal("a result leaked to another process")
			}
		})
	}
}

// Two CUs sharing one Redis see each other's results.
func TestRedisShared(t *testing.T) {
	url := redisURL(t)
	ctx := context.Background()
	o := RedisOptions{URL: url, Prefix: fmt.Sprintf("aonode-shared-%d:", time.Now().UnixNano()), TTL: time.Minute}
	a, err := NewRedis(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := NewRedis(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := a.PutResult(ctx, "p", []string{"m"}, []byte("r")); err != nil {
		t.Fatal(err)
	}
	if raw, ok, err := b.Result(ctx, "p", "m"); !ok || err != nil || string(raw) != "r" {
		t.Fatalf("second CU: %q %v %v", raw, ok, err)
	}
}

func TestMemoryEvicts(t *testing.T) {
	m, _ := NewMemory(2)
	ctx := context.Background()
	for i := range 3 {
		m.PutResult(ctx, "p", []string{fmt.Sprint(i)}, []byte{byte(i)})
	}
	if _, ok, _ := m.Result(ctx, "p", "0"); ok {
		t.Fatal("oldest entry kept beyond the size")
	}
	if _, ok, _ := m.Result(ctx, "p", "2"); !ok {
		t.Fatal("newest entry lost")
	}
}

func TestNewRedisRefusesBadConfig(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	for name, url := range map[string]string{"not a url": "::nope", "nothing listening": "redis://127.0.0.1:1/0"} {
		if _, err := NewRedis(ctx, RedisOptions{URL: url}); err == nil {
			t.Fatalf("%s: connected", name)
		}
	}
}

// Snapshots in Redis: newest nonce wins, whatever order CUs write them in; binary data survives byte for byte.
// The memory cache keeps none.
func TestSnapshots(t *testing.T) {
	ctx := context.Background()
	bin := []byte{0, 1, 2, 255, 0, 'x'}
	m, _ := NewMemory(10)
	if err := m.PutSnapshot(ctx, "p", 1, bin); err != nil {
		t.Fatal(err)
	}
	if _, _, ok, _ := m.Snapshot(ctx, "p"); ok {
		t.Fatal("the memory cache kept a snapshot")
	}
	for name, open := range caches() {
		if name == "memory" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			c := open(t)
			defer c.Close()
			if _, _, ok, err := c.Snapshot(ctx, "p"); ok || err != nil {
				t.Fatalf("empty cache answered: %v %v", ok, err)
			}
			steps := []struct {
				nonce     int64
				data      []byte
				wantNonce int64
				wantData  []byte
			}{
				{10, bin, 10, bin},
				{5, []byte("older"), 10, bin},              // an older snapshot never replaces a newer one
				{10, []byte("same nonce"), 10, bin},        // nor one at the same nonce
				{20, []byte("newer"), 20, []byte("newer")}, // a newer one does
			}
			for i, s := range steps {
				if err := c.PutSnapshot(ctx, "p", s.nonce, s.data); err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
				n, d, ok, err := c.Snapshot(ctx, "p")
				if !ok || err != nil || n != s.wantNonce || string(d) != string(s.wantData) {
					t.Fatalf("step %d: got %d %q %v %v, want %d %q", i, n, d, ok, err, s.wantNonce, s.wantData)
				}
			}
			if _, _, ok, _ := c.Snapshot(ctx, "other"); ok {
				t.Fatal("a snapshot leaked to another process")
			}
		})
	}
}

// Concurrent writers from several clients: the newest nonce is what stays.
func TestRedisSnapshotRace(t *testing.T) {
	url := redisURL(t)
	ctx := context.Background()
	o := RedisOptions{URL: url, Prefix: fmt.Sprintf("aonode-race-%d:", time.Now().UnixNano()), TTL: time.Minute}
	done := make(chan error)
	for w := range 4 {
		go func() {
			r, err := NewRedis(ctx, o)
			if err != nil {
				done <- err
				return
			}
			defer r.Close()
			for i := range 50 {
				n := int64(i*4 + w)
				if err := r.PutSnapshot(ctx, "p", n, []byte(fmt.Sprint(n))); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
	}
	for range 4 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	r, _ := NewRedis(ctx, o)
	defer r.Close()
	n, d, ok, err := r.Snapshot(ctx, "p")
	if !ok || err != nil || n != 199 || string(d) != "199" {
		t.Fatalf("after the race: %d %q %v %v", n, d, ok, err)
	}
}
