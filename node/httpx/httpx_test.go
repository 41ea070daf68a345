package httpx

import (
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/gin-gonic/gin"
)

func TestAssignmentQuery(t *testing.T) {
	gin.SetMode(gin.TestMode)
	cases := []struct {
		query      string
		want       Assignment
		asked, ok  bool
		wantStatus int
	}{
		{"", Assignment{}, false, true, 200},
		{"?other=1", Assignment{}, false, true, 200},
		{"?process-id=P&assign=M", Assignment{Process: "P", Message: "M"}, true, true, 200},
		{"?process-id=P&assign=M&base-layer&exclude=Data,Anchor", Assignment{Process: "P", Message: "M", BaseLayer: true, Exclude: []string{"Data", "Anchor"}}, true, true, 200},
		{"?process-id=P", Assignment{}, true, false, http.StatusBadRequest},
		{"?assign=M", Assignment{}, true, false, http.StatusBadRequest},
		{"?process-id=&assign=M", Assignment{}, true, false, http.StatusBadRequest},
	}
	for _, c := range cases {
		t.Run(c.query, func(t *testing.T) {
			w := httptest.NewRecorder()
			ctx, _ := gin.CreateTestContext(w)
			ctx.Request = httptest.NewRequest(http.MethodPost, "/"+c.query, nil)
			a, asked, ok := AssignmentQuery(ctx, "both, please")
			if !reflect.DeepEqual(a, c.want) || asked != c.asked || ok != c.ok {
				t.Fatalf("got %+v asked %v ok %v, want %+v %v %v", a, asked, ok, c.want, c.asked, c.ok)
			}
			if w.Code != c.wantStatus {
				t.Fatalf("status %d, want %d", w.Code, c.wantStatus)
			}
			if !ok && w.Body.String() != `{"error":"both, please"}` {
				t.Fatalf("body %s", w.Body)
			}
		})
	}
}
