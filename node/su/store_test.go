package su

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/aonode/aonode/internal/fixture"
	"github.com/aonode/aonode/node/httpx"
	"github.com/aonode/aonode/node/store"
)

// diskFull is the store as it is when its disk fills up: every append fails; the rest is a real store.
// The SU takes the small Store interface, so a test can give it this and see what a client and the log get,
// which a real bbolt file cannot be made to do on demand.
type diskFull struct {
	Store
	full atomic.Bool
}

func (d *diskFull) Append(ctx context.Context, ne store.NewEntry) error {
	if d.full.Load() {
		return errors.New("write /var/lib/aonode/store.db: no space left on device")
	}
	return d.Store.Append(ctx, ne)
}

// AppendTaken fails when the disk is full as the transaction begins, as a real one would: a write the SU queued
// before the disk filled up still meets the full disk.
func (d *diskFull) AppendTaken(ctx context.Context, take func() []store.NewEntry) error {
	refused := false
	err := d.Store.AppendTaken(ctx, func() []store.NewEntry {
		nes := take()
		if d.full.Load() && len(nes) > 0 {
			refused = true
			return nil
		}
		return nes
	})
	if refused {
		return errors.New("write /var/lib/aonode/store.db: no space left on device")
	}
	return err
}

// A message the store cannot take is answered 500 without the store's error (it names the node's files),
// logged with the request's id, not acknowledged, and taken once the store takes writes again.
func TestStoreFailureIsAnInternalError(t *testing.T) {
	sw, _ := wallets(t)
	_, db := newSU(t)
	var logs bytes.Buffer
	fs := &diskFull{Store: db}
	s := New(Config{Signer: sw, Store: fs, Heights: fixture.Height(1234), Log: slog.New(slog.NewTextHandler(&logs, nil))})
	ctx := context.Background()
	p := spawnItem(t, s)
	if _, err := s.Write(ctx, p); err != nil {
		t.Fatal(err)
	}
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.Use(httpx.RequestID())
	s.Routes(r, 1<<20)
	m := msgItem(t, p.ID)
	post := func() *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		r.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(m.Raw)))
		return w
	}

	fs.full.Store(true)
	w := post()
	id := w.Header().Get("X-Request-Id")
	var body map[string]string
	json.Unmarshal(w.Body.Bytes(), &body)
	if w.Code != 500 || body["error"] != "internal error" || body["request_id"] != id || id == "" {
		t.Fatalf("%d %s (id %s)", w.Code, w.Body, id)
	}
	if strings.Contains(w.Body.String(), "no space") || !strings.Contains(logs.String(), "request_id="+id) ||
		!strings.Contains(logs.String(), "no space left on device") {
		t.Fatalf("body %s, log %s", w.Body, logs.String())
	}
	if h, err := db.Head(ctx, p.ID); err != nil || h.Nonce != 0 {
		t.Fatalf("head after the failed write: %+v %v", h, err)
	}

	fs.full.Store(false)
	if w := post(); w.Code != 200 || !strings.Contains(w.Body.String(), m.ID) {
		t.Fatalf("after the disk is freed: %d %s", w.Code, w.Body)
	}
	if h, err := db.Head(ctx, p.ID); err != nil || h.Nonce != 1 {
		t.Fatalf("head: %+v %v", h, err)
	}
}
