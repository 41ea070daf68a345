package httpx

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
)

// ClientError is the one error model of the units' APIs: a request the node refuses, answered with Status
// (0: 400) and {"error": Msg}, with Retry-After when RetryAfter is set (a busy pool). Anything else a handler
// fails with is internal: Fail answers it 500 without its text and logs it under the request's id.
type ClientError struct {
	Status     int
	Msg        string
	RetryAfter time.Duration
}

func (e *ClientError) Error() string { return e.Msg }

// HTTPStatus is the status the error is answered with.
func (e *ClientError) HTTPStatus() int {
	if e.Status == 0 {
		return http.StatusBadRequest
	}
	return e.Status
}

// Errorf is a ClientError with a formatted message.
func Errorf(status int, format string, args ...any) *ClientError {
	return &ClientError{Status: status, Msg: fmt.Sprintf(format, args...)}
}

// Fail answers err. A *ClientError (wrapped or not) is answered as it says; anything else is answered 500
// {"error":"internal error","request_id":...}: its text may name files, keys or peers, so it goes only to
// the log, with the request id the client got.
func Fail(c *gin.Context, log *slog.Logger, err error) {
	var ce *ClientError
	if errors.As(err, &ce) {
		if ce.RetryAfter > 0 {
			c.Header("Retry-After", strconv.Itoa(int(max(time.Second, ce.RetryAfter).Round(time.Second)/time.Second)))
		}
		Error(c, ce.HTTPStatus(), ce.Msg)
		return
	}
	internal(c, log, err)
}

func internal(c *gin.Context, log *slog.Logger, err error) {
	if log == nil {
		log = slog.Default()
	}
	id := RequestIDOf(c)
	log.Error("request failed", "request_id", id, "method", c.Request.Method, "path", c.Request.URL.Path, "err", err)
	c.AbortWithStatusJSON(http.StatusInternalServerError, gin.H{"error": "internal error", "request_id": id})
}

// RequestIDHeader carries a request's id both ways.
const RequestIDHeader = "X-Request-Id"

const requestIDKey = "aonode.request_id"

// RequestID gives every request an id, answered in X-Request-Id and named in the logs of its failures: the
// client's own when it sent a well-formed one (so ids follow a request across services), else a new one.
func RequestID() gin.HandlerFunc {
	return func(c *gin.Context) {
		id := c.GetHeader(RequestIDHeader)
		if !wellFormedID(id) {
			id = newRequestID()
		}
		c.Set(requestIDKey, id)
		c.Header(RequestIDHeader, id)
		c.Next()
	}
}

// RequestIDOf is the request's id ("" outside RequestID).
func RequestIDOf(c *gin.Context) string { return c.GetString(requestIDKey) }

type requestIDCtx struct{}

// ContextWithRequestID returns ctx carrying id, for work done for a request outside its handler.
func ContextWithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDCtx{}, id)
}

// RequestIDFrom is the id of the request ctx serves ("" when none): a gin request's (its context reaches
// the units as ctx) or one set with ContextWithRequestID. Calls to other units pass it on in
// X-Request-Id, so one id names a request in every node's logs.
func RequestIDFrom(ctx context.Context) string {
	if id, ok := ctx.Value(requestIDCtx{}).(string); ok {
		return id
	}
	if id, ok := ctx.Value(requestIDKey).(string); ok {
		return id
	}
	return ""
}

// SetRequestID names ctx's request id on an outgoing request (nothing when ctx carries none).
func SetRequestID(ctx context.Context, req *http.Request) {
	if id := RequestIDFrom(ctx); id != "" {
		req.Header.Set(RequestIDHeader, id)
	}
}

// wellFormedID accepts 1 to 128 characters of [A-Za-z0-9._:-]: enough for UUIDs, trace ids and ULIDs, and
// nothing that could forge a log line or a header.
func wellFormedID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		switch ch := id[i]; {
		case ch >= 'a' && ch <= 'z', ch >= 'A' && ch <= 'Z', ch >= '0' && ch <= '9', ch == '.', ch == '_', ch == ':', ch == '-':
		default:
			return false
		}
	}
	return true
}

func newRequestID() string {
	var b [12]byte
	rand.Read(b[:]) // never fails (crypto/rand)
	return hex.EncodeToString(b[:])
}

// Recovery answers a handler's panic as an internal error (500 with the request id, the panic in the log),
// where gin's own would answer an empty 500.
func Recovery(log *slog.Logger) gin.HandlerFunc {
	return gin.CustomRecoveryWithWriter(nil, func(c *gin.Context, p any) {
		internal(c, log, fmt.Errorf("panic: %v", p))
	})
}
