// Package node wires the units into one aonode: storage, wallet, gateway, SU, CU, MU, the bundler and
// their HTTP listeners.
package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/aonode/aonode/bundler"
	"github.com/aonode/aonode/cache"
	"github.com/aonode/aonode/gateway"
	"github.com/aonode/aonode/gateway/embedded"
	"github.com/aonode/aonode/internal/luavm"
	"github.com/aonode/aonode/node/config"
	"github.com/aonode/aonode/node/cu"
	"github.com/aonode/aonode/node/explorer"
	"github.com/aonode/aonode/node/follow"
	"github.com/aonode/aonode/node/httpx"
	"github.com/aonode/aonode/node/metrics"
	"github.com/aonode/aonode/node/mu"
	"github.com/aonode/aonode/node/progress"
	"github.com/aonode/aonode/node/recovery"
	"github.com/aonode/aonode/node/runtime"
	"github.com/aonode/aonode/node/store"
	"github.com/aonode/aonode/node/su"
)

// Node is a running aonode.
type Node struct {
	cfg    config.Config
	log    *slog.Logger
	Wallet bundler.Signer  // the SU's (and the CU's checkpoints', the node's records)
	MUKey  bundler.Signer  // the MU's: signs what it pushes
	L1     *bundler.Wallet // signs and pays for bundle transactions: Wallet when it is RSA

	DB      *store.DB
	GW      *embedded.Gateway // nil unless embedded
	Gateway *gateway.Client
	SU      *su.Service
	CU      *cu.Service
	MU      *mu.Service
	Worker  *bundler.Worker
	Restore *recovery.Recoverer
	Follow  *follow.Follower // nil unless cu.recover: keeps copies of other SUs' schedules up to date
	Metrics *metrics.Metrics
	Cache   cache.Cache
	// Progress follows long work (recoveries, processes rebuilt by the CU) for the terminal, the log and the
	// explorer.
	Progress *progress.Tracker
	Explorer *explorer.Explorer

	recMu     sync.Mutex
	recRun    sync.Mutex
	recFailed map[string]recFailure // processes the gateway could not give back lately

	ModuleID string
	started  []service   // what Start started, stopped in reverse by Close
	ready    atomic.Bool // false until Start finished and again once Close began
}

// Info is what a client needs to use the node.
type Info struct {
	Module    string `json:"module"`
	Scheduler string `json:"scheduler"`
	// MUAddress is the MU wallet's address: a spawn naming it in an Authority tag trusts this deployment's MUs
	// (aonode's SU also names it on every spawn's assignment, see README "Running several nodes").
	MUAddress  string `json:"mu_address"`
	MU         string `json:"mu_url"`
	CU         string `json:"cu_url"`
	SU         string `json:"su_url"`
	Gateway    string `json:"gateway_url"`
	Explorer   string `json:"explorer_url,omitempty"` // "" when the explorer is off
	WalletPath string `json:"wallet"`
}

// l1Wallet is the RSA wallet for L1 bundle transactions: the node key itself when it is RSA; otherwise
// wallet.l1, loaded or created only when bundles are posted (upload.mode bundle).
func l1Wallet(cfg config.Config, w bundler.Signer, log *slog.Logger) (*bundler.Wallet, error) {
	if rw, ok := w.(*bundler.Wallet); ok {
		return rw, nil
	}
	if cfg.Upload.Mode != "bundle" {
		return nil, nil
	}
	rw, created, err := bundler.LoadOrCreateWallet(cfg.Wallet.L1)
	if err != nil {
		return nil, fmt.Errorf("l1 wallet (wallet.l1, pays for bundle transactions): %w", err)
	}
	log.Info("l1 wallet", "address", rw.Address(), "path", cfg.Wallet.L1, "created", created)
	return rw, nil
}

