package bundler

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aonode/aonode/gateway/embedded"
)

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func signTestItems(t *testing.T, n int, label string) [][]byte {
	t.Helper()
	raws := make([][]byte, n)
	for i := range raws {
		it, err := wallet(t).Sign([]byte(fmt.Sprintf("%s %d", label, i)), "", "", []Tag{{"Data-Protocol", "ao"}, {"Run", label}})
		if err != nil {
			t.Fatal(err)
		}
		raws[i] = it.Raw
	}
	return raws
}

func parsedID(t *testing.T, raw []byte) string {
	t.Helper()
	it, err := Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return it.ID
}

// The embedded gateway speaks the bundler contract, so a round trip through it checks the real wire format.
func TestItemPosterEmbeddedGateway(t *testing.T) {
	g, err := embedded.Open(filepath.Join(t.TempDir(), "gw.db"), embedded.Options{NoSync: true, Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	srv := httptest.NewServer(g.Handler())
	t.Cleanup(srv.Close)

	batch := signTestItems(t, 3, "batch")
	cases := []struct {
		name string
		path string
		raws [][]byte
	}{
		{"one item", "", signTestItems(t, 1, "one")},
		{"batch in order", "", batch},
		{"same batch again", "", batch},
		{"partly posted batch", "", [][]byte{batch[1], batch[2], signTestItems(t, 1, "tail")[0]}},
		{"duplicate within a batch", "", [][]byte{batch[0], batch[0]}},
		{"v1 path", "/v1/tx", signTestItems(t, 2, "v1")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := NewItemPoster(srv.URL+"/", ItemOptions{Path: tc.path, Logger: discardLogger()})
			if err != nil {
				t.Fatal(err)
			}
			ref, err := p.Post(context.Background(), tc.raws)
			if err != nil {
				t.Fatal(err)
			}
			if want := parsedID(t, tc.raws[len(tc.raws)-1]); ref != want {
				t.Errorf("ref = %s, want the last item %s", ref, want)
			}
			for _, raw := range tc.raws {
				it, err := Parse(raw)
				if err != nil {
					t.Fatal(err)
				}
				res, err := http.Get(srv.URL + "/" + it.ID)
				if err != nil {
					t.Fatal(err)
				}
				body, err := io.ReadAll(res.Body)
				res.Body.Close()
				if err != nil {
					t.Fatal(err)
				}
				if res.StatusCode != http.StatusOK || !bytes.Equal(body, it.Data) {
					t.Errorf("GET /%s = %d %q, want %q", it.ID, res.StatusCode, body, it.Data)
				}
			}
		})
	}
}

// fakeStep is one scripted bundler answer; the last step repeats.
type fakeStep func(w http.ResponseWriter, r *http.Request)

func fakeStatus(code int, body string, header ...string) fakeStep {
	return func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		w.WriteHeader(code)
		io.WriteString(w, body)
	}
}

