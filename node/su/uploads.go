package su

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/aonode/aonode/node/httpx"
	"github.com/aonode/aonode/node/store"
)

// UploadStatus is where an item stands on its way to Arweave.
func (s *Service) UploadStatus(ctx context.Context, id string) (*store.Upload, error) {
	return s.db.UploadStatus(ctx, id)
}

// Uploads lists the upload queue (status "" for all) after a queue position, with the counts by status.
func (s *Service) Uploads(ctx context.Context, status string, after uint64, limit int) ([]store.Upload, map[string]int, error) {
	ups, err := s.db.ListUploads(ctx, status, after, limit)
	if err != nil {
		return nil, nil, err
	}
	counts, err := s.db.UploadCounts(ctx)
	if err != nil {
		return nil, nil, err
	}
	return ups, counts, nil
}

func (s *Service) handleUpload(c *gin.Context) {
	u, err := s.UploadStatus(c, c.Param("id"))
	if errors.Is(err, store.ErrNotFound) {
		httpx.Error(c, http.StatusNotFound, "no upload for item "+c.Param("id")+" on this node")
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, u)
}

// handleUploads: GET /uploads?status=pending|posted|confirmed&after=<seq>&limit=<n>.
func (s *Service) handleUploads(c *gin.Context) {
	status := c.Query("status")
	switch status {
	case "", store.UploadPending, store.UploadPosted, store.UploadConfirmed:
	default:
		httpx.Error(c, http.StatusBadRequest, "status must be pending, posted or confirmed")
		return
	}
	after, limit := uint64(0), 100
	if v := c.Query("after"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			httpx.Error(c, http.StatusBadRequest, "after must be a queue position (a non-negative integer)")
			return
		}
		after = n
	}
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			httpx.Error(c, http.StatusBadRequest, "limit must be an integer from 1 to 1000")
			return
		}
		limit = n
	}
	ups, counts, err := s.Uploads(c, status, after, limit)
	if err != nil {
		s.fail(c, err)
		return
	}
	if ups == nil {
		ups = []store.Upload{}
	}
	c.JSON(http.StatusOK, gin.H{"counts": counts, "uploads": ups})
}
