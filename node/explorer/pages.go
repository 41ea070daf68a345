package explorer

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/aonode/aonode/bundler"
	"github.com/aonode/aonode/node/store"
)

// processScan bounds how many processes one page of a search looks at (it then offers to go on).
const processScan = 5000

func (x *Explorer) overview(c *gin.Context) {
	ctx := c.Request.Context()
	count, err := x.o.Store.ProcessCount(ctx)
	if err != nil {
		x.failErr(c, "The list of processes", err)
		return
	}
	recent, err := x.o.Store.Processes(ctx, "", 10, 0, nil)
	if err != nil {
		x.failErr(c, "The list of processes", err)
		return
	}
	pending, counts, err := x.o.SU.Uploads(ctx, store.UploadPending, 0, 1)
	if err != nil {
		x.failErr(c, "The upload queue", err)
		return
	}
	data := map[string]any{
		"Count": count, "Recent": x.processRows(c, recent.Rows), "Counts": counts,
		"OldestPending": x.viewUploads(pending), "Progress": x.o.Progress.Active(),
	}
	// The gateway's height is cached by the SU; a gateway that cannot be asked is said so, not an error page.
	if _, h, err := x.o.SU.Timestamp(ctx); err != nil {
		data["HeightErr"] = err.Error()
	} else {
		data["Height"] = h
	}
	x.render(c, http.StatusOK, "overview", data)
}

// processRow is a process in a list, with its schedule's length.
type processRow struct {
	store.ProcessRow
	Messages int64 // scheduled, the spawn included (-1: unknown)
}

func (x *Explorer) processRows(c *gin.Context, rows []store.ProcessRow) []processRow {
	out := make([]processRow, len(rows))
	for i, r := range rows {
		out[i] = processRow{ProcessRow: r, Messages: -1}
		if h, err := x.o.Store.Head(c.Request.Context(), r.ID); err == nil {
			out[i].Messages = h.Nonce + 1
		}
	}
	return out
}

func (x *Explorer) processes(c *gin.Context) {
	ctx := c.Request.Context()
	q := strings.TrimSpace(c.Query("q"))
	if validID(q) {
		// An id goes to its page: a process, else a message or assignment this node holds.
		if _, _, err := x.o.SU.Process(ctx, q); err == nil {
			c.Redirect(http.StatusSeeOther, "/process/"+q)
			return
		}
		if _, err := x.o.Store.Item(ctx, q); err == nil {
			c.Redirect(http.StatusSeeOther, "/message/"+q)
			return
		}
	}
	var match func(store.ProcessRow) bool
	if q != "" {
		lq := strings.ToLower(q)
		match = func(r store.ProcessRow) bool {
			return r.ID == q || r.Owner == q || r.Name != "" && strings.Contains(strings.ToLower(r.Name), lq)
		}
	}
	page, err := x.o.Store.Processes(ctx, c.Query("from"), x.o.PageSize, processScan, match)
	if err != nil {
		if strings.Contains(err.Error(), "bad cursor") {
			x.fail(c, http.StatusBadRequest, "Bad page", "The page position in this address is not one this explorer gave out.")
			return
		}
		x.failErr(c, "The list of processes", err)
		return
	}
	next := ""
	if page.Next != "" {
		next = "/processes?" + url.Values{"q": {q}, "from": {page.Next}}.Encode()
	}
	x.render(c, http.StatusOK, "processes", map[string]any{
		"Query": q, "Rows": x.processRows(c, page.Rows), "Next": next, "Scanned": page.Scanned,
		"First": c.Query("from") == "",
	})
}

// processInfo is what the process page says about the process itself.
type processInfo struct {
	Process  *store.Process
	Item     *itemView
	Module   string
	Name     string
	Cron     []bundler.Tag // Cron-Interval and Cron-Tag-* tags
	Head     *store.Head
	ReadOnly bool // scheduled by another SU: held here to be evaluated only
}

