package su

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/aonode/aonode/bundler"
	"github.com/aonode/aonode/node/httpx"
	"github.com/aonode/aonode/node/store"
)

// Routes mounts the SU API (the reference SU's routes and JSON shapes).
func (s *Service) Routes(r gin.IRoutes, maxBody int64) {
	r.GET("/", s.handleInfo)
	r.POST("/", func(c *gin.Context) { s.handlePost(c, maxBody) })
	r.GET("/timestamp", s.handleTimestamp)
	r.GET("/health", func(c *gin.Context) { c.Status(http.StatusOK) })
	r.GET("/processes/:id", s.handleProcess)
	r.GET("/:id/latest", s.handleLatest)
	r.GET("/:id", s.handleGet)
}

// AdminRoutes mounts the operator's view of the upload queue (served on the admin listener, loopback by
// default).
func (s *Service) AdminRoutes(r gin.IRoutes) {
	r.GET("/uploads", s.handleUploads)
	r.GET("/uploads/:id", s.handleUpload)
}

// fail answers err: the SU's own client errors as the reference SU does, the rest through httpx.Fail.
func (s *Service) fail(c *gin.Context, err error) {
	var ce *Error
	switch {
	case errors.As(err, &ce):
	case errors.Is(err, store.ErrNotFound):
		// The reference SU answers "not found" with 400 too.
		err = &Error{Status: http.StatusBadRequest, Msg: "Message or Process not found"}
	case errors.Is(err, bundler.ErrInvalidItem):
		err = &Error{Status: http.StatusBadRequest, Msg: err.Error()}
	}
	httpx.Fail(c, s.log, err)
}

func (s *Service) handleInfo(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"timestamp": strconv.FormatInt(s.now().UnixMilli(), 10), "address": s.Address()})
}

func (s *Service) handleTimestamp(c *gin.Context) {
	ts, h, err := s.Timestamp(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"timestamp": strconv.FormatInt(ts, 10), "block_height": fmt.Sprintf("%012d", h)})
}

func (s *Service) handlePost(c *gin.Context, maxBody int64) {
	a, asked, ok := httpx.AssignmentQuery(c, "You must set both process-id and assign to create an assignment")
	if !ok {
		return
	}
	if asked {
		e, err := s.Assign(c, a.Process, a.Message, a.BaseLayer, a.Exclude)
		if err != nil {
			s.fail(c, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"timestamp": e.Timestamp, "id": e.AssignmentID})
		return
	}
	raw, ok := httpx.ReadBody(c, maxBody)
	if !ok {
		return
	}
	it, err := bundler.Parse(raw)
	if err != nil {
		s.fail(c, err)
		return
	}
	e, err := s.Write(c, it)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"timestamp": e.Timestamp, "id": it.ID})
}

type ownerJSON struct {
	Address string `json:"address"`
	Key     string `json:"key"`
}

type itemJSON struct {
	ID        string        `json:"id"`
	Owner     ownerJSON     `json:"owner"`
	Data      string        `json:"data"`
	Tags      []bundler.Tag `json:"tags"`
	Signature string        `json:"signature"`
	Anchor    *string       `json:"anchor"`
	Target    string        `json:"target"`
}

func itemView(it *bundler.Item, showAnchor bool) *itemJSON {
	if it == nil {
		return nil
	}
	v := &itemJSON{
		ID: it.ID, Owner: ownerJSON{Address: it.OwnerAddress(), Key: it.Owner}, Data: string(it.Data),
		Tags: it.Tags, Signature: it.Signature, Target: it.Target,
	}
	if v.Tags == nil {
		v.Tags = []bundler.Tag{}
	}
	if it.Anchor != "" {
		a := it.Anchor
		if showAnchor {
			a = bundler.B64([]byte(it.Anchor))
		}
		v.Anchor = &a
	}
	return v
}

type messageJSON struct {
	Message    *itemJSON `json:"message"`
	Assignment *itemJSON `json:"assignment"`
}

func messageView(sc *Scheduled, showAnchor bool) messageJSON {
	return messageJSON{Message: itemView(sc.Message, showAnchor), Assignment: itemView(sc.Assignment, false)}
}

