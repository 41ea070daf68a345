package cu

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/aonode/aonode/node/httpx"
	"github.com/aonode/aonode/node/runtime"
)

// Routes mounts the CU API (the reference CU's routes and JSON shapes).
func (s *Service) Routes(r gin.IRoutes, maxBody int64) {
	r.GET("/", func(c *gin.Context) {
		c.JSON(http.StatusOK, gin.H{"address": s.Address(), "timestamp": time.Now().UnixMilli()})
	})
	r.GET("/result/:id", s.handleResult)
	r.GET("/results/:pid", s.handleResults)
	r.POST("/dry-run", func(c *gin.Context) { s.handleDryRun(c, maxBody) })
	r.GET("/state/:pid", s.handleState)
}

func (s *Service) fail(c *gin.Context, err error) { httpx.Fail(c, s.log, err) }

func processID(c *gin.Context) (string, bool) {
	pid := c.Query("process-id")
	if pid == "" {
		httpx.Error(c, http.StatusBadRequest, "query parameter process-id is required")
		return "", false
	}
	return pid, true
}

func (s *Service) handleResult(c *gin.Context) {
	pid, ok := processID(c)
	if !ok {
		return
	}
	raw, err := s.Result(c, pid, c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Data(http.StatusOK, "application/json; charset=utf-8", raw)
}

// parseCursor accepts a CU cursor (base64 JSON) or a bare millisecond timestamp.
func parseCursor(v string) (*Cursor, error) {
	if v == "" {
		return nil, nil
	}
	if b, err := base64.StdEncoding.DecodeString(v); err == nil {
		var c Cursor
		if json.Unmarshal(b, &c) == nil && c.Timestamp > 0 {
			return &c, nil
		}
	}
	ts, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("%q is neither a cursor nor a timestamp", v)
	}
	return &Cursor{Timestamp: ts}, nil
}

// MaxResultsLimit bounds one page of /results.
const MaxResultsLimit = 1000

func (s *Service) handleResults(c *gin.Context) {
	var q ResultsQuery
	var err error
	if q.From, err = parseCursor(c.Query("from")); err != nil {
		httpx.Error(c, http.StatusBadRequest, "from: "+err.Error())
		return
	}
	if q.To, err = parseCursor(c.Query("to")); err != nil {
		httpx.Error(c, http.StatusBadRequest, "to: "+err.Error())
		return
	}
	switch c.DefaultQuery("sort", "ASC") {
	case "ASC":
	case "DESC":
		q.Desc = true
	default:
		httpx.Error(c, http.StatusBadRequest, fmt.Sprintf("sort must be ASC or DESC, got %q", c.Query("sort")))
		return
	}
	for i, cur := range []*Cursor{q.From, q.To} {
		name := []string{"from", "to"}[i]
		if cur == nil {
			continue
		}
		if cur.Sort != "" && cur.Sort != "ASC" && cur.Sort != "DESC" {
			httpx.Error(c, http.StatusBadRequest, fmt.Sprintf("%s: cursor sort must be ASC or DESC, got %q", name, cur.Sort))
			return
		}
		if _, err := parseBound(cur); err != nil {
			httpx.Error(c, http.StatusBadRequest, name+": "+err.Error())
			return
		}
	}
	q.Limit = 25
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxResultsLimit {
			httpx.Error(c, http.StatusBadRequest, fmt.Sprintf("limit must be an integer between 1 and %d", MaxResultsLimit))
			return
		}
		q.Limit = n
	}
	edges, more, err := s.Results(c, c.Param("pid"), q)
	if err != nil {
		s.fail(c, err)
		return
	}
	if edges == nil {
		edges = []Edge{}
	}
	c.JSON(http.StatusOK, gin.H{"pageInfo": gin.H{"hasNextPage": more}, "edges": edges})
}

type dryRunBody struct {
	Id        string        `json:"Id"`
	Owner     string        `json:"Owner"`
	Target    string        `json:"Target"`
	Anchor    string        `json:"Anchor"`
	Data      any           `json:"Data"`
	Signature string        `json:"Signature"`
	Tags      []runtime.Tag `json:"Tags"`
}

func (s *Service) handleDryRun(c *gin.Context, maxBody int64) {
	pid, ok := processID(c)
	if !ok {
		return
	}
	raw, ok := httpx.ReadBody(c, maxBody)
	if !ok {
		return
	}
	var b dryRunBody
	if err := json.Unmarshal(raw, &b); err != nil {
		httpx.Error(c, http.StatusBadRequest, "body must be a JSON message: "+err.Error())
		return
	}
	data := ""
	switch d := b.Data.(type) {
	case nil:
	case string:
		data = d
	default:
		enc, _ := json.Marshal(d)
		data = string(enc)
	}
	res, err := s.DryRun(c, pid, DryRunRequest{Id: b.Id, Owner: b.Owner, Target: b.Target, Anchor: b.Anchor, Data: data, Tags: b.Tags, Signature: b.Signature})
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, res)
}

func (s *Service) handleState(c *gin.Context) {
	b, nonce, ts, height, err := s.State(c, c.Param("pid"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Last-Ordinate", strconv.FormatInt(nonce, 10))
	c.Header("Last-Timestamp", strconv.FormatInt(ts, 10))
	c.Header("Last-Block-Height", strconv.FormatInt(height, 10))
	c.Data(http.StatusOK, "application/json; charset=utf-8", b)
}
