package mu

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/aonode/aonode/node/httpx"
	"github.com/aonode/aonode/node/store"
)

// AdminRoutes mounts the operator's view of the crank queue (served on the admin listener, loopback by default):
// GET /pushes?status=pending|failed&after=&limit= lists tasks with the queue's counts, GET /pushes/{seq} shows
// one, POST /pushes/{seq}/retry puts a failed one back in the queue.
func (m *Service) AdminRoutes(r gin.IRoutes) {
	r.GET("/pushes", m.handleTasks)
	r.GET("/pushes/:seq", m.handleTask)
	r.POST("/pushes/:seq/retry", m.handleRetry)
}

// taskView is a task as the admin API shows it.
type taskView struct {
	store.Task
	Status string `json:"status"`
}

func (m *Service) handleTasks(c *gin.Context) {
	status := c.DefaultQuery("status", "pending")
	after, err := strconv.ParseUint(c.DefaultQuery("after", "0"), 10, 64)
	if err != nil {
		httpx.Error(c, http.StatusBadRequest, "after must be a task seq (a non-negative integer)")
		return
	}
	limit, err := strconv.Atoi(c.DefaultQuery("limit", "100"))
	if err != nil || limit < 1 || limit > 1000 {
		httpx.Error(c, http.StatusBadRequest, "limit must be an integer from 1 to 1000")
		return
	}
	var ts []store.Task
	switch status {
	case "pending":
		ts, err = m.db.Tasks(c, after, limit)
	case "failed":
		ts, err = m.db.FailedTasks(c, after, limit)
	default:
		httpx.Error(c, http.StatusBadRequest, "status must be pending or failed")
		return
	}
	if err != nil {
		m.fail(c, err)
		return
	}
	counts, err := m.db.TaskCounts(c)
	if err != nil {
		m.fail(c, err)
		return
	}
	out := make([]taskView, len(ts))
	for i, t := range ts {
		out[i] = taskView{Task: t, Status: status}
	}
	c.JSON(http.StatusOK, gin.H{"tasks": out, "counts": counts})
}

func (m *Service) seqParam(c *gin.Context) (uint64, bool) {
	seq, err := strconv.ParseUint(c.Param("seq"), 10, 64)
	if err != nil || seq == 0 {
		httpx.Error(c, http.StatusBadRequest, "a task is named by its seq (a positive integer)")
		return 0, false
	}
	return seq, true
}

func (m *Service) handleTask(c *gin.Context) {
	seq, ok := m.seqParam(c)
	if !ok {
		return
	}
	t, failed, err := m.db.Task(c, seq)
	switch {
	case errors.Is(err, store.ErrNotFound):
		httpx.Error(c, http.StatusNotFound, "no pending or failed task "+c.Param("seq")+" (done tasks are not kept)")
	case err != nil:
		m.fail(c, err)
	case failed:
		c.JSON(http.StatusOK, taskView{Task: *t, Status: "failed"})
	default:
		c.JSON(http.StatusOK, taskView{Task: *t, Status: "pending"})
	}
}

func (m *Service) handleRetry(c *gin.Context) {
	seq, ok := m.seqParam(c)
	if !ok {
		return
	}
	t, err := m.db.RequeueTask(c, seq)
	switch {
	case errors.Is(err, store.ErrNotFound):
		httpx.Error(c, http.StatusNotFound, "no failed task "+c.Param("seq"))
		return
	case err != nil:
		m.fail(c, err)
		return
	}
	m.Wake()
	c.JSON(http.StatusOK, taskView{Task: *t, Status: "pending"})
}