func (x *Explorer) process(c *gin.Context) {
	ctx := c.Request.Context()
	pid := c.Param("pid")
	if !x.checkID(c, "process", pid) {
		return
	}
	p, pit, err := x.o.SU.Process(ctx, pid)
	if err != nil {
		x.failErr(c, "Process "+pid, err)
		return
	}
	head, err := x.o.Store.Head(ctx, pid)
	if err != nil {
		x.failErr(c, "The schedule of process "+pid, err)
		return
	}
	info := processInfo{Process: p, Item: viewItem(pit), Head: head, ReadOnly: p.Scheduler != x.o.SU.Address()}
	info.Module, _ = pit.Tag("Module")
	info.Name, _ = pit.Tag("Name")
	for _, t := range pit.Tags {
		if strings.HasPrefix(t.Name, "Cron-") {
			info.Cron = append(info.Cron, t)
		}
	}
	status, err := x.o.CU.Status(ctx, pid)
	if err != nil {
		x.failErr(c, "The CU's state of process "+pid, err)
		return
	}
	// A page of the schedule, newest first: the entries before nonce `before` (default: the newest).
	before := head.Nonce + 1
	if v := c.Query("before"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			x.fail(c, http.StatusBadRequest, "Bad page", fmt.Sprintf("before=%q is not a nonce (a positive integer).", v))
			return
		}
		before = min(n, head.Nonce+1)
	}
	to := before - 1
	from := max(0, to-int64(x.o.PageSize)+1)
	es, err := x.o.SU.Entries(ctx, pid, from, to, x.o.PageSize)
	if err != nil {
		x.failErr(c, "The schedule of process "+pid, err)
		return
	}
	rows, err := x.entries(ctx, es)
	if err != nil {
		x.failErr(c, "The schedule of process "+pid, err)
		return
	}
	slices.Reverse(rows)
	var pending []int64
	for _, r := range rows {
		if r.Result == nil {
			pending = append(pending, r.Nonce)
		}
	}
	data := map[string]any{
		"P": info, "Status": status, "Rows": rows, "Live": to == head.Nonce, "Pending": pending,
		"Progress": x.o.Progress.Of(pid), "Owner": p.Owner,
	}
	if from > 0 {
		data["Older"] = fmt.Sprintf("/process/%s?before=%d", pid, from)
	}
	if to < head.Nonce {
		data["Newer"] = fmt.Sprintf("/process/%s?before=%d", pid, min(head.Nonce+1, to+1+int64(x.o.PageSize)))
	}
	x.render(c, http.StatusOK, "process", data)
}

// causedView is an outbox entry of a result and where it went.
type causedView struct {
	Kind, Target, Action string
	ID                   string // the delivered item ("": not delivered, or not by this node's MU)
}

func (x *Explorer) message(c *gin.Context) {
	ctx := c.Request.Context()
	id := c.Param("id")
	if !x.checkID(c, "message", id) {
		return
	}
	pid := c.Query("process")
	if pid != "" && !x.checkID(c, "process", pid) {
		return
	}
	var it *bundler.Item
	raw, err := x.o.Store.Item(ctx, id)
	switch {
	case err == nil:
		if it, err = bundler.ParseStored(raw); err != nil {
			x.failErr(c, "Message "+id, err)
			return
		}
	case !errors.Is(err, store.ErrNotFound):
		x.failErr(c, "Message "+id, err)
		return
	}
	if it != nil {
		typ, _ := it.Tag("Type")
		switch typ {
		case "Process":
			if _, _, err := x.o.SU.Process(ctx, id); err == nil {
				c.Redirect(http.StatusSeeOther, "/process/"+id)
				return
			}
		case "Assignment":
			// An assignment's page is its message's, in its process.
			p, _ := it.Tag("Process")
			m, _ := it.Tag("Message")
			if validID(p) && validID(m) {
				c.Redirect(http.StatusSeeOther, "/message/"+m+"?process="+p)
				return
			}
		}
		if pid == "" {
			pid = it.Target
		}
	}
	data := map[string]any{"ID": id, "Process": pid}
	if pid != "" && validID(pid) {
		if sc, err := x.o.SU.Lookup(ctx, pid, id); err == nil {
			es, err := x.entries(ctx, []store.Entry{sc.Entry})
			if err != nil {
				x.failErr(c, "Message "+id, err)
				return
			}
			data["Entry"] = es[0]
			data["Assignment"] = viewItem(sc.Assignment)
			if it == nil {
				it = sc.Message // an on-chain message assigned here: from the gateway
			}
			if up, err := x.o.SU.UploadStatus(ctx, sc.AssignmentID); err == nil {
				data["AssignmentUpload"] = x.viewUploads([]store.Upload{*up})[0]
			}
			data["Caused"] = x.caused(c, pid, sc.MessageID, sc.AssignmentID, es[0].Result)
		} else if !errors.Is(err, store.ErrNotFound) {
			x.failErr(c, "Message "+id, err)
			return
		}
	}
	if it == nil {
		x.fail(c, http.StatusNotFound, "Not found", "Message "+id+" is not held by this node."+
			gatewayHint(x.info.Gateway, id))
		return
	}
	data["Item"] = viewItem(it)
	if up, err := x.o.SU.UploadStatus(ctx, id); err == nil {
		data["Upload"] = x.viewUploads([]store.Upload{*up})[0]
	}
	if _, _, err := x.o.SU.Process(ctx, pid); pid != "" && err == nil {
		data["ProcessHeld"] = true
	}
	x.render(c, http.StatusOK, "message", data)
}

