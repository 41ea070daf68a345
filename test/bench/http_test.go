package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/everFinance/goar"
	"github.com/everFinance/goar/types"

	"github.com/aonode/aonode/bundler"
	"github.com/aonode/aonode/internal/nodetest"
	"github.com/aonode/aonode/node"
	"github.com/aonode/aonode/node/config"
)

// rsaRate is the single-core rate of RSA-4096 item signatures (an assignment's) over n signatures, the
// baseline of the one-process HTTP figures, since an RSA node signs every assignment of a process one after
// another. It is the faster of the node's signer held to one core and the standard library's (goar's item
// signer with crypto/rsa and the key's CRT values): the node's signer computes its two CRT halves at once, and
// a baseline of either alone could flatter it.
func rsaRate(b *testing.B, n int) float64 {
	w, err := bundler.NewWallet(must(b, userJWK))
	if err != nil {
		b.Fatal(err)
	}
	return max(signRate(b, w, n), stdlibRate(b, n))
}

// stdlibRate is the single-core rate of RSA-4096 item signatures made by goar and crypto/rsa.
func stdlibRate(b *testing.B, n int) float64 {
	must(b, userJWK)
	s, err := goar.NewItemSigner(goar.NewSignerByPrivateKey(userPriv))
	if err != nil {
		b.Fatal(err)
	}
	return signRate(b, goarSigner{s}, n)
}

// goarSigner signs items through goar (crypto/rsa.SignPSS).
type goarSigner struct{ s *goar.ItemSigner }

func (g goarSigner) Sign(data []byte, target, anchor string, tags []bundler.Tag) (*bundler.Item, error) {
	gt := make([]types.Tag, len(tags))
	for i, t := range tags {
		gt[i] = types.Tag{Name: t.Name, Value: t.Value}
	}
	it, err := g.s.CreateAndSignItem(data, target, anchor, gt)
	if err != nil {
		return nil, err
	}
	return &bundler.Item{ID: it.Id, Raw: it.ItemBinary}, nil
}

// signer is what signRate times: the node's signers and goar's.
type signer interface {
	Sign([]byte, string, string, []bundler.Tag) (*bundler.Item, error)
}

// signRate is key's signing rate on one core over n assignment-like items.
func signRate(b *testing.B, key signer, n int) float64 {
	var rate float64
	oneCore(func() { rate = signs(b, key, n) })
	return rate
}

// signs is key's signing rate over n assignment-like items, one after another (as a process's assignments).
func signs(b *testing.B, key signer, n int) float64 {
	t0 := time.Now()
	for i := range n {
		if _, err := key.Sign(nil, "", "", []bundler.Tag{{Name: "Type", Value: "Assignment"}, {Name: "Nonce", Value: strconv.Itoa(i)}}); err != nil {
			b.Fatal(err)
		}
	}
	return float64(n) / time.Since(t0).Seconds()
}

// BenchmarkSignRSA is the rate of RSA-4096 data-item signatures (an assignment's) made one after another:
// "rsa4096-stdlib" on one core through goar and crypto/rsa with the key's CRT values, "rsa4096-node" with the
// node's signer on one core and on every core (its two CRT halves at once; x-stdlib is that against the
// stdlib's rate measured right after it); ed25519 beside them for scale.
func BenchmarkSignRSA(b *testing.B) {
	const sigs = 200
	w, err := bundler.NewWallet(must(b, userJWK))
	if err != nil {
		b.Fatal(err)
	}
	edKey, err := bundler.NewEd25519Key(must(b, bundler.GenerateEd25519JWK))
	if err != nil {
		b.Fatal(err)
	}
	b.Run("rsa4096-stdlib", func(b *testing.B) { b.ReportMetric(stdlibRate(b, b.N*sigs), "sig/s") })
	b.Run("rsa4096-node", func(b *testing.B) {
		one, all := signRate(b, w, b.N*sigs), signs(b, w, b.N*sigs)
		b.ReportMetric(one, "one-core-sig/s")
		b.ReportMetric(all, "sig/s")
		b.ReportMetric(all/stdlibRate(b, b.N*sigs), "x-stdlib")
	})
	b.Run("ed25519", func(b *testing.B) { b.ReportMetric(signRate(b, edKey, b.N*sigs), "sig/s") })
}

