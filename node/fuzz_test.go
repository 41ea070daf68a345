package node

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
)

// FuzzUnitRequests sends arbitrary requests (method, path, query, body) to the MU, SU and CU routers of one
// node: every answer is a 2xx-4xx with a JSON body (never a 500 or a panic), and a refused request stores
// nothing.
func FuzzUnitRequests(f *testing.F) {
	// Fixed test keys for the node and the user: every fuzzing worker process starts its own node, and
	// generating two RSA-4096 keys there takes seconds (randomly), enough to stall a short -fuzztime run.
	dir := f.TempDir()
	for from, to := range map[string]string{"fuzz-node-wallet.json": "wallet.json", "fuzz-user-wallet.json": "user.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", from))
		if err != nil {
			f.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, to), b, 0o600); err != nil {
			f.Fatal(err)
		}
	}
	n := startNode(f, dir)
	f.Cleanup(func() { n.Close() })
	p, _, _ := n.post("", "")
	routers := map[byte]*gin.Engine{}
	for i, unit := range []string{"mu", "su", "cu"} {
		r := n.engine(unit)
		switch unit {
		case "mu":
			n.MU.Routes(r, n.cfg.MaxItemSize)
		case "su":
			n.SU.Routes(r, n.cfg.MaxItemSize)
		case "cu":
			n.CU.Routes(r, n.cfg.MaxItemSize)
		}
		routers[byte(i)] = r
	}
	routers[3] = n.adminRouter()
	seeds := []struct {
		unit         byte
		method, path string
		query        string
		body         []byte
	}{
		{0, "POST", "/", "", []byte("garbage")},
		{0, "POST", "/", "process-id=" + p.ID, nil},
		{0, "POST", "/monitor/" + p.ID, "", []byte{1, 0, 2}},
		{1, "GET", "/" + p.ID, "from=abc&limit=-5", nil},
		{1, "GET", "/" + p.ID, "from-nonce=9999999999999999999999&to=1", nil},
		{1, "GET", "/" + p.ID, "process-id=" + p.ID + "&from=abc&to=xyz", nil},
		{1, "GET", "/" + p.ID, "process-id=" + p.ID + "&sort=DESC", nil},
		{3, "GET", "/uploads", "status=x&limit=99999", nil},
		{3, "POST", "/recover/abc", "", nil},
		{1, "POST", "/", "process-id=x&assign=y", nil},
		{2, "GET", "/results/" + p.ID, "from=%%%&sort=sideways&limit=0", nil},
		{2, "GET", "/results/" + p.ID, "from=eyJ0aW1lc3RhbXAiOiJ4In0=", nil},
		{2, "POST", "/dry-run", "process-id=" + p.ID, []byte(`{"Tags":[{"name":1}]}`)},
		{2, "POST", "/dry-run", "process-id=" + p.ID, []byte(`{"Tags":"x","Data":{}}`)},
		{2, "GET", "/result/xyz", "process-id=", nil},
		{2, "GET", "/state/" + strings.Repeat("A", 43), "", nil},
	}
	for _, s := range seeds {
		f.Add(s.unit, s.method, s.path, s.query, s.body)
	}
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, unit byte, method, path, query string, body []byte) {
		r := routers[unit%4]
		if method == "" || strings.ContainsAny(method, " \t\r\n()<>@,;:\\\"/[]?={}") || !strings.HasPrefix(path, "/") ||
			strings.ContainsAny(path, " \t\r\n?#") || strings.ContainsAny(query, " \t\r\n#") {
			return // not an HTTP request a server would receive
		}
		procs, _ := n.DB.ListProcesses(ctx)
		uploads, _ := n.DB.UploadCounts(ctx)
		req, err := http.NewRequest(method, "http://node"+path+"?"+query, bytes.NewReader(body))
		if err != nil {
			return // not a request a client could send
		}
		req.Header.Set("Content-Type", "application/octet-stream")
		w := httptest.NewRecorder()
		r.ServeHTTP(w, req)
		if w.Code >= 500 {
			t.Fatalf("%s %s?%s: %d %s", method, path, query, w.Code, w.Body.String())
		}
		if strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") && !json.Valid(w.Body.Bytes()) {
			t.Fatalf("%s %s?%s: %d with an invalid JSON body %.300q", method, path, query, w.Code, w.Body.String())
		}
		if w.Code >= 400 {
			if !json.Valid(w.Body.Bytes()) {
				t.Fatalf("%s %s?%s: %d with a non-JSON body %q", method, path, query, w.Code, w.Body.String())
			}
			procs2, _ := n.DB.ListProcesses(ctx)
			uploads2, _ := n.DB.UploadCounts(ctx)
			if len(procs2) != len(procs) || uploads2["pending"]+uploads2["posted"]+uploads2["confirmed"] != uploads["pending"]+uploads["posted"]+uploads["confirmed"] {
				t.Fatalf("%s %s?%s refused with %d but stored something", method, path, query, w.Code)
			}
		}
	})
}