// Open builds a node from cfg without listening yet.
func Open(ctx context.Context, cfg config.Config, log *slog.Logger) (*Node, error) {
	if err := cfg.Finish(); err != nil {
		return nil, err
	}
	if err := luavm.Check(); err != nil {
		// Every process runtime reaches into gopher-lua's internals: a build whose layout differs must not
		// run processes at all, rather than run them differently.
		log.Warn("gopher-lua's internals are not the ones aonode was written against", "err", err)
		return nil, fmt.Errorf("this build cannot run processes: gopher-lua layout check: %w", err)
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	w, created, err := bundler.LoadOrCreateSigner(cfg.Wallet.Path, cfg.Wallet.Type)
	if err != nil {
		return nil, err
	}
	log.Info("wallet", "address", w.Address(), "type", cfg.Wallet.Type, "path", cfg.Wallet.Path, "created", created)
	muw, created, err := bundler.LoadOrCreateSigner(cfg.MU.Wallet, cfg.Wallet.Type)
	if err != nil {
		return nil, fmt.Errorf("mu wallet: %w", err)
	}
	log.Info("mu wallet", "address", muw.Address(), "type", cfg.Wallet.Type, "path", cfg.MU.Wallet, "created", created)
	if rw, ok := muw.(*bundler.Wallet); ok {
		muw = rw.InTurn() // the SU's assignment chains get the second core (Wallet.InTurn)
	}
	l1, err := l1Wallet(cfg, w, log)
	if err != nil {
		return nil, err
	}
	db, err := store.Open(filepath.Join(cfg.DataDir, "aonode.db"))
	if err != nil {
		return nil, err
	}
	n := &Node{cfg: cfg, log: log, Wallet: w, MUKey: muw, L1: l1, DB: db, Progress: progress.New()}
	if cfg.Gateway.Embedded {
		n.GW, err = embedded.Open(filepath.Join(cfg.DataDir, "gateway.db"), embedded.Options{Logger: log.With("unit", "gateway")})
		if err != nil {
			db.Close()
			return nil, err
		}
	}
	if cfg.CU.Cache == "redis" {
		n.Cache, err = cache.NewRedis(ctx, cache.RedisOptions{URL: cfg.CU.RedisURL, Prefix: cfg.CU.RedisPrefix})
	} else {
		n.Cache, err = cache.NewMemory(cfg.CU.CacheSize)
	}
	if err != nil {
		if n.GW != nil {
			n.GW.Close()
		}
		db.Close()
		return nil, err
	}
	n.Gateway = gateway.NewClient(cfg.Gateway.URL, gateway.WithTimeout(cfg.Gateway.Timeout))
	items := &chainItems{gw: n.Gateway, db: db}
	// The units are built once from their configs. The SU checks spawns' modules with the CU and wakes the
	// MU's crank, both built after it: it calls them through the node only once serving.
	n.SU = su.New(su.Config{
		Signer: w, Store: db, Heights: &heights{gw: n.Gateway, db: db, ttl: 5 * time.Second}, Txs: items,
		Log: log.With("unit", "su"), SpawnAuthority: muw.Address(),
		ModuleCheck: func(ctx context.Context, id string) error { return moduleCheck(items, n.CU)(ctx, id) },
		OnScheduled: func() { n.MU.Wake() },
	})
	n.Restore = recovery.New(n.Gateway, db, log.With("unit", "recovery"), n.Progress)
	n.recFailed = map[string]recFailure{}
	rem := newRemote(n.Gateway, w.Address(), cfg.SU.PublicURL)
	cuc := cu.Config{
		Signer: w, Scheduler: n.SU, Modules: items, Store: db, Log: log.With("unit", "cu"), Cache: n.Cache,
		Limits:    runtime.Limits{Compute: cfg.CU.ComputeLimit, Memory: cfg.CU.MemoryLimit},
		Snapshots: snapshotOptions(cfg.CU), Checkpoints: gatewayCheckpoints{gw: n.Gateway, rec: n.Restore},
		MaxLoaded: cfg.CU.MaxLoaded, MaxDryRuns: cfg.CU.MaxDryRuns, Progress: n.Progress,
	}
	if cfg.CU.Recover {
		// Processes other SUs schedule are read from their SU and followed as they grow; the gateway is the
		// fallback for a process whose SU cannot be reached.
		n.Follow = follow.New(db, rem, n.Restore, w.Address(), follow.Options{
			MinInterval: cfg.CU.FollowInterval, Log: log.With("unit", "follow"),
		})
		cuc.Follower, cuc.IsOwnProcess = n.Follow, func(err error) bool { return errors.Is(err, follow.ErrNotFollowed) }
		cuc.Recoverer = n.autoRecover
	}
	n.CU = cu.New(cuc)
	if cfg.SU.Listen != "" {
		n.CU.HandOff() // the MU cranks every message this SU schedules: it takes their results as evaluated
	}
	n.MU = mu.New(muw, n.SU, cuReader{n.CU}, rem, db, log.With("unit", "mu"), mu.Options{
		Lifetime: cfg.MU.PushLifetime, RetryMax: cfg.MU.PushMaxBackoff, NoSU: cfg.SU.Listen == "",
	})
	var poster bundler.Poster
	var confirmer bundler.Confirmer
	maxItems := cfg.Upload.MaxItems
	if cfg.Upload.Mode == "bundler" {
		ip, err := bundler.NewItemPoster(cfg.Upload.BundlerURL, bundler.ItemOptions{Timeout: cfg.Gateway.Timeout, Logger: log.With("unit", "bundler")})
		if err != nil {
			n.Close()
			return nil, err
		}
		// One item per post: the bundler answers per item, so each queue row gets its own receipt.
		poster, confirmer, maxItems = ip, itemConfirmer{n.Gateway}, 1
	} else if n.GW != nil && urlIsEmbedded(cfg.Gateway) {
		// The gateway runs in this process: bundles go to it directly, not as HTTP chunks it reassembles, and
		// it does not verify their items again (each was verified by the MU or signed by this node before it
		// was queued).
		lp, err := bundler.NewLocalPoster(l1, embeddedSubmitter{n.GW}, bundler.LocalOptions{
			TrustItems: true, Logger: log.With("unit", "bundler"),
		})
		if err != nil {
			n.Close()
			return nil, err
		}
		poster, confirmer = lp, lp
	} else {
		lp, err := bundler.NewL1Poster(l1, cfg.Gateway.URL, bundler.L1Options{
			Concurrency: cfg.Upload.Concurrency, Arlocal: cfg.Gateway.Arlocal, Logger: log.With("unit", "bundler"),
		})
		if err != nil {
			n.Close()
			return nil, err
		}
		poster, confirmer = lp, lp
	}
	if n.Explorer, err = n.newExplorer(); err != nil {
		n.Close()
		return nil, err
	}
	n.Metrics = metrics.New(db.UploadCounts)
	cuCounters(n.Metrics, n.CU)
	if err := runtimeGauges(n.Metrics, n.CU); err != nil {
		n.Close()
		return nil, err
	}
	muMetrics(n.Metrics, n.MU, db)
	n.Worker = bundler.NewWorker(queue{db}, poster, bundler.WorkerOptions{
		MaxItems: maxItems, MaxBytes: cfg.Upload.MaxBytes, MaxAge: cfg.Upload.MaxAge, Interval: cfg.Upload.Interval,
		MaxDelay: cfg.Upload.MaxBackoff, ConfirmInterval: cfg.Upload.ConfirmInterval, RepostAfter: cfg.Upload.RepostAfter,
		Confirmer: confirmer, Metrics: n.Metrics, Logger: log.With("unit", "bundler"),
	})
	return n, nil
}

type cuReader struct{ c *cu.Service }

func (r cuReader) Result(ctx context.Context, pid, id string) (*runtime.Result, *su.Scheduled, error) {
	return r.c.Evaluated(ctx, pid, id)
}

func (r cuReader) Crons(ctx context.Context, pid string, after, until int64) ([]cu.CronResult, error) {
	return r.c.Crons(ctx, pid, after, until)
}

// listener builds the HTTP service of one unit on addr (nil when addr is "": the unit is off).
func (n *Node) listener(name, addr string, h http.Handler) *listener {
	if addr == "" {
		return nil
	}
	hc := n.cfg.HTTP
	return &listener{
		addr: addr, h: h, perIP: hc.MaxConnsPerIP, log: n.log.With("unit", name),
		opts: httpx.ServerOptions{
			ReadHeaderTimeout: hc.ReadHeaderTimeout, BodyTimeout: hc.BodyTimeout, WriteTimeout: hc.WriteTimeout,
			IdleTimeout: hc.IdleTimeout, MaxHeaderBytes: hc.MaxHeaderBytes,
		},
	}
}

// engine is a unit's router: panics become 500s, browsers may call it, and it counts into /metrics.
func (n *Node) engine(unit string) *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	// Handlers pass the gin context on as their context: with the fallback its Done and Err are the
	// request's, so a client that goes away cancels the work done for it (store and gateway calls, the
	// evaluation between messages).
	r.ContextWithFallback = true
	// Every response carries X-Request-Id; a 500 answers only "internal error" and that id, the details are
	// logged under it (httpx.Fail), panics included.
	r.Use(httpx.RequestID(), httpx.Recovery(n.log.With("unit", unit)), cors, n.Metrics.Middleware(unit))
	// Liveness: the process answers. Readiness: started, not draining, and the store answers.
	r.GET("/healthz", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok", "unit": unit}) })
	r.GET("/readyz", func(c *gin.Context) {
		if !n.ready.Load() {
			httpx.Error(c, http.StatusServiceUnavailable, "not ready: starting or shutting down")
			return
		}
		if err := n.DB.Ping(c); err != nil {
			httpx.Error(c, http.StatusServiceUnavailable, "not ready: store: "+err.Error())
			return
		}
		c.JSON(http.StatusOK, gin.H{"status": "ready", "unit": unit})
	})
	// Clients get JSON errors everywhere, unknown routes included.
	r.HandleMethodNotAllowed = true
	r.NoRoute(func(c *gin.Context) {
		httpx.Error(c, http.StatusNotFound, "no route "+c.Request.Method+" "+c.Request.URL.Path)
	})
	r.NoMethod(func(c *gin.Context) {
		httpx.Error(c, http.StatusMethodNotAllowed, "method "+c.Request.Method+" not allowed on "+c.Request.URL.Path)
	})
	return r
}

// cors lets browser clients (aoconnect in a page) call the units, as the reference units allow.
func cors(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS")
	h.Set("Access-Control-Allow-Headers", "Content-Type, Accept, X-Request-Id")
	h.Set("Access-Control-Expose-Headers", "X-Request-Id, Retry-After")
	if c.Request.Method == http.MethodOptions {
		c.AbortWithStatus(http.StatusNoContent)
	}
}

// Start publishes the module and scheduler records and starts the node's services in order: the embedded
// gateway, the upload worker, the CU, the MU's crank and monitors, arlocal's miner, the warm-up, and last the
// units' listeners, so no client arrives before what serves it runs. Close stops them in reverse. Start
// returns once the node can serve clients; when a service fails to start, those already started are
// stopped again.
func (n *Node) Start(ctx context.Context) (*Info, error) {
	if n.started != nil {
		return nil, errors.New("node already started")
	}
	var early []service // what publishing needs: the embedded gateway must answer the worker's flush
	if n.GW != nil {
		early = append(early, service{"gateway", n.listener("gateway", n.cfg.Gateway.Listen, n.GW.Handler())})
	}
	started, err := startAll(ctx, n.log, early)
	if err != nil {
		return nil, err
	}
	n.started = started
	modID, err := n.publish(ctx)
	if err == nil {
		// The records must be on the gateway before a client can spawn (aoconnect looks the module up there).
		if ferr := n.Worker.Flush(ctx); ferr != nil {
			if n.GW != nil {
				err = fmt.Errorf("publish records to the embedded gateway: %w", ferr)
			} else {
				n.log.Warn("gateway not reachable; records stay queued and are retried", "err", ferr)
			}
		}
	}
	if err != nil {
		n.stopServices()
		return nil, err
	}
	n.ModuleID = modID
	gw := n.cfg.Gateway.URL
	if n.GW != nil {
		gw = "http://localhost" + portOf(n.cfg.Gateway.Listen)
	}
	info := &Info{
		Module: modID, Scheduler: n.SU.Address(), MUAddress: n.MU.Address(), SU: n.cfg.SU.PublicURL, Gateway: gw, WalletPath: n.cfg.Wallet.Path,
		MU: "http://localhost" + portOf(n.cfg.MU.Listen), CU: "http://localhost" + portOf(n.cfg.CU.Listen),
	}
	if n.cfg.Explorer.Listen != "" {
		info.Explorer = "http://localhost" + portOf(n.cfg.Explorer.Listen)
	}
	rest, err := startAll(ctx, n.log, n.services(info))
	if err != nil {
		n.stopServices()
		return nil, err
	}
	n.started = append(n.started, rest...)
	n.ready.Store(true)
	return info, nil
}

// services are the node's services after the gateway, in start order.
func (n *Node) services(info *Info) []service {
	crankCtx, crankStop := context.WithCancel(context.Background())
	svcs := []service{
		{"bundler", newRoutine(n.Worker.Run)},
		// The CU first stops what it runs in the background, then snapshots every process evaluated since its
		// last snapshot, so the next start replays nothing.
		{"cu", funcs{stop: n.CU.Close}},
		{"mu crank", funcs{
			start: func(context.Context) error { n.MU.Start(crankCtx); return nil },
			stop: func(ctx context.Context) error {
				crankStop()
				return waitDone(ctx, n.MU.Wait)
			},
		}},
		{"mu monitors", newRoutine(func(ctx context.Context) { n.MU.RunMonitors(ctx, n.cfg.MU.MonitorInterval) })},
	}
	if n.cfg.Gateway.Arlocal && n.cfg.Gateway.AutoMine > 0 {
		svcs = append(svcs, service{"automine", newRoutine(func(ctx context.Context) {
			autoMine(ctx, n.cfg.Gateway.URL, n.cfg.Gateway.AutoMine, n.log.With("unit", "automine"))
		})})
	}
	svcs = append(svcs, service{"warm-up", newRoutine(func(ctx context.Context) {
		if pids, err := n.DB.ListProcesses(ctx); err == nil && len(pids) > 0 {
			n.CU.Warm(ctx, pids)
		}
	})})
	suR, cuR, muR := n.engine("su"), n.engine("cu"), n.engine("mu")
	n.SU.Routes(suR, n.cfg.MaxItemSize)
	n.CU.Routes(cuR, n.cfg.MaxItemSize)
	n.MU.Routes(muR, n.cfg.MaxItemSize)
	for _, u := range []struct {
		name, addr string
		h          http.Handler
	}{
		{"su", n.cfg.SU.Listen, suR}, {"cu", n.cfg.CU.Listen, cuR}, {"mu", n.cfg.MU.Listen, muR},
		{"admin", n.cfg.Admin.Listen, n.adminRouter()}, {"explorer", n.cfg.Explorer.Listen, nil},
	} {
		if u.addr == "" {
			continue // the unit is off
		}
		if u.name == "explorer" {
			u.h = n.explorerRouter(info)
		}
		svcs = append(svcs, service{u.name + " listener", n.listener(u.name, u.addr, u.h)})
	}
	return svcs
}

// waitDone runs wait and returns when it did, or when ctx ends first.
func waitDone(ctx context.Context, wait func()) error {
	done := make(chan struct{})
	go func() { wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// stopServices stops what Start started, in reverse order.
func (n *Node) stopServices() error {
	err := stopAll(context.Background(), n.log, n.started)
	n.started = nil
	return err
}

func portOf(addr string) string {
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	return ":" + p
}

// publish makes sure this node's AOS module and Scheduler-Location records exist (signed once, then reused),
// and queues them for upload. The module pins this binary's current runtime (its version and digest) and
// the limits this node's CU applies (cu.compute_limit and cu.memory_limit, or the runtime's defaults): a
// process spawned with it is evaluated the same way by every CU that runs it.
func (n *Node) publish(ctx context.Context) (string, error) {
	set, err := n.CU.Runtimes()
	if err != nil {
		return "", err
	}
	rt := set.Current()
	limits := rt.DefaultLimits()
	if n.cfg.CU.ComputeLimit > 0 {
		limits.Compute = n.cfg.CU.ComputeLimit
	}
	if n.cfg.CU.MemoryLimit > 0 {
		limits.Memory = n.cfg.CU.MemoryLimit
	}
	v := rt.Version()
	key := store.ModuleRecord(v.Name, v.Digest, limits.Compute, limits.Memory)
	modID, err := n.DB.Meta(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		tags := []bundler.Tag{
			{Name: "Data-Protocol", Value: "ao"},
			{Name: "Variant", Value: "ao.TN.1"},
			{Name: "Type", Value: "Module"},
		}
		for _, t := range runtime.ModuleTags(rt, limits) {
			tags = append(tags, bundler.Tag{Name: t.Name, Value: t.Value})
		}
		tags = append(tags,
			bundler.Tag{Name: "Input-Encoding", Value: "JSON-1"},
			bundler.Tag{Name: "Output-Encoding", Value: "JSON-1"},
			bundler.Tag{Name: "Content-Type", Value: "text/x-lua"},
			bundler.Tag{Name: "Name", Value: "aonode-" + v.Name},
		)
		it, err := n.Wallet.Sign(rt.Source(), "", "", tags)
		if err != nil {
			return "", fmt.Errorf("sign module: %w", err)
		}
		if err := n.DB.PutItem(ctx, it.ID, it.Raw, true); err != nil {
			return "", err
		}
		if err := n.DB.SetMeta(ctx, key, it.ID); err != nil {
			return "", err
		}
		modID = it.ID
		n.log.Info("module published", "module", modID, "runtime", v.String())
	} else if err != nil {
		return "", err
	}
	if n.cfg.SU.Listen == "" {
		return modID, nil // no SU here: nothing to locate
	}
	ttl := strconv.FormatInt(n.cfg.SU.LocationTTL, 10)
	key = store.SchedulerLocation(n.cfg.SU.PublicURL, n.cfg.SU.LocationTTL)
	if _, err := n.DB.Meta(ctx, key); errors.Is(err, store.ErrNotFound) {
		it, err := n.Wallet.Sign([]byte(n.cfg.SU.PublicURL), "", "", []bundler.Tag{
			{Name: "Data-Protocol", Value: "ao"},
			{Name: "Variant", Value: "ao.TN.1"},
			{Name: "Type", Value: "Scheduler-Location"},
			{Name: "Url", Value: n.cfg.SU.PublicURL},
			{Name: "Time-To-Live", Value: ttl},
		})
		if err != nil {
			return "", fmt.Errorf("sign scheduler location: %w", err)
		}
		if err := n.DB.PutItem(ctx, it.ID, it.Raw, true); err != nil {
			return "", err
		}
		if err := n.DB.SetMeta(ctx, key, it.ID); err != nil {
			return "", err
		}
		n.log.Info("scheduler location published", "url", n.cfg.SU.PublicURL, "record", it.ID)
	} else if err != nil {
		return "", err
	}
	return modID, nil
}

// Close stops the node's services in reverse order of their start (the listeners drain first, the gateway
// goes last), then closes the embedded gateway's storage, the cache and the store. It is safe on a node that
// was opened but never started.
func (n *Node) Close() error {
	n.ready.Store(false)
	errs := []error{n.stopServices()}
	// Again, for a node that was never started (its CU may hold processes evaluated through direct calls);
	// after a stop it has nothing left to snapshot.
	ctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
	errs = append(errs, n.CU.Close(ctx))
	cancel()
	if n.GW != nil {
		errs = append(errs, n.GW.Close())
	}
	if n.Cache != nil {
		errs = append(errs, n.Cache.Close())
	}
	errs = append(errs, n.DB.Close())
	return errors.Join(errs...)
}

// Recover rebuilds a process this node does not hold from the gateway (see package recovery).
func (n *Node) Recover(ctx context.Context, pid string) (*recovery.Report, error) {
	if !isID(pid) {
		return nil, fmt.Errorf("recover: %q is not a 43-character base64url id", pid)
	}
	return n.Restore.Recover(ctx, pid)
}

// A process the CU could not recover is not asked of the gateway again at once, so requests for unknown
// ids do not each turn into gateway queries; but a gateway that was only down is asked again soon: the wait
// starts at recoverRetryMin (recoverRetryMissing when the gateway answered that it does not know the process)
// and doubles with every failure up to recoverRetryMax.
const (
	recoverRetryMin     = time.Second
	recoverRetryMissing = 5 * time.Second
	recoverRetryMax     = 30 * time.Second
)

type recFailure struct {
	at   time.Time
	wait time.Duration
}

func (n *Node) autoRecover(ctx context.Context, pid string) error {
	if !isID(pid) {
		return errors.New("not a process id")
	}
	n.recMu.Lock()
	if f, ok := n.recFailed[pid]; ok && time.Since(f.at) < f.wait {
		n.recMu.Unlock()
		return fmt.Errorf("the last attempt failed %s ago; next one after %s", time.Since(f.at).Round(time.Second), f.wait)
	}
	n.recMu.Unlock()
	// One recovery at a time: concurrent first requests for a process must not race to restore it.
	n.recRun.Lock()
	defer n.recRun.Unlock()
	// From the process's SU first (the whole schedule, and the CU follows it from there), else from the
	// gateway (an SU that is gone, or this node's own SU after losing its disk).
	var err error
	if n.Follow != nil {
		var added int
		added, err = n.Follow.Follow(ctx, pid, true)
		if err == nil && added > 0 {
			n.recMu.Lock()
			delete(n.recFailed, pid)
			n.recMu.Unlock()
			return nil
		}
		n.log.Debug("process not read from its SU; trying the gateway", "process", pid, "err", err)
	}
	_, rerr := n.Restore.Recover(ctx, pid)
	if errors.Is(rerr, recovery.ErrExists) {
		return nil
	}
	if rerr != nil && err != nil && !errors.Is(err, follow.ErrNotFollowed) {
		rerr = fmt.Errorf("%w (and from its SU: %v)", rerr, err)
	}
	err = rerr
	n.recMu.Lock()
	defer n.recMu.Unlock()
	if err == nil {
		delete(n.recFailed, pid)
		return nil
	}
	// Forget failures old enough to be retried, so requests for many bogus ids do not grow the map forever.
	for id, f := range n.recFailed {
		if time.Since(f.at) >= recoverRetryMax {
			delete(n.recFailed, id)
		}
	}
	wait := recoverRetryMin
	if errors.Is(err, recovery.ErrNotFound) {
		wait = recoverRetryMissing
	}
	if prev, ok := n.recFailed[pid]; ok {
		wait = min(max(wait, 2*prev.wait), recoverRetryMax)
	}
	n.recFailed[pid] = recFailure{at: time.Now(), wait: wait}
	return err
}

func isID(s string) bool {
	if len(s) != 43 {
		return false
	}
	b, err := bundler.DecodeB64(s)
	return err == nil && len(b) == 32
}

// adminRouter serves the operator's endpoints: Prometheus metrics, the upload queue, and recovering a
// process from the gateway on demand. It listens on loopback unless configured otherwise.
func (n *Node) adminRouter() *gin.Engine {
	r := n.engine("admin")
	r.GET("/metrics", gin.WrapH(n.Metrics.Handler()))
	n.SU.AdminRoutes(r)
	n.MU.AdminRoutes(r)
	r.POST("/recover/:pid", func(c *gin.Context) {
		rep, err := n.Recover(c, c.Param("pid"))
		switch {
		case errors.Is(err, recovery.ErrExists):
			httpx.Error(c, http.StatusConflict, err.Error())
		case errors.Is(err, recovery.ErrNotFound):
			httpx.Error(c, http.StatusNotFound, err.Error())
		case err != nil && !isID(c.Param("pid")):
			httpx.Error(c, http.StatusBadRequest, err.Error())
		case err != nil:
			httpx.Error(c, http.StatusBadGateway, err.Error())
		default:
			c.JSON(http.StatusOK, rep)
		}
	})
	return r
}
