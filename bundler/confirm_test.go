package bundler

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestL1PosterConfirm(t *testing.T) {
	cases := []struct {
		name   string
		status int
		body   string
		want   Status
		err    string
	}{
		{"mined", 200, `{"block_height":12,"block_indep_hash":"abc","number_of_confirmations":3}`, Status{State: StateConfirmed, Height: 12}, ""},
		{"arlocal newest block", 200, `{"block_height":5,"block_indep_hash":"x","number_of_confirmations":0}`, Status{State: StateConfirmed, Height: 5}, ""},
		{"arlocal pending", 200, "Pending", Status{State: StatePending}, ""},
		{"node pending", 202, "Pending", Status{State: StatePending}, ""},
		{"unknown", 404, "Not Found", Status{State: StateUnknown}, ""},
		{"gateway error", 500, "boom", Status{}, "HTTP 500"},
		{"garbage", 200, "<html>", Status{}, "unexpected answer"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/tx/bundle-id/status" {
					http.NotFound(w, r)
					return
				}
				w.WriteHeader(c.status)
				w.Write([]byte(c.body))
			}))
			defer srv.Close()
			p, err := NewL1Poster(wallet(t), srv.URL, L1Options{})
			if err != nil {
				t.Fatal(err)
			}
			got, err := p.Confirm(context.Background(), "bundle-id")
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("want error %q, got %v %v", c.err, got, err)
				}
				return
			}
			if err != nil || got != c.want {
				t.Fatalf("got %+v %v, want %+v", got, err, c.want)
			}
		})
	}
}