func gatewayHint(gw, id string) string {
	if gw == "" {
		return ""
	}
	return " It may be on another node or on Arweave: " + strings.TrimSuffix(gw, "/") + "/" + id
}

// caused lists what the evaluation of a message sent, spawned and assigned, with the items the MU delivered
// for them. The MU records deliveries by the id it cranked: the message's, or for a message assigned here,
// the assignment's.
func (x *Explorer) caused(c *gin.Context, pid, msgID, asgID string, r *resultView) []causedView {
	if r == nil {
		return nil
	}
	find := func(entry string) string {
		if x.o.Pushes == nil {
			return ""
		}
		for _, id := range []string{msgID, asgID} {
			if got, ok := x.o.Pushes(c.Request.Context(), pid, id, entry); ok {
				return got
			}
		}
		return ""
	}
	var out []causedView
	for i, m := range r.Messages {
		out = append(out, causedView{Kind: "message", Target: m.Target, Action: m.Action, ID: find(fmt.Sprintf("m%d", i))})
	}
	for i, s := range r.Spawns {
		out = append(out, causedView{Kind: "spawn", Action: s.Action, ID: find(fmt.Sprintf("s%d", i))})
	}
	for i, a := range r.Assignments {
		for j, target := range a.Processes {
			out = append(out, causedView{Kind: "assignment", Target: target, ID: find(fmt.Sprintf("a%d.%d", i, j))})
		}
	}
	return out
}

func (x *Explorer) uploads(c *gin.Context) {
	ctx := c.Request.Context()
	status := c.DefaultQuery("status", store.UploadPending)
	switch status {
	case store.UploadPending, store.UploadPosted, store.UploadConfirmed, "all":
	default:
		x.fail(c, http.StatusBadRequest, "Bad filter", fmt.Sprintf("status=%q: the upload queue has pending, posted and confirmed items (or all).", status))
		return
	}
	var after uint64
	if v := c.Query("after"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			x.fail(c, http.StatusBadRequest, "Bad page", fmt.Sprintf("after=%q is not a queue position.", v))
			return
		}
		after = n
	}
	filter := status
	if filter == "all" {
		filter = ""
	}
	ups, counts, err := x.o.SU.Uploads(ctx, filter, after, 50)
	if err != nil {
		x.failErr(c, "The upload queue", err)
		return
	}
	data := map[string]any{"Status": status, "Rows": x.viewUploads(ups), "Counts": counts}
	if len(ups) == 50 {
		data["Next"] = fmt.Sprintf("/uploads?status=%s&after=%d", status, ups[len(ups)-1].Seq)
	}
	x.render(c, http.StatusOK, "uploads", data)
}
