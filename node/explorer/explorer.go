// Package explorer is the node's process explorer: server-rendered pages (html/template, a little JS, assets
// embedded in the binary) that show the node, its processes, their schedules with every result, single
// messages with where they came from and what they caused, the upload queue, a read-only console (dry-runs)
// and the progress of long work. It reads the same services the API answers from (SU, CU, store, upload
// queue, progress tracker) and keeps no data of its own.
package explorer

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/aonode/aonode/bundler"
	"github.com/aonode/aonode/node/cu"
	"github.com/aonode/aonode/node/httpx"
	"github.com/aonode/aonode/node/progress"
	"github.com/aonode/aonode/node/runtime"
	"github.com/aonode/aonode/node/store"
	"github.com/aonode/aonode/node/su"
)

//go:embed assets templates
var files embed.FS

// Scheduler is what the explorer reads from the SU.
type Scheduler interface {
	Address() string
	Process(ctx context.Context, pid string) (*store.Process, *bundler.Item, error)
	Entries(ctx context.Context, pid string, fromNonce, toNonce int64, limit int) ([]store.Entry, error)
	Lookup(ctx context.Context, pid, id string) (*su.Scheduled, error)
	Timestamp(ctx context.Context) (int64, int64, error)
	UploadStatus(ctx context.Context, id string) (*store.Upload, error)
	Uploads(ctx context.Context, status string, after uint64, limit int) ([]store.Upload, map[string]int, error)
}

// Computer is what the explorer reads from the CU.
type Computer interface {
	Address() string
	Status(ctx context.Context, pid string) (cu.ProcessStatus, error)
	DryRun(ctx context.Context, pid string, req cu.DryRunRequest) (*runtime.Result, error)
}

// Store is what the explorer reads from the store directly: the list of processes, the schedule's head,
// stored results and items, and the MU's push records.
type Store interface {
	Processes(ctx context.Context, from string, limit, scan int, match func(store.ProcessRow) bool) (store.ProcessPage, error)
	ProcessCount(ctx context.Context) (int, error)
	Head(ctx context.Context, pid string) (*store.Head, error)
	Result(ctx context.Context, pid string, nonce int64) ([]byte, error)
	Item(ctx context.Context, id string) ([]byte, error)
}

// Pushes finds what the MU delivered for one outbox entry of the evaluation of msgID in pid: entry is "m<i>"
// for the i-th message, "s<i>" for a spawn, "a<i>.<j>" for the j-th process of an assignment. It answers the
// id of the item delivered.
type Pushes func(ctx context.Context, pid, msgID, entry string) (string, bool)

// Info is the node as the overview shows it.
type Info struct {
	Wallet, Module, Scheduler                   string
	MU, SU, CU, Gateway, Admin, Explorer, Cache string
	Runtime                                     string
}

// Options build an explorer.
type Options struct {
	SU       Scheduler
	CU       Computer
	Store    Store
	Pushes   Pushes // nil: caused messages are not linked
	Progress *progress.Tracker
	Log      *slog.Logger
	// PageSize is how many schedule entries a page shows (default 25).
	PageSize int
	// MaxBody bounds a console request (default 1 MiB).
	MaxBody int64
}

// Explorer serves the pages.
type Explorer struct {
	o    Options
	info Info
	tpl  map[string]*template.Template
	now  func() time.Time
}

// New builds an explorer; its templates are parsed here, so a broken one fails at start, not on a page.
func New(o Options) (*Explorer, error) {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.PageSize <= 0 {
		o.PageSize = 25
	}
	if o.MaxBody <= 0 {
		o.MaxBody = 1 << 20
	}
	x := &Explorer{o: o, now: time.Now}
	if err := x.parse(); err != nil {
		return nil, err
	}
	return x, nil
}

// SetInfo sets what the overview shows of the node (known once it started).
func (x *Explorer) SetInfo(i Info) { x.info = i }

var pages = []string{"overview", "processes", "process", "message", "uploads", "error"}

func (x *Explorer) parse() error {
	x.tpl = map[string]*template.Template{}
	for _, p := range pages {
		t, err := template.New(p).Funcs(funcs).ParseFS(files, "templates/layout.html", "templates/parts.html", "templates/"+p+".html")
		if err != nil {
			return fmt.Errorf("explorer: parse template %s: %w", p, err)
		}
		x.tpl[p] = t
	}
	return nil
}

