package bundler

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aonode/aonode/gateway/embedded"
	"github.com/everFinance/goar/types"
	"github.com/everFinance/goar/utils"
)

// gwSubmitter is the node's adapter, in short: an embedded gateway as a TxSubmitter.
type gwSubmitter struct{ g *embedded.Gateway }

func (s gwSubmitter) Anchor(context.Context) (string, error) { return s.g.Anchor() }
func (s gwSubmitter) Price(_ context.Context, size int) (int64, error) {
	return s.g.Price(int64(size)).Int64(), nil
}
func (s gwSubmitter) Submit(ctx context.Context, tx *types.Transaction, data []byte, trusted bool) (bool, error) {
	return s.g.Submit(ctx, tx, data, embedded.SubmitOptions{TrustedItems: trusted})
}
func (s gwSubmitter) Status(_ context.Context, id string) (Status, error) {
	st, err := s.g.TxStatus(id)
	switch {
	case err != nil:
		return Status{}, err
	case !st.Known:
		return Status{State: StateUnknown}, nil
	case st.BlockID == "":
		return Status{State: StatePending}, nil
	}
	return Status{State: StateConfirmed, Height: st.Height}, nil
}

func openGateway(t *testing.T, o embedded.Options) (*embedded.Gateway, string) {
	t.Helper()
	o.NoSync, o.Logger = true, discardLogger()
	g, err := embedded.Open(filepath.Join(t.TempDir(), "gw.db"), o)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(g.Handler())
	t.Cleanup(func() { srv.Close(); g.Close() })
	return g, srv.URL
}

func getBody(t *testing.T, url string) []byte {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", url, res.StatusCode, b)
	}
	return b
}

