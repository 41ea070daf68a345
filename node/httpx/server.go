package httpx

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// ServerOptions bound what one client can hold of a listener. Zero durations and counts turn a bound off.
type ServerOptions struct {
	// ReadHeaderTimeout is how long a client may take to send the request line and headers.
	ReadHeaderTimeout time.Duration
	// BodyTimeout is how long a client may take to send the request body, from when the handler starts. It
	// is not http.Server.ReadTimeout: that deadline stays on the connection while the handler runs, and once
	// it passes, net/http's background read fails and cancels the request's context, which would cut off an
	// evaluation that legitimately takes longer.
	BodyTimeout time.Duration
	// WriteTimeout is how long sending the response may stall: the deadline is set when the handler starts
	// writing and moved on every 64 KiB, so neither a long evaluation before the first byte nor a large
	// response to a client that keeps reading is cut off, but a client that stops reading is.
	WriteTimeout time.Duration
	// IdleTimeout is how long a kept-alive connection may wait for its next request.
	IdleTimeout time.Duration
	// MaxHeaderBytes bounds the request line and headers.
	MaxHeaderBytes int
	// MaxConnsPerIP bounds the connections one remote address holds at once; past it a new connection is
	// answered 429 and closed, while other addresses are still served.
	MaxConnsPerIP int
}

// NewServer is an http.Server for h with the options' timeouts and header bound (the per-address bound is
// the listener's: see LimitPerIP).
func NewServer(h http.Handler, o ServerOptions) *http.Server {
	return &http.Server{
		Handler:           WithDeadlines(h, o.BodyTimeout, o.WriteTimeout),
		ReadHeaderTimeout: o.ReadHeaderTimeout,
		IdleTimeout:       o.IdleTimeout,
		MaxHeaderBytes:    o.MaxHeaderBytes,
	}
}

// WithDeadlines sets a request's body read deadline (while the body is read) and its response write deadline
// (while the response is written) on the connection.
func WithDeadlines(h http.Handler, body, write time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		if body > 0 && r.Body != nil && r.Body != http.NoBody && r.ContentLength != 0 {
			if err := rc.SetReadDeadline(time.Now().Add(body)); err == nil {
				r.Body = &deadlineBody{ReadCloser: r.Body, rc: rc}
			}
		}
		if write > 0 {
			w = &deadlineWriter{ResponseWriter: w, rc: rc, d: write}
		}
		h.ServeHTTP(w, r)
	})
}

// deadlineBody lifts the read deadline once the body is read to its end: net/http then reads the connection
// in the background to notice a client going away, and a deadline passing there would cancel the request.
// After any other error (the deadline passed) the deadline stays, so the server does not wait on the rest of
// a slow body either.
type deadlineBody struct {
	io.ReadCloser
	rc   *http.ResponseController
	done bool
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if errors.Is(err, io.EOF) && !b.done {
		b.done = true
		_ = b.rc.SetReadDeadline(time.Time{})
	}
	return n, err
}

// writeChunk is how much of a response may be sent per write deadline.
const writeChunk = 64 << 10

type deadlineWriter struct {
	http.ResponseWriter
	rc *http.ResponseController
	d  time.Duration
}

func (w *deadlineWriter) extend() { _ = w.rc.SetWriteDeadline(time.Now().Add(w.d)) }

func (w *deadlineWriter) WriteHeader(code int) {
	w.extend()
	w.ResponseWriter.WriteHeader(code)
}

func (w *deadlineWriter) Write(p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		n := min(len(p), writeChunk)
		w.extend()
		m, err := w.ResponseWriter.Write(p[:n])
		written += m
		if err != nil {
			return written, err
		}
		p = p[n:]
	}
	return written, nil
}

// Flush, Hijack and Unwrap keep what the wrapped writer offers (gin calls the first two on its writer).
func (w *deadlineWriter) Flush() {
	w.extend()
	_ = w.rc.Flush()
}

func (w *deadlineWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) { return w.rc.Hijack() }

func (w *deadlineWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// LimitPerIP bounds the connections each remote address holds on ln (max <= 0: ln itself). A connection past
// the bound is answered 429 with Retry-After and closed, off the accept loop.
func LimitPerIP(ln net.Listener, max int, log *slog.Logger) net.Listener {
	if max <= 0 {
		return ln
	}
	if log == nil {
		log = slog.Default()
	}
	return &perIP{Listener: ln, max: max, conns: map[string]int{}, log: log}
}

type perIP struct {
	net.Listener
	max   int
	log   *slog.Logger
	mu    sync.Mutex
	conns map[string]int
}

func (l *perIP) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		ip := c.RemoteAddr().String()
		if h, _, err := net.SplitHostPort(ip); err == nil {
			ip = h
		}
		l.mu.Lock()
		if l.conns[ip] >= l.max {
			l.mu.Unlock()
			l.log.Debug("connection refused: too many from one address", "remote", ip, "max", l.max)
			go refuse(c, l.max)
			continue
		}
		l.conns[ip]++
		l.mu.Unlock()
		return &countedConn{Conn: c, release: sync.OnceFunc(func() {
			l.mu.Lock()
			if l.conns[ip]--; l.conns[ip] <= 0 {
				delete(l.conns, ip)
			}
			l.mu.Unlock()
		})}, nil
	}
}

// refuse answers a connection over the bound with a 429 and closes it, within about a second whatever the
// client does.
func refuse(c net.Conn, max int) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	body := fmt.Sprintf(`{"error":"too many connections from your address (at most %d at once)"}`, max)
	_, err := fmt.Fprintf(c, "HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\nRetry-After: 1\r\n"+
		"Connection: close\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
	if err != nil {
		return
	}
	// Read what the client sent before closing, so the answer is not lost to a reset.
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.CloseWrite()
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(c, 64<<10))
}

type countedConn struct {
	net.Conn
	release func()
}

func (c *countedConn) Close() error {
	c.release()
	return c.Conn.Close()
}
