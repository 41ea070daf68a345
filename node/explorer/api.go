package explorer

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/aonode/aonode/node/cu"
	"github.com/aonode/aonode/node/httpx"
	"github.com/aonode/aonode/node/progress"
	"github.com/aonode/aonode/node/runtime"
	"github.com/aonode/aonode/node/store"
)

// maxSince is how many entries one live update carries; a page further behind reloads instead.
const maxSince = 100

// jsonErr answers {"error": msg}: the pages' scripts show it.
func jsonErr(c *gin.Context, status int, msg string) {
	c.AbortWithStatusJSON(status, gin.H{"error": msg})
}

type liveRow struct {
	Nonce     int64  `json:"nonce"`
	Evaluated bool   `json:"evaluated"`
	HTML      string `json:"html"`
}

type liveJob struct {
	progress.Status
	Line    string  `json:"line"`
	Percent float64 `json:"percent"`
}

func liveJobs(st []progress.Status) []liveJob {
	out := make([]liveJob, len(st))
	for i, s := range st {
		out[i] = liveJob{Status: s, Line: s.String(), Percent: s.Percent()}
	}
	return out
}

// maxPending is how many not yet evaluated rows one live update looks at again.
const maxPending = 50

// since answers the schedule entries after nonce `after` and those at the nonces in `pending` (rows the page
// shows as not evaluated yet), rendered as the page renders them, with the head, the CU's position and the
// progress of work on the process: the process page polls it for live updates.
func (x *Explorer) since(c *gin.Context) {
	ctx := c.Request.Context()
	pid := c.Param("pid")
	if !validID(pid) {
		jsonErr(c, http.StatusBadRequest, "not a process id")
		return
	}
	after, err := strconv.ParseInt(c.Query("after"), 10, 64)
	if err != nil || after < -1 {
		jsonErr(c, http.StatusBadRequest, "after must be a nonce (an integer from -1)")
		return
	}
	head, err := x.o.Store.Head(ctx, pid)
	if errors.Is(err, store.ErrNotFound) {
		jsonErr(c, http.StatusNotFound, "process "+pid+" is not held by this node")
		return
	}
	if err != nil {
		httpx.Fail(c, x.o.Log, err)
		return
	}
	var pending []int64
	if v := c.Query("pending"); v != "" {
		for _, f := range strings.Split(v, ",") {
			n, err := strconv.ParseInt(f, 10, 64)
			if err != nil || n < 0 || len(pending) == maxPending {
				jsonErr(c, http.StatusBadRequest, fmt.Sprintf("pending must be at most %d nonces, comma-separated", maxPending))
				return
			}
			if n <= after {
				pending = append(pending, n)
			}
		}
	}
	status, err := x.o.CU.Status(ctx, pid)
	if err != nil {
		httpx.Fail(c, x.o.Log, err)
		return
	}
	out := gin.H{"head": head.Nonce, "evaluated": status.Nonce, "busy": status.Busy, "progress": liveJobs(x.o.Progress.Of(pid)), "rows": []liveRow{}}
	if head.Nonce-after > maxSince {
		out["reload"] = true // too far behind for a live update: the page reloads
		c.JSON(http.StatusOK, out)
		return
	}
	var es []store.Entry
	for _, n := range pending {
		got, err := x.o.SU.Entries(ctx, pid, n, n, 1)
		if err != nil {
			httpx.Fail(c, x.o.Log, err)
			return
		}
		es = append(es, got...)
	}
	if after < head.Nonce {
		got, err := x.o.SU.Entries(ctx, pid, after+1, head.Nonce, maxSince)
		if err != nil {
			httpx.Fail(c, x.o.Log, err)
			return
		}
		es = append(es, got...)
	}
	if len(es) > 0 {
		views, err := x.entries(ctx, es)
		if err != nil {
			httpx.Fail(c, x.o.Log, err)
			return
		}
		rows := make([]liveRow, len(views))
		for i, v := range views {
			var b bytes.Buffer
			if err := x.tpl["process"].ExecuteTemplate(&b, "row", v); err != nil {
				httpx.Fail(c, x.o.Log, fmt.Errorf("render: %w", err))
				return
			}
			rows[i] = liveRow{Nonce: v.Nonce, Evaluated: v.Result != nil, HTML: b.String()}
		}
		out["rows"] = rows
	}
	c.JSON(http.StatusOK, out)
}