func (s *Service) handleProcess(c *gin.Context) {
	p, it, err := s.Process(c, c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	v := itemView(it, false)
	c.JSON(http.StatusOK, gin.H{
		"process_id": p.ID, "block": fmt.Sprintf("%012d", p.BlockHeight), "owner": v.Owner, "tags": v.Tags,
		"timestamp": p.Timestamp, "data": v.Data, "anchor": v.Anchor, "signature": v.Signature, "target": nil,
	})
}

func (s *Service) handleLatest(c *gin.Context) {
	pid := c.Param("id")
	e, err := s.Latest(c, pid)
	if err != nil {
		s.fail(c, err)
		return
	}
	sc, err := s.hydrate(c, *e)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, messageView(sc, false))
}

func queryInt(c *gin.Context, name string, def int64) (int64, bool) {
	v, ok := c.GetQuery(name)
	if !ok || v == "" {
		return def, true
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		httpx.Error(c, http.StatusBadRequest, fmt.Sprintf("query parameter %s must be an integer, got %q", name, v))
		return 0, false
	}
	return n, true
}

// queryRange reads two integer bounds; the first bad one is answered (once: the caller must return when ok
// is false).
func queryRange(c *gin.Context, fromName, toName string, defFrom, defTo int64) (from, to int64, ok bool) {
	if from, ok = queryInt(c, fromName, defFrom); !ok {
		return 0, 0, false
	}
	if to, ok = queryInt(c, toName, defTo); !ok {
		return 0, 0, false
	}
	return from, to, true
}

// MaxPage bounds one page of the message list.
const MaxPage = 1000

func (s *Service) handleGet(c *gin.Context) {
	id := c.Param("id")
	pid, ok := c.GetQuery("process-id")
	if !ok || pid == "" {
		httpx.Error(c, http.StatusBadRequest, "missing field `process-id`")
		return
	}
	_, showAnchor := c.GetQuery("show-anchor")
	if id != pid {
		sc, err := s.Lookup(c, pid, id)
		if err != nil {
			s.fail(c, err)
			return
		}
		c.JSON(http.StatusOK, messageView(sc, showAnchor))
		return
	}
	if _, err := s.db.GetProcess(c, pid); err != nil {
		s.fail(c, err)
		return
	}
	limit, ok := queryInt(c, "limit", 100)
	if !ok {
		return
	}
	if limit <= 0 || limit > MaxPage {
		httpx.Error(c, http.StatusBadRequest, fmt.Sprintf("limit must be between 1 and %d", MaxPage))
		return
	}
	// The SU lists a process's messages in schedule order only; a client asking for another order must not
	// silently get this one.
	if v, ok := c.GetQuery("sort"); ok && v != "ASC" {
		httpx.Error(c, http.StatusBadRequest, fmt.Sprintf("sort must be ASC (the only order the SU lists messages in), got %q", v))
		return
	}
	_, nonceMode := c.GetQuery("from-nonce")
	if _, ok := c.GetQuery("to-nonce"); ok {
		nonceMode = true
	}
	var entries []store.Entry
	var err error
	if nonceMode {
		from, to, ok := queryRange(c, "from-nonce", "to-nonce", 0, -1)
		if !ok {
			return
		}
		entries, err = s.db.Entries(c, pid, from, to, int(limit)+1)
	} else {
		from, to, ok := queryRange(c, "from", "to", 0, 0)
		if !ok {
			return
		}
		entries, err = s.db.EntriesByTime(c, pid, from, to, int(limit))
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	hasNext := len(entries) > int(limit)
	if hasNext {
		entries = entries[:limit]
	}
	edges := make([]gin.H, 0, len(entries))
	for _, e := range entries {
		sc, err := s.hydrate(c, e)
		if err != nil {
			s.fail(c, err)
			return
		}
		cursor := strconv.FormatInt(e.Timestamp, 10)
		if nonceMode {
			cursor = strconv.FormatInt(e.Nonce, 10)
		}
		edges = append(edges, gin.H{"node": messageView(sc, showAnchor), "cursor": cursor})
	}
	c.JSON(http.StatusOK, gin.H{"page_info": gin.H{"has_next_page": hasNext}, "edges": edges})
}