// TestLocalPosterMatchesL1Poster: the same items posted in process and over HTTP give the same bundle and
// the same transaction but for its signature (RSA-PSS is salted) and anchor (each gateway's newest block).
func TestLocalPosterMatchesL1Poster(t *testing.T) {
	big, err := wallet(t).Sign(bytes.Repeat([]byte("x"), 300<<10), "", "", []Tag{{"Data-Protocol", "ao"}, {"Run", "big"}})
	if err != nil {
		t.Fatal(err)
	}
	raws := append(signTestItems(t, 3, "local"), big.Raw)
	_, urlHTTP := openGateway(t, embedded.Options{})
	gLocal, urlLocal := openGateway(t, embedded.Options{})

	l1, err := NewL1Poster(wallet(t), urlHTTP, L1Options{Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	refHTTP, err := l1.Post(context.Background(), raws)
	if err != nil {
		t.Fatal(err)
	}
	lp, err := NewLocalPoster(wallet(t), gwSubmitter{gLocal}, LocalOptions{TrustItems: true, Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	refLocal, err := lp.Post(context.Background(), raws)
	if err != nil {
		t.Fatal(err)
	}
	if st := gLocal.Stats(); st.Chunks != 0 || st.Submits != 1 {
		t.Errorf("local post reached the gateway as %+v, want one Submit and no chunks", st)
	}

	tx := func(url, ref string) map[string]any {
		var m map[string]any
		if err := json.Unmarshal(getBody(t, url+"/tx/"+ref), &m); err != nil {
			t.Fatal(err)
		}
		var genesis struct {
			ID string `json:"indep_hash"`
		}
		json.Unmarshal(getBody(t, url+"/block/height/0"), &genesis)
		if m["last_tx"] != genesis.ID || m["id"] != ref {
			t.Errorf("tx %s: last_tx %v, want the gateway's anchor %s", ref, m["last_tx"], genesis.ID)
		}
		delete(m, "id")
		delete(m, "signature")
		delete(m, "last_tx")
		return m
	}
	h, l := tx(urlHTTP, refHTTP), tx(urlLocal, refLocal)
	hj, _ := json.Marshal(h)
	lj, _ := json.Marshal(l)
	if !bytes.Equal(hj, lj) {
		t.Errorf("transactions differ:\n  http %s\n local %s", hj, lj)
	}
	if !strings.Contains(string(lj), utils.Base64Encode([]byte("Bundler"))) {
		t.Errorf("no Bundler tag: %s", lj)
	}
	if !bytes.Equal(getBody(t, urlHTTP+"/raw/"+refHTTP), getBody(t, urlLocal+"/raw/"+refLocal)) {
		t.Error("bundles differ")
	}
	for _, raw := range raws {
		id := parsedID(t, raw)
		if !bytes.Equal(getBody(t, urlHTTP+"/raw/"+id), getBody(t, urlLocal+"/raw/"+id)) {
			t.Errorf("item %s differs", id)
		}
	}
}

func TestLocalPosterConfirm(t *testing.T) {
	g, _ := openGateway(t, embedded.Options{ManualMine: true})
	lp, err := NewLocalPoster(wallet(t), gwSubmitter{g}, LocalOptions{Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	raws := signTestItems(t, 2, "confirm")
	ref, err := lp.Post(context.Background(), raws)
	if err != nil {
		t.Fatal(err)
	}
	check := func(id string, want Status) {
		t.Helper()
		if got, err := lp.Confirm(context.Background(), id); err != nil || got != want {
			t.Errorf("Confirm(%s) = %+v, %v; want %+v", id, got, err, want)
		}
	}
	check(ref, Status{State: StatePending})
	if err := g.Mine(2); err != nil {
		t.Fatal(err)
	}
	check(ref, Status{State: StateConfirmed, Height: 1})
	check(utils.Base64Encode(bytes.Repeat([]byte{7}, 32)), Status{State: StateUnknown})
	check(parsedID(t, raws[0]), Status{State: StateUnknown}) // an item is no L1 transaction
}

// fakeSubmitter records what it was given and fails when told to.
type fakeSubmitter struct {
	trusted []bool
	err     error
}

func (f *fakeSubmitter) Anchor(context.Context) (string, error)         { return "", nil }
func (f *fakeSubmitter) Price(context.Context, int) (int64, error)      { return 1, nil }
func (f *fakeSubmitter) Status(context.Context, string) (Status, error) { return Status{}, f.err }
func (f *fakeSubmitter) Submit(_ context.Context, _ *types.Transaction, _ []byte, trusted bool) (bool, error) {
	f.trusted = append(f.trusted, trusted)
	return false, f.err
}

func TestLocalPosterOptionsAndErrors(t *testing.T) {
	raws := signTestItems(t, 1, "fake")
	for _, trust := range []bool{false, true} {
		f := &fakeSubmitter{}
		lp, err := NewLocalPoster(wallet(t), f, LocalOptions{TrustItems: trust})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := lp.Post(context.Background(), raws); err != nil {
			t.Fatal(err)
		}
		if len(f.trusted) != 1 || f.trusted[0] != trust {
			t.Errorf("TrustItems %v: gateway told %v", trust, f.trusted)
		}
	}
	f := &fakeSubmitter{err: errors.New("disk full")}
	lp, _ := NewLocalPoster(wallet(t), f, LocalOptions{})
	if _, err := lp.Post(context.Background(), raws); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("Post with a failing gateway: %v", err)
	}
	if _, err := lp.Post(context.Background(), nil); err == nil || !strings.Contains(err.Error(), "no items") {
		t.Errorf("Post of nothing: %v", err)
	}
	if _, err := lp.Post(context.Background(), [][]byte{[]byte("not an item")}); !errors.Is(err, ErrInvalidItem) {
		t.Errorf("Post of garbage: %v", err)
	}
	if _, err := lp.Confirm(context.Background(), "x"); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("Confirm with a failing gateway: %v", err)
	}
	if _, err := NewLocalPoster(wallet(t), nil, LocalOptions{}); err == nil {
		t.Error("NewLocalPoster without a gateway")
	}
}
