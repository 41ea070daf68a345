package node

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"
)

// Every unit answers every request with an X-Request-Id (the client's when it sent a well-formed one), and
// its client errors keep the reference units' {"error": ...} shape.
func TestEveryResponseHasARequestID(t *testing.T) {
	n := startNode(t, t.TempDir())
	defer n.Close()
	for _, tc := range []struct {
		unit, method, path string
		status             int
	}{
		{"mu", "GET", "/", 200},
		{"mu", "POST", "/", 400}, // no item
		{"su", "GET", "/timestamp", 200},
		{"su", "GET", "/" + "x?process-id=y", 400},
		{"cu", "GET", "/results/nope", 404},
		{"cu", "GET", "/no/such/route", 404},
		{"admin", "GET", "/uploads?status=lost", 400},
	} {
		for _, sent := range []string{"", "client-id-42"} {
			req, _ := http.NewRequest(tc.method, n.url(tc.unit)+tc.path, nil)
			if sent != "" {
				req.Header.Set("X-Request-Id", sent)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			id := res.Header.Get("X-Request-Id")
			if res.StatusCode != tc.status || id == "" || sent != "" && id != sent {
				t.Fatalf("%s %s %s (sent %q): %d, id %q, %s", tc.unit, tc.method, tc.path, sent, res.StatusCode, id, body)
			}
			if tc.status >= 400 {
				var e map[string]any
				if err := json.Unmarshal(body, &e); err != nil || e["error"] == nil || e["error"] == "" {
					t.Fatalf("%s %s: error body %s", tc.unit, tc.path, body)
				}
			}
		}
	}
}
