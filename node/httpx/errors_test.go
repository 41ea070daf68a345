package httpx

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
)

// router fails every request to /fail with err, panics on /panic, and logs into buf.
func router(err error, buf *bytes.Buffer) *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	log := slog.New(slog.NewTextHandler(buf, nil))
	r := gin.New()
	r.Use(RequestID(), Recovery(log))
	r.GET("/fail", func(c *gin.Context) { Fail(c, log, err) })
	r.GET("/panic", func(c *gin.Context) { panic("secret state /var/lib/aonode/store.db") })
	r.GET("/ok", func(c *gin.Context) { c.String(http.StatusOK, "ok") })
	return r
}

func do(r http.Handler, path, requestID string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if requestID != "" {
		req.Header.Set(RequestIDHeader, requestID)
	}
	w := httptest.NewRecorder()
	r.ServeHTTP(w, req)
	return w
}

// Client errors are answered as they say; anything else is a 500 that names only the request id, with the
// details in the log under that id.
func TestFail(t *testing.T) {
	internalErr := errors.New("read schedule of P: open /var/lib/aonode/store.db: input/output error")
	for _, tc := range []struct {
		name       string
		err        error
		status     int
		body       string // the error's text ("" for a 500)
		retryAfter string
	}{
		{"client error, default status", &ClientError{Msg: "bad tag"}, 400, "bad tag", ""},
		{"client error with a status", &ClientError{Status: 404, Msg: "process P not found"}, 404, "process P not found", ""},
		{"wrapped client error", fmt.Errorf("dry-run: %w", Errorf(422, "module %s refused", "M")), 422, "module M refused", ""},
		{"busy, try again", &ClientError{Status: 429, Msg: "busy", RetryAfter: 1500 * time.Millisecond}, 429, "busy", "2"},
		{"busy, less than a second", &ClientError{Status: 429, Msg: "busy", RetryAfter: time.Millisecond}, 429, "busy", "1"},
		{"internal", internalErr, 500, "", ""},
		{"wrapped internal", fmt.Errorf("evaluate: %w", internalErr), 500, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			w := do(router(tc.err, &logs), "/fail", "")
			id := w.Header().Get(RequestIDHeader)
			if w.Code != tc.status || id == "" || w.Header().Get("Retry-After") != tc.retryAfter {
				t.Fatalf("status %d, id %q, Retry-After %q", w.Code, id, w.Header().Get("Retry-After"))
			}
			var body map[string]string
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
				t.Fatalf("body %q: %v", w.Body, err)
			}
			if tc.status != 500 {
				if len(body) != 1 || body["error"] != tc.body {
					t.Fatalf("body %v", body)
				}
				if logs.Len() != 0 {
					t.Fatalf("a client error was logged: %s", logs.String())
				}
				return
			}
			if len(body) != 2 || body["error"] != "internal error" || body["request_id"] != id {
				t.Fatalf("500 body %v (id %s)", body, id)
			}
			if strings.Contains(w.Body.String(), "store.db") {
				t.Fatalf("500 echoes the internal error: %s", w.Body)
			}
			if !strings.Contains(logs.String(), "request_id="+id) || !strings.Contains(logs.String(), "input/output error") {
				t.Fatalf("log does not name the id and the error: %s", logs.String())
			}
		})
	}
}

// A client's well-formed X-Request-Id is kept; a missing or malformed one is replaced by a fresh id.
func TestRequestID(t *testing.T) {
	var logs bytes.Buffer
	r := router(nil, &logs)
	for _, tc := range []struct {
		name, sent string
		kept       bool
	}{
		{"none", "", false},
		{"uuid", "3f2c8a4e-1b7d-4c2e-9a65-0d4b8f1e2c7a", true},
		{"trace id", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", true},
		{"with a dot, colon and underscore", "svc.a:req_42", true},
		{"too long", strings.Repeat("a", 129), false},
		{"a space", "a b", false},
		{"a log line", "x\nlevel=ERROR msg=forged", false},
		{"a quote", `x"y`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := do(r, "/ok", tc.sent)
			got := w.Header().Get(RequestIDHeader)
			if tc.kept && got != tc.sent || !tc.kept && (got == tc.sent || !wellFormedID(got) || len(got) != 24) {
				t.Fatalf("sent %q, answered %q", tc.sent, got)
			}
		})
	}
	if a, b := do(r, "/ok", "").Header().Get(RequestIDHeader), do(r, "/ok", "").Header().Get(RequestIDHeader); a == b {
		t.Fatalf("two requests got the same id %s", a)
	}
}

// A handler's panic is a 500 like any internal error: the id in the body, the panic in the log.
func TestRecoveryAnswersInternalError(t *testing.T) {
	var logs bytes.Buffer
	w := do(router(nil, &logs), "/panic", "req-1")
	if w.Code != 500 || w.Body.String() != `{"error":"internal error","request_id":"req-1"}` {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	if !strings.Contains(logs.String(), "request_id=req-1") || !strings.Contains(logs.String(), "panic: secret state") {
		t.Fatalf("log: %s", logs.String())
	}
}

// A request's id reaches the calls made for it: from the gin context (as handlers pass it on) or one set
// on a plain context; none is invented.
func TestRequestIDPassesOn(t *testing.T) {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.ContextWithFallback = true
	r.Use(RequestID())
	var got string
	r.GET("/", func(c *gin.Context) {
		out, _ := http.NewRequest(http.MethodGet, "http://other.test/", nil)
		SetRequestID(c, out)
		got = out.Header.Get(RequestIDHeader)
	})
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set(RequestIDHeader, "trace-7")
	r.ServeHTTP(httptest.NewRecorder(), req)
	if got != "trace-7" {
		t.Fatalf("outgoing X-Request-Id %q, want the client's", got)
	}
	if id := RequestIDFrom(ContextWithRequestID(context.Background(), "job-1")); id != "job-1" {
		t.Fatalf("plain context: %q", id)
	}
	out, _ := http.NewRequest(http.MethodGet, "http://other.test/", nil)
	SetRequestID(context.Background(), out)
	if v := out.Header.Get(RequestIDHeader); v != "" {
		t.Fatalf("a request id out of nowhere: %q", v)
	}
}
