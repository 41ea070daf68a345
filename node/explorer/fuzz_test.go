package explorer

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
)

// FuzzExplorerRequests sends arbitrary requests to the explorer of a node holding the tutorial's process:
// every answer is below 500 (a page or a JSON error, never a panic or a stack trace), and nothing is stored.
func FuzzExplorerRequests(f *testing.F) {
	e := newEnv(f, nil)
	k := e.kv()
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	e.x.Routes(r)
	for _, s := range []struct{ method, path, query, body string }{
		{"GET", "/process/" + k.pid, "before=-3", ""},
		{"GET", "/process/" + k.pid, "before=99999999999999999999", ""},
		{"GET", "/message/" + k.set, "process=%ZZ", ""},
		{"GET", "/message/" + k.set, "process=" + k.pid + k.pid, ""},
		{"GET", "/processes", "q=%00&from=1.", ""},
		{"GET", "/processes", "from=18446744073709551615.x", ""},
		{"GET", "/uploads", "status=all&after=18446744073709551616", ""},
		{"GET", "/api/process/" + k.pid + "/since", "after=-1", ""},
		{"POST", "/api/process/" + k.pid + "/dry-run", "", "mode=lua&code=while true do end"},
		{"POST", "/api/process/" + k.pid + "/dry-run", "", "mode=message&tags=%3D%3D%3D"},
		{"DELETE", "/process/" + k.pid, "", ""},
		{"GET", "/assets/../explorer.go", "", ""},
	} {
		f.Add(s.method, s.path, s.query, []byte(s.body))
	}
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, method, path, query string, body []byte) {
		if method == "" || strings.ContainsAny(method, " \t\r\n()<>@,;:\\\"/[]?={}") || !strings.HasPrefix(path, "/") ||
			strings.ContainsAny(path, " \t\r\n?#") || strings.ContainsAny(query, " \t\r\n#") {
			return // not an HTTP request a server would receive
		}
		if strings.Contains(path, "dry-run") && strings.Contains(string(body), "while") {
			return // a dry-run that spins to the compute limit is valid, only slow
		}
		head, _ := e.db.Head(ctx, k.pid)
		count, _ := e.db.ProcessCount(ctx)
		req, err := http.NewRequest(method, "http://explorer"+path+"?"+query, bytes.NewReader(body))
		if err != nil {
			return
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w := httptest.NewRecorder()
		r.ServeHTTP(w, req)
		if w.Code >= 500 {
			t.Fatalf("%s %s?%s: %d %.500s", method, path, query, w.Code, w.Body.String())
		}
		if b := w.Body.String(); strings.Contains(b, "goroutine ") || strings.Contains(b, "panic") {
			t.Fatalf("%s %s?%s shows a stack trace: %.500s", method, path, query, b)
		}
		if h, _ := e.db.Head(ctx, k.pid); h.Nonce != head.Nonce {
			t.Fatalf("%s %s?%s changed the schedule", method, path, query)
		}
		if c, _ := e.db.ProcessCount(ctx); c != count {
			t.Fatalf("%s %s?%s added a process", method, path, query)
		}
	})
}
