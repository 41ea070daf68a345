package embedded

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// postBundlerItem is the bundler-service upload (Turbo's POST /tx/arweave, /v1/tx, /v1/tx/arweave): one raw
// signed item in, a JSON receipt {id, owner, timestamp (unix ms)} out. The item is indexed as if a bundler had
// bundled it, and re-posting an item already held answers the same receipt, so clients can retry freely.
func (g *Gateway) postBundlerItem(c *gin.Context) {
	body, err := readBody(c)
	if err != nil {
		g.fail(c, "post item", err)
		return
	}
	p, err := g.postItem(c.Request.Context(), body)
	if err != nil {
		// goar's decoder reports bare messages ("itemBinary incorrect"); say what was being checked.
		if isBadInput(err) && !strings.Contains(err.Error(), "data item") {
			err = badf("invalid data item: %v", err)
		}
		g.fail(c, "post item", err)
		return
	}
	c.JSON(http.StatusOK, p)
}