// profile writes a CPU profile of the measured part to $AONODE_BENCH_PROFILE/<benchmark>.prof when that
// directory is set (go test's -cpuprofile would include the setup's RSA signing); the returned func stops it.
func profile(b *testing.B, part string) func() {
	dir := os.Getenv("AONODE_BENCH_PROFILE")
	if dir == "" {
		return func() {}
	}
	name := strings.NewReplacer("/", "-").Replace(b.Name())
	if part != "" {
		name += "-" + part
	}
	f, err := os.Create(filepath.Join(dir, name+".prof"))
	if err != nil {
		b.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		b.Fatal(err)
	}
	runtime.SetBlockProfileRate(int(100 * time.Microsecond)) // waits of 100 µs and more, where clients wait
	return func() {
		pprof.StopCPUProfile()
		f.Close()
		runtime.SetBlockProfileRate(0)
		if bf, err := os.Create(filepath.Join(dir, name+".block.prof")); err == nil {
			pprof.Lookup("block").WriteTo(bf, 0)
			bf.Close()
		}
	}
}

// cpuTime is the user and system CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func must(b testing.TB, f func() ([]byte, error)) []byte {
	v, err := f()
	if err != nil {
		b.Fatal(err)
	}
	return v
}

// httpRun is one node and its clients: processes spawned (the kv store loaded), messages signed up front.
type httpRun struct {
	b      *testing.B
	n      *node.Node
	info   *node.Info
	mu, cu string
	hc     *http.Client
	user   bundler.Signer
	close  func() // stops the node; once
}

var base = []bundler.Tag{{Name: "Data-Protocol", Value: "ao"}, {Name: "Variant", Value: "ao.TN.1"}}

// keyCase is a node key type and the clients' key type.
type keyCase struct{ name, node, client string }

// keyCases: clients sign with RSA-4096 as aoconnect users' Arweave wallets do, so the MU (and the embedded
// gateway, on upload) verify an RSA signature per message whatever the node's key; the last case has ed25519
// clients too, to show what the RSA checks cost.
var keyCases = []keyCase{
	{"ed25519", bundler.KeyEd25519, bundler.KeyRSA},
	{"rsa", bundler.KeyRSA, bundler.KeyRSA},
	{"ed25519-clients-ed25519", bundler.KeyEd25519, bundler.KeyEd25519},
}

// startHTTP starts a node with the default config (embedded gateway, bundles, snapshots, checkpoints) whose
// node and MU keys are kc.node; its clients sign with a kc.client key.
func startHTTP(b *testing.B, kc keyCase, conns int) *httpRun {
	cfg := config.Default()
	cfg.DataDir = b.TempDir()
	cfg.Wallet.Type = kc.node
	cfg.MU.Listen, cfg.SU.Listen, cfg.CU.Listen, cfg.Gateway.Listen = nodetest.FreeAddr(b), nodetest.FreeAddr(b), nodetest.FreeAddr(b), nodetest.FreeAddr(b)
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
	closeNode := sync.OnceFunc(func() { n.Close() })
	b.Cleanup(closeNode)
	return &httpRun{
		b: b, n: n, info: info, close: closeNode, mu: "http://" + cfg.MU.Listen, cu: "http://" + cfg.CU.Listen, user: clientKey(b, kc.client),
		hc: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conns * 2}, Timeout: 5 * time.Minute},
	}
}

// clientKey is the clients' key of the given type.
func clientKey(b *testing.B, keyType string) bundler.Signer {
	if keyType == bundler.KeyEd25519 {
		k, err := bundler.NewEd25519Key(must(b, bundler.GenerateEd25519JWK))
		if err != nil {
			b.Fatal(err)
		}
		return k
	}
	w, err := bundler.NewWallet(must(b, userJWK))
	if err != nil {
		b.Fatal(err)
	}
	return w
}

var (
	userOnce sync.Once
	userKey  []byte
	userPriv *rsa.PrivateKey
)

// userJWK is one RSA-4096 client key for every run: key generation is not what is measured.
func userJWK() ([]byte, error) {
	var err error
	userOnce.Do(func() {
		if userPriv, err = rsa.GenerateKey(rand.Reader, 4096); err == nil {
			userKey, err = bundler.MarshalJWK(userPriv)
		}
	})
	return userKey, err
}

