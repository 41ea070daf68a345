// Package httpx holds the small HTTP conventions every unit shares: JSON errors, bounded bodies, and servers
// that bound how long and how many connections one client can hold.
package httpx

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/gin-gonic/gin"
)

// Error answers {"error": msg} with the status, as the reference units do.
func Error(c *gin.Context, status int, msg string) {
	c.AbortWithStatusJSON(status, gin.H{"error": msg})
}

// ReadBody reads at most max bytes of the request body; a larger body is answered 413 and ok is false.
func ReadBody(c *gin.Context, max int64) ([]byte, bool) {
	body := http.MaxBytesReader(c.Writer, c.Request.Body, max)
	raw, err := io.ReadAll(body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			Error(c, http.StatusRequestEntityTooLarge, fmt.Sprintf("body is larger than %d bytes", max))
			return nil, false
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			// The client did not send its body within the listener's body timeout.
			Error(c, http.StatusRequestTimeout, "request body not received in time")
			return nil, false
		}
		Error(c, http.StatusBadRequest, "read body: "+err.Error())
		return nil, false
	}
	return raw, true
}

// Assignment is the query of a POST that asks an MU or SU to assign a message already on Arweave to a
// process: ?process-id=&assign=[&base-layer][&exclude=a,b].
type Assignment struct {
	Process, Message string
	BaseLayer        bool
	Exclude          []string
}

// AssignmentQuery reads an assignment's query. asked is false when the request names neither process-id nor
// assign (it posts an item instead); ok is false when it names only one of them, answered 400 with missing.
func AssignmentQuery(c *gin.Context, missing string) (a Assignment, asked, ok bool) {
	pid, hasPid := c.GetQuery("process-id")
	msg, hasMsg := c.GetQuery("assign")
	if !hasPid && !hasMsg {
		return a, false, true
	}
	if pid == "" || msg == "" {
		Error(c, http.StatusBadRequest, missing)
		return a, true, false
	}
	a = Assignment{Process: pid, Message: msg}
	_, a.BaseLayer = c.GetQuery("base-layer")
	if ex := c.Query("exclude"); ex != "" {
		a.Exclude = strings.Split(ex, ",")
	}
	return a, true, true
}
