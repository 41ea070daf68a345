package httpx

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
)

// serve runs NewServer(h, o) on a loopback listener (bounded per address by o.MaxConnsPerIP) and returns its
// address.
func serve(t *testing.T, h http.Handler, o ServerOptions) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer(h, o)
	go srv.Serve(LimitPerIP(ln, o.MaxConnsPerIP, nil))
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// echo answers the body's length, reading it the way the units do.
func echo() http.Handler {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.POST("/", func(c *gin.Context) {
		b, ok := ReadBody(c, 1<<20)
		if !ok {
			return
		}
		c.JSON(http.StatusOK, gin.H{"len": len(b)})
	})
	r.GET("/", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"ok": true}) })
	return r
}

// A client that sends its headers and then a body at a trickle is answered 408 and cut off once the body
// timeout passes, not held forever.
func TestSlowBodyCutOff(t *testing.T) {
	addr := serve(t, echo(), ServerOptions{ReadHeaderTimeout: 5 * time.Second, BodyTimeout: 300 * time.Millisecond})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	fmt.Fprintf(c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n")
	stop := make(chan struct{})
	defer close(stop)
	go func() { // one byte every 50 ms: 5 s for the whole body
		for i := 0; i < 100; i++ {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
			if _, err := c.Write([]byte("x")); err != nil {
				return
			}
		}
	}()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no answer to a slow body after %v: %v", time.Since(start), err)
	}
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusRequestTimeout {
		t.Fatalf("slow body: %d %s", res.StatusCode, body)
	}
	// The whole body takes 5 s: the 408 must come well before (a loaded machine may be slow to deliver it).
	if took := time.Since(start); took > 4*time.Second {
		t.Fatalf("cut off only after %v", took)
	}
	// And the connection is closed, not kept for the rest of the body.
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Fatal("connection still open after the timeout")
	}
}

// A handler that takes longer than both timeouts before answering is not cut off (its context stays live),
// with a body or without, and a body sent promptly is read whole.
func TestLongHandlerNotCutOff(t *testing.T) {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	slow := func(c *gin.Context) {
		b, ok := ReadBody(c, 1<<20)
		if !ok {
			return
		}
		select {
		case <-time.After(800 * time.Millisecond):
		case <-c.Request.Context().Done():
			t.Errorf("request context canceled while the handler ran: %v", c.Request.Context().Err())
			return
		}
		c.String(http.StatusOK, "%d:%s", len(b), strings.Repeat("y", 300<<10))
	}
	r.GET("/", slow)
	r.POST("/", slow)
	addr := serve(t, r, ServerOptions{ReadHeaderTimeout: time.Second, BodyTimeout: 200 * time.Millisecond,
		WriteTimeout: 200 * time.Millisecond, IdleTimeout: time.Second})
	for _, method := range []string{"GET", "POST"} {
		req, _ := http.NewRequestWithContext(context.Background(), method, "http://"+addr+"/", strings.NewReader("hello"))
		if method == "GET" {
			req.Body, req.ContentLength = http.NoBody, 0
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", method, err)
		}
		b, err := io.ReadAll(res.Body)
		res.Body.Close()
		want := "0:"
		if method == "POST" {
			want = "5:"
		}
		if err != nil || res.StatusCode != 200 || !strings.HasPrefix(string(b), want) || len(b) != len(want)+300<<10 {
			t.Fatalf("%s: %d, %d bytes, %v", method, res.StatusCode, len(b), err)
		}
	}
}

// Past the per-address bound a new connection is refused with 429, while another address is still served,
// and a connection closed frees its place.
func TestPerIPConnectionBound(t *testing.T) {
	addr := serve(t, echo(), ServerOptions{ReadHeaderTimeout: 10 * time.Second, MaxConnsPerIP: 2})
	// Two idle connections from 127.0.0.1 hold its places.
	var held []net.Conn
	for i := 0; i < 2; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		held = append(held, c)
	}
	get := func(local string) (int, error) {
		d := &net.Dialer{Timeout: 2 * time.Second}
		if local != "" {
			d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(local)}
		}
		tr := &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true}
		defer tr.CloseIdleConnections()
		cl := &http.Client{Transport: tr, Timeout: 3 * time.Second}
		res, err := cl.Get("http://" + addr + "/")
		if err != nil {
			return 0, err
		}
		defer res.Body.Close()
		io.Copy(io.Discard, res.Body)
		if res.StatusCode == http.StatusTooManyRequests && res.Header.Get("Retry-After") == "" {
			return 0, fmt.Errorf("429 without Retry-After")
		}
		return res.StatusCode, nil
	}
	// The listener may not have accepted the held connections yet: wait until the third is refused.
	deadline := time.Now().Add(5 * time.Second)
	for {
		status, err := get("127.0.0.1")
		if err == nil && status == http.StatusTooManyRequests {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("third connection from one address: %d %v, want 429", status, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if status, err := get("127.0.0.2"); err != nil || status != http.StatusOK {
		t.Fatalf("another address: %d %v, want 200", status, err)
	}
	held[0].Close()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		status, err := get("127.0.0.1")
		if err == nil && status == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after a connection closed: %d %v, want 200", status, err)
		}
	}
}

// A client that stops reading a response is cut off once sending stalls for the write timeout.
func TestStalledReaderCutOff(t *testing.T) {
	failed := make(chan time.Duration, 1)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		chunk := make([]byte, 1<<20)
		for i := 0; i < 256; i++ { // 256 MiB: far more than the socket buffers hold
			if _, err := w.Write(chunk); err != nil {
				failed <- time.Since(start)
				return
			}
		}
		failed <- -1
	})
	addr := serve(t, h, ServerOptions{ReadHeaderTimeout: time.Second, WriteTimeout: 300 * time.Millisecond})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n") // and never read
	select {
	case d := <-failed:
		if d < 0 {
			t.Fatal("the whole response was sent to a client that reads nothing")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the server was still writing to a stalled client after 10 s")
	}
}