// fakeAccept answers like Turbo, echoing the posted item's id.
func fakeAccept(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	id := "unparseable"
	if it, err := Parse(b); err == nil {
		id = it.ID
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"id":%q,"owner":"x","timestamp":%d,"winc":"0"}`, id, time.Now().UnixMilli())
}

// fakeDrop closes the connection without an answer.
func fakeDrop(w http.ResponseWriter, r *http.Request) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err == nil {
		conn.Close()
	}
}

func fakeHang(d time.Duration) fakeStep {
	return func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) // the server notices the client leaving only once the body is read
		select {
		case <-time.After(d):
		case <-r.Context().Done():
		}
	}
}

type fakeBundler struct {
	mu    sync.Mutex
	steps []fakeStep
	calls int
	bad   []string // requests that broke the contract
}

func (s *fakeBundler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	st := s.steps[min(s.calls, len(s.steps)-1)]
	s.calls++
	if r.Method != http.MethodPost || r.URL.Path != "/tx/arweave" || r.Header.Get("Content-Type") != "application/octet-stream" ||
		r.Header.Get("Accept") != "application/json" {
		s.bad = append(s.bad, fmt.Sprintf("%s %s %v", r.Method, r.URL.Path, r.Header))
	}
	s.mu.Unlock()
	st(w, r)
}

func TestItemPosterRetriesAndErrors(t *testing.T) {
	items := signTestItems(t, 2, "scripted")
	lastID := parsedID(t, items[1])
	other := parsedID(t, signTestItems(t, 1, "other")[0])
	cases := []struct {
		name      string
		raws      [][]byte
		steps     []fakeStep
		wantErr   string // "" for success
		wantCalls int
		minTime   time.Duration
		maxTime   time.Duration
	}{
		{name: "accepted", steps: []fakeStep{fakeAccept}, wantCalls: 2},
		{name: "503 then 200", steps: []fakeStep{fakeStatus(503, "busy"), fakeAccept}, wantCalls: 3},
		{name: "429 honours Retry-After", steps: []fakeStep{fakeStatus(429, `{"error":"slow down"}`, "Retry-After", "1"), fakeAccept},
			wantCalls: 3, minTime: time.Second},
		{name: "dropped connection", steps: []fakeStep{fakeDrop, fakeAccept}, wantCalls: 3},
		{name: "request timeout", steps: []fakeStep{fakeHang(2 * time.Second), fakeAccept}, wantCalls: 3, maxTime: 1500 * time.Millisecond},
		{name: "409 already held", steps: []fakeStep{fakeStatus(409, "Data item already exists")}, wantCalls: 2},
		{name: "2xx without JSON", steps: []fakeStep{fakeStatus(202, "OK")}, wantCalls: 2},
		{name: "400 is permanent", steps: []fakeStep{fakeStatus(400, `{"error":"invalid signature"}`)},
			wantErr: "400 Bad Request: invalid signature", wantCalls: 1, maxTime: 500 * time.Millisecond},
		{name: "long body is truncated", steps: []fakeStep{fakeStatus(413, strings.Repeat("x", 10000))},
			wantErr: "413 Request Entity Too Large: xxx", wantCalls: 1},
		{name: "id mismatch", steps: []fakeStep{fakeStatus(200, `{"id":"`+other+`"}`)}, wantErr: "answered id " + other, wantCalls: 1},
		{name: "5xx until attempts run out", steps: []fakeStep{fakeStatus(502, "bad gateway")},
			wantErr: "gave up after 3 attempts", wantCalls: 3},
		{name: "Retry-After too long", steps: []fakeStep{fakeStatus(429, "", "Retry-After", "3600")},
			wantErr: "asks to wait", wantCalls: 1},
		{name: "malformed item is not sent", raws: [][]byte{items[0], []byte("junk")}, steps: []fakeStep{fakeAccept},
			wantErr: "invalid data item", wantCalls: 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := &fakeBundler{steps: tc.steps}
			srv := httptest.NewServer(s)
			defer srv.Close()
			p, err := NewItemPoster(srv.URL, ItemOptions{Timeout: 300 * time.Millisecond, Attempts: 3, Backoff: 10 * time.Millisecond, Logger: discardLogger()})
			if err != nil {
				t.Fatal(err)
			}
			raws := tc.raws
			if raws == nil {
				raws = items
			}
			start := time.Now()
			ref, err := p.Post(context.Background(), raws)
			took := time.Since(start)
			switch {
			case tc.wantErr == "" && (err != nil || ref != lastID):
				t.Errorf("Post = %q, %v; want %s", ref, err, lastID)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("Post error = %v, want it to contain %q", err, tc.wantErr)
			case err != nil && len(err.Error()) > 600:
				t.Errorf("error is %d bytes long; the body must be truncated", len(err.Error()))
			}
			if s.calls != tc.wantCalls {
				t.Errorf("bundler saw %d requests, want %d", s.calls, tc.wantCalls)
			}
			if len(s.bad) > 0 {
				t.Errorf("requests broke the contract: %v", s.bad)
			}
			if took < tc.minTime || (tc.maxTime > 0 && took > tc.maxTime) {
				t.Errorf("took %s, want between %s and %s", took, tc.minTime, tc.maxTime)
			}
		})
	}
}

func TestItemPosterStopsWithContext(t *testing.T) {
	srv := httptest.NewServer(&fakeBundler{steps: []fakeStep{fakeStatus(503, "", "Retry-After", "5")}})
	defer srv.Close()
	p, err := NewItemPoster(srv.URL, ItemOptions{Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = p.Post(ctx, signTestItems(t, 1, "ctx"))
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 2*time.Second {
		t.Fatalf("Post = %v after %s, want the context's error promptly", err, time.Since(start))
	}
}

func TestNewItemPoster(t *testing.T) {
	cases := []struct {
		url, path, want string // want "" means invalid
	}{
		{"https://upload.ardrive.io", "", "https://upload.ardrive.io/tx/arweave"},
		{"http://localhost:4000/", "v1/tx", "http://localhost:4000/v1/tx"},
		{"http://host/prefix/", "/tx/arweave", "http://host/prefix/tx/arweave"},
		{"", "", ""},
		{"upload.ardrive.io", "", ""},
		{"ftp://host", "", ""},
		{"http://", "", ""},
		{"http://host/?a=1", "", ""},
		{"http://%zz", "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.url, func(t *testing.T) {
			p, err := NewItemPoster(tc.url, ItemOptions{Path: tc.path})
			switch {
			case tc.want == "" && err == nil:
				t.Errorf("accepted %q", tc.url)
			case tc.want != "" && err != nil:
				t.Errorf("refused %q: %v", tc.url, err)
			case tc.want != "" && p.endpoint != tc.want:
				t.Errorf("endpoint %s, want %s", p.endpoint, tc.want)
			}
		})
	}
	p, err := NewItemPoster("http://host", ItemOptions{})
	if err != nil || p.timeout != 30*time.Second || p.attempts != 5 || p.httpc == nil {
		t.Errorf("defaults: %+v %v", p, err)
	}
	var _ Poster = p
}
