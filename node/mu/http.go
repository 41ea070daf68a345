package mu

import (
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/aonode/aonode/bundler"
	"github.com/aonode/aonode/node/httpx"
	"github.com/aonode/aonode/node/store"
)

// Routes mounts the MU API (what aoconnect's legacy mode calls).
func (m *Service) Routes(r gin.IRoutes, maxBody int64) {
	r.GET("/", func(c *gin.Context) { c.String(http.StatusOK, "ao messenger unit") })
	r.POST("/", func(c *gin.Context) { m.handlePost(c, maxBody) })
	r.POST("/monitor/:pid", func(c *gin.Context) { m.handleMonitor(c, maxBody, true) })
	r.DELETE("/monitor/:pid", func(c *gin.Context) { m.handleMonitor(c, maxBody, false) })
}

// fail answers err: client errors (the MU's and those its SU answered) as they say, an invalid item 400, the
// rest through httpx.Fail.
func (m *Service) fail(c *gin.Context, err error) {
	var ce *Error
	if !errors.As(err, &ce) && errors.Is(err, bundler.ErrInvalidItem) {
		err = &Error{Status: http.StatusBadRequest, Msg: "A valid and signed data item must be provided as the body: " + err.Error()}
	}
	httpx.Fail(c, m.log, err)
}

func (m *Service) handlePost(c *gin.Context, maxBody int64) {
	a, asked, ok := httpx.AssignmentQuery(c, "You must set both process-id and assign to send an assignment, not just one")
	if !ok {
		return
	}
	if asked {
		id, err := m.Assign(c, a.Process, a.Message, a.BaseLayer, a.Exclude)
		if err != nil {
			m.fail(c, err)
			return
		}
		c.JSON(http.StatusAccepted, gin.H{"message": "Processing Assignment", "id": id})
		return
	}
	raw, ok := httpx.ReadBody(c, maxBody)
	if !ok {
		return
	}
	it, err := bundler.Parse(raw)
	if err != nil {
		m.fail(c, err)
		return
	}
	id, err := m.Send(c, it)
	if err != nil {
		m.fail(c, err)
		return
	}
	c.JSON(http.StatusAccepted, gin.H{"message": "Processing DataItem", "id": id})
}

// handleMonitor starts or stops pushing a process's cron results. The request is a signed item whose target
// is the process (aoconnect sends no tags); the path names the same process.
func (m *Service) handleMonitor(c *gin.Context, maxBody int64, start bool) {
	raw, ok := httpx.ReadBody(c, maxBody)
	if !ok {
		return
	}
	it, err := bundler.Parse(raw)
	if err != nil {
		m.fail(c, err)
		return
	}
	pid := it.Target
	if pid == "" {
		pid = c.Param("pid")
	}
	if pid != c.Param("pid") {
		httpx.Error(c, http.StatusBadRequest, "the item's target and the path name different processes")
		return
	}
	if _, err := m.db.GetProcess(c, pid); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			httpx.Error(c, http.StatusNotFound, "process "+pid+" is not scheduled by this node")
			return
		}
		m.fail(c, err)
		return
	}
	if !start {
		if err := m.db.DeleteMonitor(c, pid); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				httpx.Error(c, http.StatusNotFound, "Process monitor not found")
				return
			}
			m.fail(c, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"message": "Process deleted", "id": it.ID})
		return
	}
	mon := store.Monitor{Process: pid, ByItem: it.ID, Owner: it.OwnerAddress(), Since: time.Now().UnixMilli()}
	if err := m.db.PutMonitor(c, mon); err != nil {
		m.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"message": "Monitoring process", "id": it.ID})
}
