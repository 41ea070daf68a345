package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

const okGraphQL = `{"data":{"transactions":{"pageInfo":{"hasNextPage":false},"edges":[{"cursor":"c1","node":{"id":"A","anchor":"","signature":"s","recipient":"","owner":{"address":"addr","key":"k"},"tags":[{"name":"n","value":"v"}],"data":{"size":"12","type":"text/plain"},"block":{"id":"B","height":3,"timestamp":1700000000},"bundledIn":{"id":"P"}}}]}}}`

// fake answers with the given sequence of (status, header, body); the last entry repeats.
type reply struct {
	status int
	header map[string]string
	body   string
	delay  time.Duration
}

func fake(t *testing.T, replies ...reply) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := int(n.Add(1)) - 1
		if i >= len(replies) {
			i = len(replies) - 1
		}
		rp := replies[i]
		if rp.delay > 0 {
			select {
			case <-time.After(rp.delay):
			case <-r.Context().Done():
				return
			}
		}
		for k, v := range rp.header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(rp.status)
		io.WriteString(w, rp.body)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func TestRetries(t *testing.T) {
	cases := []struct {
		name      string
		replies   []reply
		retries   int
		wantCalls int32
		wantErr   string // "" = success
		minWait   time.Duration
	}{
		{"429 once then ok", []reply{{429, map[string]string{"Retry-After": "0"}, "slow down", 0}, {200, nil, okGraphQL, 0}}, 4, 2, "", 0},
		{"429 honours Retry-After seconds", []reply{{429, map[string]string{"Retry-After": "1"}, "", 0}, {200, nil, okGraphQL, 0}}, 4, 2, "", time.Second},
		{"429 without Retry-After backs off", []reply{{429, nil, "", 0}, {429, nil, "", 0}, {200, nil, okGraphQL, 0}}, 4, 3, "", 0},
		{"503 is retried", []reply{{503, nil, "busy", 0}, {200, nil, okGraphQL, 0}}, 4, 2, "", 0},
		{"429 forever is bounded", []reply{{429, nil, "rate limited", 0}}, 2, 3, "HTTP 429", 0},
		{"no retries configured", []reply{{429, nil, "rate limited", 0}}, 0, 1, "HTTP 429", 0},
		{"404 on /graphql", []reply{{404, nil, "no graphql here", 0}}, 4, 1, "HTTP 404", 0},
		{"500 is not retried", []reply{{500, nil, "boom", 0}}, 4, 1, "HTTP 500: boom", 0},
		{"400 is not retried", []reply{{400, nil, `{"errors":[{"message":"bad"}]}`, 0}}, 4, 1, "HTTP 400", 0},
		{"graphql errors", []reply{{200, nil, `{"data":null,"errors":[{"message":"invalid cursor","path":["transactions"]}]}`, 0}}, 4, 1, "invalid cursor", 0},
		{"not json", []reply{{200, nil, `<html>`, 0}}, 4, 1, "decode response", 0},
		{"no data", []reply{{200, nil, `{"data":null}`, 0}}, 4, 1, "without data", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv, calls := fake(t, tc.replies...)
			c := NewClient(srv.URL+"/", WithMaxRetries(tc.retries), WithBackoff(5*time.Millisecond))
			start := time.Now()
			txs, _, err := c.Transactions(context.Background(), TxQuery{Tags: []TagFilter{{Name: "n", Values: []string{"v"}}}})
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if len(txs) != 1 || txs[0].ID != "A" {
					t.Errorf("txs = %+v", txs)
				}
			} else if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.wantErr)
			} else if !strings.HasPrefix(err.Error(), "gateway transactions:") {
				t.Errorf("err %q does not say what was being done", err)
			} else if errors.Is(err, ErrNotFound) {
				t.Errorf("err %q must not be ErrNotFound", err)
			}
			if got := calls.Load(); got != tc.wantCalls {
				t.Errorf("%d calls, want %d", got, tc.wantCalls)
			}
			if d := time.Since(start); d < tc.minWait {
				t.Errorf("returned after %v, want at least %v (Retry-After)", d, tc.minWait)
			}
		})
	}
}