func (r *httpRun) post(raw []byte) error {
	res, err := r.hc.Post(r.mu, "application/octet-stream", bytes.NewReader(raw))
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

// cranked waits until the MU has cranked n results since the node started.
func (r *httpRun) cranked(n int64) {
	deadline := time.Now().Add(5 * time.Minute)
	for r.n.MU.Stats().Cranked < n {
		if time.Now().After(deadline) {
			r.b.Fatalf("the MU cranked %d results of %d in 5 minutes", r.n.MU.Stats().Cranked, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// spawns numbers the spawns' anchors: aoconnect gives every spawn a fresh anchor, and without one the spawns of
// an ed25519 client would all be the same item (its signatures are deterministic), one process, not many.
var spawns atomic.Int64

// spawn creates a process running the kv store and waits for the Eval's result.
func (r *httpRun) spawn() string {
	anchor := fmt.Sprintf("%032d", spawns.Add(1))
	spawn, _ := r.user.Sign(nil, "", anchor, append(slices.Clone(base), bundler.Tag{Name: "Type", Value: "Process"},
		bundler.Tag{Name: "Module", Value: r.info.Module}, bundler.Tag{Name: "Scheduler", Value: r.info.Scheduler}))
	eval, _ := r.user.Sign([]byte(kv), spawn.ID, "", append(slices.Clone(base), bundler.Tag{Name: "Type", Value: "Message"}, bundler.Tag{Name: "Action", Value: "Eval"}))
	for _, it := range []*bundler.Item{spawn, eval} {
		if err := r.post(it.Raw); err != nil {
			r.b.Fatal(err)
		}
	}
	if err := r.check(spawn.ID, eval.ID, ""); err != nil {
		r.b.Fatal(err)
	}
	return spawn.ID
}

// set signs a kv Set message for pid.
func (r *httpRun) set(pid string, k int) *bundler.Item { return r.store(pid, k, "Set") }

// store signs a kv message for pid: Set (stored, with a reply) or Put (stored, no reply).
func (r *httpRun) store(pid string, k int, action string) *bundler.Item {
	it, err := r.user.Sign(nil, pid, "", append(slices.Clone(base), bundler.Tag{Name: "Type", Value: "Message"}, bundler.Tag{Name: "Action", Value: action},
		bundler.Tag{Name: "Key", Value: "k" + strconv.Itoa(k)}, bundler.Tag{Name: "Value", Value: strconv.Itoa(k)}))
	if err != nil {
		r.b.Fatal(err)
	}
	return it
}

// noReply is the want of check for a result that must have no messages.
const noReply = "\x00no reply"

// check reads a message's result from the CU; want is the one reply's Data ("": no check of the messages;
// noReply: none).
func (r *httpRun) check(pid, id, want string) error {
	res, err := r.hc.Get(fmt.Sprintf("%s/result/%s?process-id=%s", r.cu, id, pid))
	if err != nil {
		return err
	}
	var out struct {
		Error    any
		Messages []struct{ Data string }
	}
	err = json.NewDecoder(res.Body).Decode(&out)
	res.Body.Close()
	bad := want == noReply && len(out.Messages) != 0 || want != "" && want != noReply && (len(out.Messages) != 1 || out.Messages[0].Data != want)
	if err != nil || out.Error != nil || bad {
		return fmt.Errorf("result of %s: %v %+v", id, err, out)
	}
	return nil
}

// throughput has `clients` clients post pre-signed kv Set messages to `procs` processes (client i to process
// i % procs) over loopback HTTP, each posting its messages in turn and then reading and checking every result.
// It reports msg/s from the first post to the last result, and cranked-msg/s from the first post to the moment
// the MU has cranked every result (read it and signed and stored its reply): the rate the node can keep up.
// With action "Put" the messages are stored without a reply: the node signs only their assignments.
func throughput(b *testing.B, kc keyCase, action string, clients, procs, perClient int) (rate, crankRate, signRate float64) {
	want := map[string]string{"Set": "Value stored!", "Put": noReply}[action]
	r := startHTTP(b, kc, clients)
	pids := make([]string, procs)
	for i := range pids {
		pids[i] = r.spawn()
	}
	// Setup, not measured: sign every message (RSA-4096, on every core).
	msgs := make([][]*bundler.Item, clients)
	var wg sync.WaitGroup
	for i := range msgs {
		wg.Go(func() {
			for k := range b.N * perClient {
				msgs[i] = append(msgs[i], r.store(pids[i%procs], i*1_000_000+k, action))
			}
		})
	}
	wg.Wait()
	// The baseline, measured right before the measured part and again right after it (the mean of the two):
	// the host's speed changes within a run, and the ratio to a rate taken minutes earlier would say more about
	// that than about the node; one 100-signature sample alone moved the ratio by ±4%.
	// The crank of the setup's messages (spawn and Eval of each process) is done before the clock starts.
	r.cranked(int64(2 * procs))
	before := rsaRate(b, 100)
	var failed atomic.Value
	fail := func(err error) { failed.CompareAndSwap(nil, err) }
	b.ResetTimer()
	stop := profile(b, "")
	t0, cpu0 := time.Now(), cpuTime()
	for i, ms := range msgs {
		wg.Go(func() {
			for _, it := range ms {
				if err := r.post(it.Raw); err != nil {
					fail(err)
					return
				}
			}
			for _, it := range ms {
				if err := r.check(pids[i%procs], it.ID, want); err != nil {
					fail(err)
					return
				}
			}
		})
	}
	wg.Wait()
	took := time.Since(t0)
	// The MU has yet to crank what is left: read each result and sign its reply (a message to the client's
	// wallet, stored and uploaded). A node that did not keep up would pile those up under a steady load, so the
	// time until it has caught up is measured too.
	total := float64(b.N * clients * perClient)
	r.cranked(int64(2*procs) + int64(total))
	drained, cpu := time.Since(t0), cpuTime()-cpu0
	b.StopTimer()
	stop()
	r.close() // its backlog (outbox pushes, uploads) would share the core with the second sample
	signRate = (before + rsaRate(b, 100)) / 2
	if err, _ := failed.Load().(error); err != nil {
		b.Fatal(err)
	}
	rate = total / took.Seconds()
	b.ReportMetric(rate, "msg/s")
	crankRate = total / drained.Seconds()
	b.ReportMetric(crankRate, "cranked-msg/s")
	// CPU time per message until the MU caught up (node and clients, this process): on a shared machine msg/s
	// depends on what else runs; this does much less.
	b.ReportMetric(float64(cpu.Microseconds())/1000/total, "cpu-ms/msg")
	return rate, crankRate, signRate
}

// BenchmarkHTTPOneProcess: one process, 16 concurrent clients, signed messages over HTTP, every result read and
// checked (one op: 1,600 messages). The baseline is the single-core RSA-4096 signing rate measured right
// before and after the op (rsa-sig/s): an RSA node signs a process's assignments one after another (each
// names the previous one's id), so a node signing on one core could not schedule faster; an ed25519 node is
// not bound by it. Each kv Set costs an RSA node two signatures (the assignment, and the reply the MU
// pushes); "rsa-no-replies" sends kv Puts, which have no reply, so the node signs their assignments only and
// the rate is the assignment chain's own.
func BenchmarkHTTPOneProcess(b *testing.B) {
	run := func(b *testing.B, kc keyCase, action string) {
		rate, crankRate, signRate := throughput(b, kc, action, 16, 1, 100)
		b.ReportMetric(signRate, "rsa-sig/s")
		b.ReportMetric(rate/signRate, "x-rsa-sign")
		b.ReportMetric(crankRate/signRate, "x-rsa-sign-cranked")
	}
	for _, kc := range keyCases {
		b.Run(kc.name, func(b *testing.B) { run(b, kc, "Set") })
	}
	b.Run("rsa-no-replies", func(b *testing.B) { run(b, keyCases[1], "Put") })
}

// BenchmarkHTTPManyProcesses: 50 clients, a process each, signed messages over HTTP, every result read and
// checked (one op: 2,000 messages); the CU's one-core evaluation rate (BenchmarkEval/cu) is the baseline when
// it ran.
func BenchmarkHTTPManyProcesses(b *testing.B) {
	for _, kc := range keyCases {
		b.Run(kc.name, func(b *testing.B) {
			rate, _, _ := throughput(b, kc, "Set", 50, 50, 40)
			if cuRate > 0 {
				b.ReportMetric(rate/cuRate, "x-cu-eval")
			}
		})
	}
}

// BenchmarkLatency is one message to its result on an idle node, as aoconnect does it: POST the signed message
// to the MU, then GET its result from the CU; one op is 200 such round trips in turn, reported as p50 and p99.
func BenchmarkLatency(b *testing.B) {
	const rounds = 200
	for _, kc := range keyCases[:2] {
		b.Run(kc.name, func(b *testing.B) {
			r := startHTTP(b, kc, 1)
			pid := r.spawn()
			msgs := make([]*bundler.Item, b.N*rounds)
			for i := range msgs {
				msgs[i] = r.set(pid, i)
			}
			lat := make([]time.Duration, 0, len(msgs))
			b.ResetTimer()
			for _, it := range msgs {
				t0 := time.Now()
				if err := r.post(it.Raw); err != nil {
					b.Fatal(err)
				}
				if err := r.check(pid, it.ID, "Value stored!"); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t0))
			}
			b.StopTimer()
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}
