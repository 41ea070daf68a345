package nodetest

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aonode/aonode/bundler"
)

func TestSigned(t *testing.T) {
	jwk, err := bundler.GenerateEd25519JWK()
	if err != nil {
		t.Fatal(err)
	}
	key, err := bundler.NewEd25519Key(jwk)
	if err != nil {
		t.Fatal(err)
	}
	action := bundler.Tag{Name: "Action", Value: "Eval"}
	for _, tc := range []struct {
		name, data, target string
		tags               []bundler.Tag
		want               []string // the item's tags, name=value
	}{
		{"a message", "x = 1", strings.Repeat("A", 43), []bundler.Tag{action}, []string{"Action=Eval", "Data-Protocol=ao", "Type=Message"}},
		{"a spawn", "", "", nil, []string{"Data-Protocol=ao", "Type=Process"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			it := Signed(t, key, tc.data, tc.target, tc.tags...)
			parsed, err := bundler.Parse(it.Raw)
			if err != nil {
				t.Fatalf("the item does not verify: %v", err)
			}
			var got []string
			for _, tg := range parsed.Tags {
				got = append(got, tg.Name+"="+tg.Value)
			}
			if !slices.Equal(got, tc.want) || parsed.Target != tc.target || string(parsed.Data) != tc.data || parsed.OwnerAddress() != key.Address() {
				t.Fatalf("item: tags %q target %q data %q owner %s", got, parsed.Target, parsed.Data, parsed.OwnerAddress())
			}
		})
	}
}

func TestFreeAddrCanBeListenedOn(t *testing.T) {
	addr := FreeAddr(t)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
	// Outside the range outgoing connections take their local ports from.
	_, port, _ := net.SplitHostPort(addr)
	if p, _ := strconv.Atoi(port); p < freePortFrom || p >= ephemeralLow() {
		t.Fatalf("port %d is not in [%d, %d)", p, freePortFrom, ephemeralLow())
	}
}

func TestPostAndGet(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.Method == http.MethodPost {
			w.WriteHeader(http.StatusAccepted)
		}
		io.WriteString(w, r.Method+" "+r.Header.Get("Content-Type")+" "+string(b))
	}))
	st, body, err := Post(context.Background(), srv.URL, ItemType, []byte("raw"))
	if err != nil || st != http.StatusAccepted || string(body) != "POST application/octet-stream raw" {
		t.Fatalf("post: %d %q %v", st, body, err)
	}
	if st, body := Get(t, srv.URL); st != http.StatusOK || string(body) != "GET  " {
		t.Fatalf("get: %d %q", st, body)
	}
	srv.Close()
	// A node that is down is an error, not a failed test: the crash test's writers post into kills.
	if st, _, err := Post(context.Background(), srv.URL, ItemType, nil); err == nil || st != 0 {
		t.Fatalf("post to a closed server: %d %v", st, err)
	}
}

func TestEventuallyPolls(t *testing.T) {
	calls := 0
	Eventually(t, "the third call", func() bool { calls++; return calls == 3 })
	if calls != 3 {
		t.Fatalf("%d calls", calls)
	}
}

// Start and stop a stand-in for the binary: a shell that writes node-info.json as aonode does once ready.
func TestProc(t *testing.T) {
	const info = `printf '{"module":"m","scheduler":"s","mu_address":"a"}' > "$0/node-info.json"`
	for _, tc := range []struct {
		name   string
		script string
		stop   func(p *Proc)
		within time.Duration // how soon stopping must return
	}{
		{"killed", "echo starting; " + info + "; exec sleep 60", (*Proc).Kill, 5 * time.Second},
		{"stopped by SIGTERM", info + "; exec sleep 60", func(p *Proc) { p.Stop(30 * time.Second) }, 5 * time.Second},
		{"killed when it ignores SIGTERM", "trap '' TERM; " + info + "; exec sleep 60", func(p *Proc) { p.Stop(300 * time.Millisecond) }, 5 * time.Second},
		// A previous run's node-info.json does not count: Start waits for the new one.
		{"ready late", "sleep 0.3; " + info + "; exec sleep 60", (*Proc).Kill, 5 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "node-info.json"), []byte(`{"module":"stale"}`), 0o644); err != nil {
				t.Fatal(err)
			}
			p := Start(t, "/bin/sh", dir, "-c", tc.script, dir)
			if p.Info != (Info{Module: "m", Scheduler: "s", MUAddress: "a"}) {
				t.Fatalf("info %+v", p.Info)
			}
			t0 := time.Now()
			tc.stop(p)
			if d := time.Since(t0); d > tc.within {
				t.Fatalf("stopping took %s", d)
			}
			select {
			case <-p.done:
			default:
				t.Fatal("the process is still running")
			}
			if strings.HasPrefix(tc.script, "echo") && !strings.Contains(p.Logs(), "starting") {
				t.Fatalf("logs %q", p.Logs())
			}
		})
	}
}