func TestGraphQLErrorsType(t *testing.T) {
	srv, _ := fake(t, reply{200, nil, `{"errors":[{"message":"Cannot query field \"nope\" on type \"Transaction\"."}]}`, 0})
	err := NewClient(srv.URL).GraphQL(context.Background(), `{ x }`, nil, nil)
	var ge *GraphQLErrors
	if !errors.As(err, &ge) || len(ge.Errors) != 1 || !strings.Contains(err.Error(), "gateway graphql: ") {
		t.Fatalf("err = %#v", err)
	}
}

func TestTransactionsDecoding(t *testing.T) {
	var got map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/graphql" || r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("request %s %s %s", r.Method, r.URL.Path, r.Header.Get("Content-Type"))
		}
		json.NewDecoder(r.Body).Decode(&got)
		io.WriteString(w, `{"data":{"transactions":{"pageInfo":{"hasNextPage":true},"edges":[
			{"cursor":"c1","node":{"id":"A","owner":{"address":"a","key":"k"},"tags":[],"data":{"size":"7","type":null},"block":null,"bundledIn":null}},
			{"cursor":"c2","node":{"id":"B","owner":{"address":"a","key":"k"},"tags":[],"data":{"size":9,"type":"x/y"},"block":{"id":"b","height":"5","timestamp":6},"bundledIn":{"id":"P"}}}]}}}`)
	}))
	defer srv.Close()
	c := NewClient(srv.URL)
	txs, next, err := c.Transactions(context.Background(), TxQuery{
		IDs: []string{"A", "B"}, Owners: []string{"o"}, Recipients: []string{"r"},
		Tags: []TagFilter{{Name: "Type", Values: []string{"Message"}}}, Sort: SortHeightAsc, First: 500, After: "c0",
	})
	if err != nil {
		t.Fatal(err)
	}
	if next != "c2" || len(txs) != 2 {
		t.Fatalf("next %q txs %+v", next, txs)
	}
	if txs[0].DataSize != 7 || txs[0].DataType != "" || txs[0].Block != nil || txs[0].BundledIn != "" {
		t.Errorf("tx 0 = %+v", txs[0])
	}
	if txs[1].DataSize != 9 || txs[1].DataType != "x/y" || txs[1].Block == nil || txs[1].Block.Height != 5 || txs[1].BundledIn != "P" {
		t.Errorf("tx 1 = %+v", txs[1])
	}
	vars := got["variables"].(map[string]any)
	if vars["first"].(float64) != MaxPageSize || vars["sort"] != "HEIGHT_ASC" || vars["after"] != "c0" || len(vars["ids"].([]any)) != 2 {
		t.Errorf("variables = %v", vars)
	}
	q := got["query"].(string)
	for _, want := range []string{"$ids: [ID!]", "$owners: [String!]", "$recipients: [String!]", "$tags: [TagFilter!]", "$sort: SortOrder", "$first: Int", "$after: String", "bundledIn { id }"} {
		if !strings.Contains(q, want) {
			t.Errorf("query lacks %q:\n%s", want, q)
		}
	}
	// unset filters are left out entirely (so gateway defaults apply)
	_, _, err = c.Transactions(context.Background(), TxQuery{First: 1})
	if err != nil {
		t.Fatal(err)
	}
	q = got["query"].(string)
	if strings.Contains(q, "$ids") || strings.Contains(q, "$sort") || strings.Contains(q, "$after") {
		t.Errorf("query with unset filters:\n%s", q)
	}
}

