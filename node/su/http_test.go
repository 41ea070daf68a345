package su

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
)

// A refused list query answers exactly one JSON error object (never an error followed by a page), and an
// order the SU does not list in is refused, not ignored.
func TestListQueryErrors(t *testing.T) {
	s, _ := newSU(t)
	p := spawnItem(t, s)
	if _, err := s.Write(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	s.Routes(r, 1<<20)
	base := "/" + p.ID + "?process-id=" + p.ID
	cases := []struct {
		query  string
		status int
		want   string // in the error
	}{
		{"&from=abc&to=xyz", 400, "from"},
		{"&from=1&to=xyz", 400, "to"},
		{"&from-nonce=abc&to-nonce=xyz", 400, "from-nonce"},
		{"&from-nonce=0&to-nonce=x", 400, "to-nonce"},
		{"&sort=DESC", 400, "ASC"},
		{"&sort=sideways", 400, "ASC"},
		{"&sort=", 400, "ASC"},
		{"&sort=ASC", 200, ""},
		{"", 200, ""},
	}
	for _, tc := range cases {
		t.Run(tc.query, func(t *testing.T) {
			w := httptest.NewRecorder()
			r.ServeHTTP(w, httptest.NewRequest(http.MethodGet, base+tc.query, nil))
			if w.Code != tc.status {
				t.Fatalf("status %d, want %d: %.300s", w.Code, tc.status, w.Body)
			}
			var out map[string]any
			dec := json.NewDecoder(strings.NewReader(w.Body.String()))
			if err := dec.Decode(&out); err != nil {
				t.Fatalf("body is not JSON: %.300q", w.Body)
			}
			if dec.More() {
				t.Fatalf("more than one JSON value in the body: %.300q", w.Body)
			}
			if tc.status != 200 {
				msg, _ := out["error"].(string)
				if !strings.Contains(msg, tc.want) {
					t.Fatalf("error %q does not name %q", msg, tc.want)
				}
				return
			}
			if edges, _ := out["edges"].([]any); len(edges) != 1 {
				t.Fatalf("page %v", out)
			}
		})
	}
}
