package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aonode/aonode/bundler"
	"github.com/aonode/aonode/node"
	"github.com/aonode/aonode/node/config"
)

func freeAddr(b *testing.B) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// BenchmarkHTTPSigned is the full path: clients post pre-signed kv Set messages to the MU over loopback HTTP
// (the SU assigns and signs, the MU hands the reply on) and read every result from the CU, checking it. One op
// is 400 messages from 8 clients. The baseline is the CU's own evaluation rate from BenchmarkEval in the same run: the ratio
// says how much of the node's time is signatures, HTTP and storage rather than Lua.
func BenchmarkHTTPSigned(b *testing.B) {
	const clients, messages = 8, 400
	cfg := config.Default()
	cfg.DataDir = b.TempDir()
	cfg.MU.Listen, cfg.SU.Listen, cfg.CU.Listen, cfg.Gateway.Listen = freeAddr(b), freeAddr(b), freeAddr(b), freeAddr(b)
	cfg.SU.PublicURL = "http://" + cfg.SU.Listen
	cfg.Admin.Listen, cfg.Explorer.Listen = "", ""
	ctx := context.Background()
	n, err := node.Open(ctx, cfg, quiet)
	if err != nil {
		b.Fatal(err)
	}
	info, err := n.Start(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer n.Close()
	mu, cuURL := "http://"+cfg.MU.Listen, "http://"+cfg.CU.Listen
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients * 2}, Timeout: 2 * time.Minute}
	post := func(raw []byte) error {
		res, err := hc.Post(mu, "application/octet-stream", bytes.NewReader(raw))
		if err != nil {
			return err
		}
		defer res.Body.Close()
		io.Copy(io.Discard, res.Body)
		if res.StatusCode != http.StatusAccepted {
			return fmt.Errorf("post: %s", res.Status)
		}
		return nil
	}
	jwk, _ := bundler.GenerateJWK()
	user, _ := bundler.NewWallet(jwk)
	base := []bundler.Tag{{Name: "Data-Protocol", Value: "ao"}, {Name: "Variant", Value: "ao.TN.1"}}
	type client struct {
		pid  string
		msgs []*bundler.Item
	}
	per := b.N * messages / clients
	cs := make([]client, clients)
	var wg sync.WaitGroup
	var failed atomic.Value
	fail := func(err error) { failed.CompareAndSwap(nil, err) }
	// Setup, not measured: spawn a process per client, load the kv store, sign the messages.
	for i := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			spawn, _ := user.Sign(nil, "", "", append(base, bundler.Tag{Name: "Type", Value: "Process"},
				bundler.Tag{Name: "Module", Value: info.Module}, bundler.Tag{Name: "Scheduler", Value: info.Scheduler}))
			eval, _ := user.Sign([]byte(kv), spawn.ID, "", append(base, bundler.Tag{Name: "Type", Value: "Message"}, bundler.Tag{Name: "Action", Value: "Eval"}))
			for _, it := range []*bundler.Item{spawn, eval} {
				if err := post(it.Raw); err != nil {
					fail(err)
					return
				}
			}
			cs[i].pid = spawn.ID
			for k := range per {
				it, err := user.Sign(nil, spawn.ID, "", append(base, bundler.Tag{Name: "Type", Value: "Message"}, bundler.Tag{Name: "Action", Value: "Set"},
					bundler.Tag{Name: "Key", Value: "k" + strconv.Itoa(k)}, bundler.Tag{Name: "Value", Value: strconv.Itoa(k)}))
				if err != nil {
					fail(err)
					return
				}
				cs[i].msgs = append(cs[i].msgs, it)
			}
		}()
	}
	wg.Wait()
	if err, _ := failed.Load().(error); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for _, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, it := range c.msgs {
				if err := post(it.Raw); err != nil {
					fail(err)
					return
				}
			}
			for _, it := range c.msgs {
				res, err := hc.Get(fmt.Sprintf("%s/result/%s?process-id=%s", cuURL, it.ID, c.pid))
				if err != nil {
					fail(err)
					return
				}
				var r struct {
					Error    any
					Messages []struct{ Data string }
				}
				err = json.NewDecoder(res.Body).Decode(&r)
				res.Body.Close()
				if err != nil || r.Error != nil || len(r.Messages) != 1 || r.Messages[0].Data != "Value stored!" {
					fail(fmt.Errorf("result of %s: %v %+v", it.ID, err, r))
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	if err, _ := failed.Load().(error); err != nil {
		b.Fatal(err)
	}
	rate := float64(per*clients) / b.Elapsed().Seconds()
	b.ReportMetric(rate, "msg/s")
	if cuRate > 0 {
		b.ReportMetric(cuRate/rate, "cu-eval-x")
	}
}