// parseTags reads "Name=Value" lines (blank lines skipped).
func parseTags(s string) ([]runtime.Tag, error) {
	var out []runtime.Tag
	for i, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		name, value, ok := strings.Cut(line, "=")
		name = strings.TrimSpace(name)
		if !ok || name == "" {
			return nil, fmt.Errorf("tag line %d: %q is not Name=Value", i+1, line)
		}
		out = append(out, runtime.Tag{Name: name, Value: strings.TrimSpace(value)})
	}
	return out, nil
}

// dryRun evaluates the console's input against the process's latest state (nothing is kept) and answers
// the result rendered as the schedule shows results. A Lua expression is an Eval from the process's owner
// (AOS evaluates code only from its owner); a message is sent as given, from the owner unless told.
func (x *Explorer) dryRun(c *gin.Context) {
	ctx := c.Request.Context()
	pid := c.Param("pid")
	if !validID(pid) {
		jsonErr(c, http.StatusBadRequest, "not a process id")
		return
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, x.o.MaxBody)
	if err := c.Request.ParseForm(); err != nil {
		jsonErr(c, http.StatusBadRequest, "read the form: "+err.Error())
		return
	}
	p, _, err := x.o.SU.Process(ctx, pid)
	if errors.Is(err, store.ErrNotFound) {
		jsonErr(c, http.StatusNotFound, "process "+pid+" is not held by this node")
		return
	}
	if err != nil {
		httpx.Fail(c, x.o.Log, err)
		return
	}
	req := cu.DryRunRequest{Owner: strings.TrimSpace(c.PostForm("from"))}
	if req.Owner == "" {
		req.Owner = p.Owner
	}
	switch c.PostForm("mode") {
	case "lua":
		code := c.PostForm("code")
		if strings.TrimSpace(code) == "" {
			jsonErr(c, http.StatusBadRequest, "type a Lua expression or statement to evaluate")
			return
		}
		req.Owner = p.Owner
		req.Tags, req.Data = []runtime.Tag{{Name: "Action", Value: "Eval"}}, code
	case "message":
		tags, err := parseTags(c.PostForm("tags"))
		if err != nil {
			jsonErr(c, http.StatusBadRequest, err.Error())
			return
		}
		if a := strings.TrimSpace(c.PostForm("action")); a != "" {
			tags = append([]runtime.Tag{{Name: "Action", Value: a}}, tags...)
		}
		if len(tags) == 0 {
			jsonErr(c, http.StatusBadRequest, "a message needs an Action or other tags")
			return
		}
		req.Tags, req.Data = tags, c.PostForm("data")
	default:
		jsonErr(c, http.StatusBadRequest, `mode must be "lua" or "message"`)
		return
	}
	res, err := x.o.CU.DryRun(ctx, pid, req)
	if err != nil {
		var ce *cu.Error
		if errors.As(err, &ce) {
			if ce.RetryAfter > 0 {
				c.Header("Retry-After", strconv.Itoa(int(ce.RetryAfter.Seconds()+0.5)))
			}
			jsonErr(c, ce.Status, ce.Msg)
			return
		}
		httpx.Fail(c, x.o.Log, err)
		return
	}
	var b bytes.Buffer
	if err := x.tpl["process"].ExecuteTemplate(&b, "result", viewResult(res)); err != nil {
		httpx.Fail(c, x.o.Log, fmt.Errorf("render: %w", err))
		return
	}
	c.JSON(http.StatusOK, gin.H{"html": b.String(), "failed": res.Error != ""})
}

// progressJSON answers the running jobs (the overview polls it).
func (x *Explorer) progressJSON(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"active": liveJobs(x.o.Progress.Active())})
}
