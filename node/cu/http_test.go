package cu

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
)

func (e *env) router() *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	e.cu.Routes(r, 1<<20)
	return r
}

// An order /results does not know is refused, whether asked for directly or carried in a cursor, and so is
// a cursor whose position is not one this CU issues.
func TestResultsRefusesUnknownSort(t *testing.T) {
	e := newEnv(t)
	pid := e.spawnKV()
	r := e.router()
	cursor := func(sort string) string {
		b, _ := json.Marshal(Cursor{Timestamp: 1, Ordinate: "0", Sort: sort})
		return url.QueryEscape(base64.StdEncoding.EncodeToString(b))
	}
	raw := func(c Cursor) string {
		b, _ := json.Marshal(c)
		return url.QueryEscape(base64.StdEncoding.EncodeToString(b))
	}
	cases := []struct {
		query  string
		status int
		want   string
	}{
		{"sort=sideways", 400, "ASC or DESC"},
		{"sort=asc", 400, "ASC or DESC"},
		{"sort=", 400, "ASC or DESC"},
		{"from=" + cursor("sideways"), 400, "ASC or DESC"},
		{"to=" + cursor("up"), 400, "ASC or DESC"},
		{"from=" + raw(Cursor{Timestamp: 1, Ordinate: "one"}), 400, "ordinate"},
		{"to=" + raw(Cursor{Timestamp: 1, Ordinate: "1", Cron: "hourly"}), 400, "cron"},
		{"from=notacursor", 400, "neither a cursor nor a timestamp"},
		{"from=" + raw(Cursor{Timestamp: 1, Ordinate: "1", Cron: "0-1-second"}), 200, ""},
		{"from=1700000000000", 200, ""},
		{"sort=DESC", 200, ""},
		{"from=" + cursor("DESC"), 200, ""},
		{"", 200, ""},
	}
	for _, tc := range cases {
		t.Run(tc.query, func(t *testing.T) {
			w := httptest.NewRecorder()
			r.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/results/"+pid+"?"+tc.query, nil))
			if w.Code != tc.status {
				t.Fatalf("status %d, want %d: %.300s", w.Code, tc.status, w.Body)
			}
			var out map[string]any
			if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
				t.Fatalf("not one JSON object: %.300q", w.Body)
			}
			if msg, _ := out["error"].(string); tc.status != 200 && !strings.Contains(msg, tc.want) {
				t.Fatalf("error %q does not name %q", msg, tc.want)
			}
		})
	}
}