// Routes mounts the pages, the small JSON endpoints their scripts use, the assets, and HTML answers for
// unknown routes.
func (x *Explorer) Routes(r *gin.Engine) {
	r.Use(x.recoverPage)
	static, _ := fs.Sub(files, "assets")
	r.StaticFS("/assets", http.FS(static))
	r.GET("/", x.overview)
	r.GET("/processes", x.processes)
	r.GET("/process/:pid", x.process)
	r.GET("/message/:id", x.message)
	r.GET("/uploads", x.uploads)
	r.GET("/api/process/:pid/since", x.since)
	r.POST("/api/process/:pid/dry-run", x.dryRun)
	r.GET("/api/progress", x.progressJSON)
	r.NoRoute(func(c *gin.Context) {
		x.fail(c, http.StatusNotFound, "Page not found", "There is no page at "+c.Request.URL.Path+".")
	})
	r.NoMethod(func(c *gin.Context) {
		x.fail(c, http.StatusMethodNotAllowed, "Method not allowed", c.Request.Method+" is not allowed on "+c.Request.URL.Path+".")
	})
}

// recoverPage answers a page that panicked with the error page (never a stack trace) and logs the panic.
func (x *Explorer) recoverPage(c *gin.Context) {
	defer func() {
		if v := recover(); v != nil {
			x.o.Log.Error("explorer page failed", "path", c.Request.URL.Path, "panic", v)
			x.fail(c, http.StatusInternalServerError, "Something went wrong", "This page could not be built; the node logged why.")
		}
	}()
	c.Next()
}

// render writes page with data, or the error page when the template fails.
func (x *Explorer) render(c *gin.Context, status int, page string, data map[string]any) {
	if data == nil {
		data = map[string]any{}
	}
	data["Info"] = x.info
	data["Page"] = page
	var b strings.Builder
	if err := x.tpl[page].ExecuteTemplate(&b, "layout", data); err != nil {
		x.o.Log.Error("explorer template failed", "page", page, "err", err)
		if page != "error" {
			x.fail(c, http.StatusInternalServerError, "Something went wrong", "This page could not be built; the node logged why.")
		}
		return
	}
	c.Data(status, "text/html; charset=utf-8", []byte(b.String()))
}

// fail answers the error page.
func (x *Explorer) fail(c *gin.Context, status int, title, msg string) {
	x.render(c, status, "error", map[string]any{"Title": title, "Message": msg, "Status": status})
	c.Abort()
}

// failErr answers the error page for err: not found (404), a bad request (400), or the node's fault (500,
// logged with the request's id, which the page shows; the error's text may name files and stays in the log).
func (x *Explorer) failErr(c *gin.Context, what string, err error) {
	var ce *cu.Error
	switch {
	case errors.Is(err, store.ErrNotFound):
		x.fail(c, http.StatusNotFound, "Not found", what+" is not held by this node.")
	case errors.As(err, &ce) && ce.Status == http.StatusNotFound:
		x.fail(c, http.StatusNotFound, "Not found", ce.Msg)
	case errors.As(err, &ce) && ce.Status < 500:
		x.fail(c, ce.Status, "Cannot do that", ce.Msg)
	default:
		id := httpx.RequestIDOf(c)
		x.o.Log.Warn("explorer read failed", "what", what, "request_id", id, "err", err)
		x.fail(c, http.StatusInternalServerError, "Something went wrong", what+" could not be read; the node logged why (request "+id+").")
	}
}

// validID says whether s is a 43-character base64url id (of 32 bytes).
func validID(s string) bool {
	if len(s) != 43 {
		return false
	}
	b, err := bundler.DecodeB64(s)
	return err == nil && len(b) == 32
}

// checkID answers a clear 400 page for a malformed id.
func (x *Explorer) checkID(c *gin.Context, kind, id string) bool {
	if validID(id) {
		return true
	}
	x.fail(c, http.StatusBadRequest, "Not an id", fmt.Sprintf("%q is not a %s id: ids are 43 characters of base64url.", id, kind))
	return false
}