func TestAllTransactionsStopsOnRepeatingCursor(t *testing.T) {
	srv, calls := fake(t, reply{200, nil, `{"data":{"transactions":{"pageInfo":{"hasNextPage":true},"edges":[{"cursor":"same","node":{"id":"A"}}]}}}`, 0})
	n := 0
	err := NewClient(srv.URL).AllTransactions(context.Background(), TxQuery{}, func(Tx) error { n++; return nil })
	if err == nil || !strings.Contains(err.Error(), "repeats") {
		t.Fatalf("err = %v", err)
	}
	if n != 1 || calls.Load() != 2 {
		t.Errorf("fn called %d times over %d pages", n, calls.Load())
	}
	// an error from fn stops the walk and is returned as is
	stop := errors.New("stop")
	if err := NewClient(srv.URL).AllTransactions(context.Background(), TxQuery{}, func(Tx) error { return stop }); err != stop {
		t.Errorf("err = %v, want fn's error", err)
	}
}

func TestInfoDataAndTimeouts(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /info", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"network":"arweave.N.1","version":5,"height":1234,"current":"cur","blocks":1235,"peers":9}`)
	})
	mux.HandleFunc("GET /slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(2 * time.Second):
		case <-r.Context().Done():
		}
	})
	mux.HandleFunc("GET /{id}", func(w http.ResponseWriter, r *http.Request) {
		switch r.PathValue("id") {
		case "present":
			w.Header().Set("Content-Type", "text/plain")
			io.WriteString(w, "payload\x00bytes")
		case "slow":
		default:
			http.Error(w, `{"error":"not found"}`, http.StatusNotFound)
		}
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	ctx := context.Background()
	c := NewClient(srv.URL)

	info, err := c.Info(ctx)
	if err != nil || info != (Info{Network: "arweave.N.1", Height: 1234, Current: "cur", Blocks: 1235}) {
		t.Errorf("Info = %+v, %v", info, err)
	}
	data, ct, err := c.Data(ctx, "present")
	if err != nil || string(data) != "payload\x00bytes" || ct != "text/plain" {
		t.Errorf("Data = %q %q %v", data, ct, err)
	}
	_, _, err = c.Data(ctx, "missing")
	var he *HTTPError
	if !errors.Is(err, ErrNotFound) || !errors.As(err, &he) || he.StatusCode != 404 || !strings.HasPrefix(err.Error(), "gateway data missing:") {
		t.Errorf("Data(missing) err = %v", err)
	}
	if _, _, err := c.Data(ctx, "a/b"); err == nil {
		t.Error("Data accepted an id with a slash")
	}

	// per-request timeout, no retry storm
	slow := NewClient(srv.URL, WithTimeout(50*time.Millisecond), WithMaxRetries(1), WithBackoff(time.Millisecond))
	start := time.Now()
	if _, _, err := slow.get(ctx, "/slow"); err == nil || time.Since(start) > time.Second {
		t.Errorf("slow request: err %v after %v", err, time.Since(start))
	}
	// a cancelled context stops retries at once
	rl, _ := fake(t, reply{429, map[string]string{"Retry-After": "30"}, "", 0})
	cctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	start = time.Now()
	_, _, err = NewClient(rl.URL).Transactions(cctx, TxQuery{})
	if err == nil || !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 2*time.Second {
		t.Errorf("cancelled while waiting for Retry-After: %v after %v", err, time.Since(start))
	}
	if c.URL() != srv.URL {
		t.Errorf("URL() = %q", c.URL())
	}
}

func TestRetryAfterParsing(t *testing.T) {
	future := time.Now().Add(3 * time.Second).UTC().Format(http.TimeFormat)
	cases := []struct {
		in       string
		min, max time.Duration
	}{
		{"", -1, -1},
		{"0", 0, 0},
		{"7", 7 * time.Second, 7 * time.Second},
		{"-3", -1, -1},
		{"soon", -1, -1},
		{future, time.Second, 3 * time.Second},
		{"Mon, 02 Jan 2006 15:04:05 GMT", 0, 0},
	}
	for _, tc := range cases {
		if d := retryAfter(tc.in); d < tc.min || d > tc.max {
			t.Errorf("retryAfter(%q) = %v, want [%v, %v]", tc.in, d, tc.min, tc.max)
		}
	}
}
