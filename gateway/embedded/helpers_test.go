package embedded_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aonode/aonode/gateway"
	"github.com/aonode/aonode/gateway/embedded"
	"github.com/everFinance/goar"
	"github.com/everFinance/goar/types"
	"github.com/everFinance/goar/utils"
)

var (
	keysOnce sync.Once
	keys     [2]*goar.Signer
)

// signers returns two RSA-4096 signers, generated once per test binary.
func signers(t testing.TB) (*goar.Signer, *goar.Signer) {
	keysOnce.Do(func() {
		var wg sync.WaitGroup
		for i := range keys {
			wg.Add(1)
			go func() {
				defer wg.Done()
				k, err := rsa.GenerateKey(rand.Reader, 4096)
				if err != nil {
					panic(err)
				}
				keys[i] = goar.NewSignerByPrivateKey(k)
			}()
		}
		wg.Wait()
	})
	return keys[0], keys[1]
}

type env struct {
	t    testing.TB
	path string
	opts embedded.Options
	g    *embedded.Gateway
	srv  *httptest.Server
	url  string
	c    *gateway.Client
	w    *goar.Wallet // posts L1 bundles (signer 2)
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func newEnv(t testing.TB, opts embedded.Options) *env {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	e := &env{t: t, path: filepath.Join(t.TempDir(), "gateway.db"), opts: opts}
	e.start()
	t.Cleanup(e.stop)
	return e
}

func (e *env) start() {
	e.t.Helper()
	g, err := embedded.Open(e.path, e.opts)
	if err != nil {
		e.t.Fatal(err)
	}
	e.g = g
	e.srv = httptest.NewServer(g.Handler())
	e.url = e.srv.URL
	e.c = gateway.NewClient(e.url, gateway.WithTimeout(30*time.Second))
	_, poster := signers(e.t)
	e.w = &goar.Wallet{Client: goar.NewClient(e.url), Signer: poster}
}

func (e *env) stop() {
	if e.srv != nil {
		e.srv.Close()
		e.srv = nil
	}
	if e.g != nil {
		if err := e.g.Close(); err != nil {
			e.t.Error(err)
		}
		e.g = nil
	}
}

// restart closes the gateway and opens the same file again (on a new port).
func (e *env) restart() {
	e.t.Helper()
	e.stop()
	e.start()
}

func mkItem(t testing.TB, s *goar.Signer, data []byte, target, anchor string, tags ...types.Tag) types.BundleItem {
	t.Helper()
	is, err := goar.NewItemSigner(s)
	if err != nil {
		t.Fatal(err)
	}
	it, err := is.CreateAndSignItem(data, target, anchor, tags)
	if err != nil {
		t.Fatal(err)
	}
	return it
}

func bundle(t testing.TB, items ...types.BundleItem) *types.Bundle {
	t.Helper()
	b, err := utils.NewBundle(items...)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// postBundle uploads a bundle as an L1 transaction with goar (chunks, `conc` at a time).
func (e *env) postBundle(conc int, b *types.Bundle, tags ...types.Tag) types.Transaction {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	tx, err := e.w.SendBundleTx(ctx, conc, b.BundleBinary, tags)
	if err != nil {
		e.t.Fatal(err)
	}
	if ctx.Err() != nil {
		e.t.Fatalf("upload of %s did not finish", tx.ID)
	}
	return tx
}

type httpResult struct {
	status int
	header http.Header
	body   []byte
}

func (r httpResult) json(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %q: %v", r.body, err)
	}
}

func (e *env) do(method, path, contentType string, body []byte) httpResult {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, e.url+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return httpResult{res.StatusCode, res.Header, b}
}

func (e *env) get(path string) httpResult { return e.do(http.MethodGet, path, "", nil) }

// gql posts a GraphQL request exactly as aoconnect does and decodes the whole response.
func (e *env) gql(query string, vars map[string]any, out any) httpResult {
	e.t.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		e.t.Fatal(err)
	}
	r := e.do(http.MethodPost, "/graphql", "application/json", body)
	if out != nil {
		r.json(e.t, out)
	}
	return r
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func randBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return b
}

func tag(n, v string) types.Tag { return types.Tag{Name: n, Value: v} }

func aoTags(typ string, extra ...types.Tag) []types.Tag {
	return append([]types.Tag{tag("Data-Protocol", "ao"), tag("Variant", "ao.TN.1"), tag("Type", typ)}, extra...)
}

func ids(txs []gateway.Tx) []string {
	out := make([]string, len(txs))
	for i, tx := range txs {
		out[i] = tx.ID
	}
	return out
}

func itemIDs(items ...types.BundleItem) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.Id
	}
	return out
}

func all(t testing.TB, c *gateway.Client, q gateway.TxQuery) []gateway.Tx {
	t.Helper()
	var out []gateway.Tx
	must(t, c.AllTransactions(context.Background(), q, func(tx gateway.Tx) error { out = append(out, tx); return nil }))
	return out
}

func bigOne() *big.Int { return big.NewInt(1) }
