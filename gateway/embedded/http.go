package embedded

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/everFinance/goar/types"
	"github.com/everFinance/goar/utils"
	"github.com/gin-gonic/gin"
	"go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// fakeBalance is what every wallet holds: the embedded gateway does not account fees.
const fakeBalance = "1000000000000000000"

func (g *Gateway) routes() http.Handler {
	// gin prints every route in debug mode; stay quiet unless GIN_MODE asks for it.
	if os.Getenv("GIN_MODE") == "" && gin.Mode() == gin.DebugMode {
		gin.SetMode(gin.ReleaseMode)
	}
	r := gin.New()
	r.ContextWithFallback = true // a handler's context is its request's (cancelled when the client goes)
	r.HandleMethodNotAllowed = false
	r.Use(gin.CustomRecoveryWithWriter(io.Discard, func(c *gin.Context, err any) {
		g.log.Error("panic in gateway handler", "path", c.Request.URL.Path, "err", err)
		c.AbortWithStatusJSON(http.StatusInternalServerError, gin.H{"error": "internal error"})
	}))
	r.Use(cors, g.limitBody)

	r.GET("/", g.info)
	r.GET("/info", g.info)
	r.GET("/peers", func(c *gin.Context) { c.JSON(http.StatusOK, []string{}) })
	r.GET("/tx_anchor", g.txAnchor)
	r.GET("/price/:bytes", g.price)
	r.GET("/price/:bytes/:target", g.price)
	r.GET("/wallet/:addr/balance", g.balance)
	r.GET("/wallet/:addr/last_tx", g.lastTx)
	r.GET("/mint/:addr/:amount", g.mint)
	r.GET("/mine", g.mine)
	r.GET("/mine/:n", g.mine)
	r.POST("/mine", g.mine)

	r.POST("/tx", g.postTx)
	r.POST("/tx/arweave", g.postBundlerItem) // bundler service (Turbo); see bundler.go
	r.POST("/v1/tx", g.postBundlerItem)
	r.POST("/v1/tx/arweave", g.postBundlerItem)
	r.POST("/tx/:token", g.postItemHTTP) // Turbo's other /tx/:token currencies
	r.POST("/v1/tx/:token", g.postItemHTTP)
	r.POST("/chunk", g.postChunk)
	r.GET("/chunk/:offset", g.getChunk)

	r.GET("/tx/:id", g.getTx)
	r.GET("/tx/:id/status", g.txStatus)
	r.GET("/tx/:id/offset", g.txOffset)
	r.GET("/tx/:id/data", g.txData)

	r.GET("/block/height/:height", g.blockByHeight)
	r.GET("/block/hash/:id", g.blockByHash)

	r.POST("/graphql", g.graphqlHTTP)
	r.GET("/graphql", g.graphqlHTTP)

	r.GET("/raw/:id", g.raw)
	r.HEAD("/raw/:id", g.raw)
	r.GET("/:id", g.raw)
	r.HEAD("/:id", g.raw)

	r.NoRoute(func(c *gin.Context) { jsonError(c, http.StatusNotFound, "not found") })
	return r
}

func cors(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Cross-Origin-Resource-Policy", "cross-origin")
	if c.Request.Method == http.MethodOptions {
		h.Set("Access-Control-Allow-Methods", "GET, HEAD, POST, OPTIONS")
		h.Set("Access-Control-Allow-Headers", "*")
		h.Set("Access-Control-Max-Age", "86400")
		c.AbortWithStatus(http.StatusNoContent)
		return
	}
	c.Next()
}

func (g *Gateway) limitBody(c *gin.Context) {
	if c.Request.Body != nil {
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, g.opts.MaxBodyBytes)
	}
	c.Next()
}

// tooLarge is a request body over Options.MaxBodyBytes (answered with 413).
type tooLarge struct{ limit int64 }

func (e *tooLarge) Error() string { return fmt.Sprintf("request body larger than %d bytes", e.limit) }

func jsonError(c *gin.Context, status int, msg string) {
	c.AbortWithStatusJSON(status, gin.H{"error": msg})
}

// fail answers err: 400 for bad input, 503 when the database is closed, 500 otherwise.
func (g *Gateway) fail(c *gin.Context, what string, err error) {
	var tl *tooLarge
	switch {
	case errors.As(err, &tl):
		jsonError(c, http.StatusRequestEntityTooLarge, err.Error())
	case isBadInput(err):
		jsonError(c, http.StatusBadRequest, err.Error())
	case errors.Is(err, berrors.ErrDatabaseNotOpen):
		jsonError(c, http.StatusServiceUnavailable, "gateway is closed")
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		jsonError(c, http.StatusServiceUnavailable, err.Error())
	default:
		// The text may name files or keys: it goes to the log only.
		g.log.Error("gateway request failed", "what", what, "path", c.Request.URL.Path, "err", err)
		jsonError(c, http.StatusInternalServerError, what+": internal error (logged by the gateway)")
	}
}

func readBody(c *gin.Context) ([]byte, error) {
	if c.Request.Body == nil {
		return nil, nil
	}
	b, err := io.ReadAll(c.Request.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, &tooLarge{mbe.Limit}
		}
		return nil, badf("read body: %v", err)
	}
	return b, nil
}

// --- network ---

type infoJSON struct {
	Network          string `json:"network"`
	Version          int    `json:"version"`
	Release          int    `json:"release"`
	Height           int64  `json:"height"`
	Current          string `json:"current"`
	Blocks           int64  `json:"blocks"`
	Peers            int    `json:"peers"`
	QueueLength      int    `json:"queue_length"`
	NodeStateLatency int    `json:"node_state_latency"`
}

func (g *Gateway) infoData() (infoJSON, error) {
	info := infoJSON{Network: Network, Version: 1, Release: 1}
	err := g.db.View(func(tx *bbolt.Tx) error {
		info.Height = currentHeight(tx)
		b, err := getBlock(tx, info.Height)
		if err != nil {
			return err
		}
		if b != nil {
			info.Current = b.ID
		}
		info.Blocks = info.Height + 1
		return nil
	})
	return info, err
}

func (g *Gateway) info(c *gin.Context) {
	info, err := g.infoData()
	if err != nil {
		g.fail(c, "info", err)
		return
	}
	c.JSON(http.StatusOK, info)
}

func (g *Gateway) txAnchor(c *gin.Context) {
	info, err := g.infoData()
	if err != nil {
		g.fail(c, "tx_anchor", err)
		return
	}
	c.String(http.StatusOK, info.Current)
}

// price is a fake but positive fee (so goar's GetTransactionPrice works for 0 bytes too).
func (g *Gateway) price(c *gin.Context) {
	s := c.Param("bytes")
	if !isDigits(s) || len(s) > 18 {
		jsonError(c, http.StatusBadRequest, "invalid byte count")
		return
	}
	n, _ := new(big.Int).SetString(s, 10)
	c.String(http.StatusOK, price(n).String())
}

func price(size *big.Int) *big.Int {
	p := new(big.Int).Add(size, big.NewInt(1000))
	p.Mul(p, big.NewInt(65595508))
	return p.Div(p, big.NewInt(1000))
}

func (g *Gateway) balance(c *gin.Context) { c.String(http.StatusOK, fakeBalance) }

func (g *Gateway) mint(c *gin.Context) {
	if !isDigits(c.Param("amount")) {
		jsonError(c, http.StatusBadRequest, "invalid amount")
		return
	}
	c.String(http.StatusOK, fakeBalance)
}

func (g *Gateway) lastTx(c *gin.Context) {
	addr := c.Param("addr")
	last := ""
	err := g.db.View(func(tx *bbolt.Tx) error {
		s := openStream(tx.Bucket(bIdxOwner), lp([]byte(addr)), true, nil)
		for ; s.valid(); s.next() {
			r, err := getRecord(tx, string(s.v))
			if err != nil {
				return err
			}
			if r != nil && r.Kind == kindTx {
				last = r.ID
				return nil
			}
		}
		return nil
	})
	if err != nil {
		g.fail(c, "last_tx", err)
		return
	}
	c.String(http.StatusOK, last)
}

func (g *Gateway) mine(c *gin.Context) {
	n := 1
	if s := c.Param("n"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 || v > 10000 {
			jsonError(c, http.StatusBadRequest, "invalid block count")
			return
		}
		n = v
	}
	if err := g.mineBlocks(n); err != nil {
		g.fail(c, "mine", err)
		return
	}
	g.info(c)
}

// --- uploads ---

// postTx accepts an L1 transaction (JSON) or, with Content-Type application/octet-stream, one signed data
// item (bundler style).
func (g *Gateway) postTx(c *gin.Context) {
	ct := c.ContentType()
	if ct == "application/octet-stream" {
		g.postItemHTTP(c)
		return
	}
	body, err := readBody(c)
	if err != nil {
		g.fail(c, "post tx", err)
		return
	}
	if ct != "application/json" && len(bytes.TrimSpace(body)) > 0 && bytes.TrimSpace(body)[0] != '{' {
		g.answerItem(c, body)
		return
	}
	var t types.Transaction
	if err := json.Unmarshal(body, &t); err != nil {
		jsonError(c, http.StatusBadRequest, "invalid transaction JSON: "+err.Error())
		return
	}
	if _, err := g.acceptTx(c.Request.Context(), &t); err != nil {
		g.fail(c, "post tx", err)
		return
	}
	c.String(http.StatusOK, "OK")
}

func (g *Gateway) postItemHTTP(c *gin.Context) {
	body, err := readBody(c)
	if err != nil {
		g.fail(c, "post item", err)
		return
	}
	g.answerItem(c, body)
}

func (g *Gateway) answerItem(c *gin.Context, body []byte) {
	p, err := g.postItem(c.Request.Context(), body)
	if err != nil {
		g.fail(c, "post item", err)
		return
	}
	c.JSON(http.StatusOK, p)
}

func (g *Gateway) postChunk(c *gin.Context) {
	body, err := readBody(c)
	if err != nil {
		g.fail(c, "post chunk", err)
		return
	}
	var gc types.GetChunk
	if err := json.Unmarshal(body, &gc); err != nil {
		jsonError(c, http.StatusBadRequest, "invalid_json")
		return
	}
	g.chunks.Add(1)
	if err := g.acceptChunk(c.Request.Context(), &gc); err != nil {
		g.fail(c, "post chunk", err)
		return
	}
	c.JSON(http.StatusOK, gin.H{})
}

// --- transactions ---

func (g *Gateway) record(c *gin.Context, id string) (*record, bool) {
	var rec *record
	err := g.db.View(func(tx *bbolt.Tx) error {
		var err error
		rec, err = getRecord(tx, id)
		return err
	})
	if err != nil {
		g.fail(c, "lookup", err)
		return nil, false
	}
	return rec, true
}

// l1 finds an L1 transaction (data items are 404 here, as on arweave.net) and answers 202 while pending.
func (g *Gateway) l1(c *gin.Context) (*record, bool) {
	rec, ok := g.record(c, c.Param("id"))
	if !ok {
		return nil, false
	}
	if rec == nil || rec.Kind != kindTx {
		jsonError(c, http.StatusNotFound, "not found")
		return nil, false
	}
	if rec.pending() {
		c.String(http.StatusAccepted, "Pending")
		return nil, false
	}
	return rec, true
}

type txJSON struct {
	Format    int         `json:"format"`
	ID        string      `json:"id"`
	LastTx    string      `json:"last_tx"`
	Owner     string      `json:"owner"`
	Tags      []types.Tag `json:"tags"`
	Target    string      `json:"target"`
	Quantity  string      `json:"quantity"`
	Data      string      `json:"data"`
	DataSize  string      `json:"data_size"`
	DataTree  []string    `json:"data_tree"`
	DataRoot  string      `json:"data_root"`
	Reward    string      `json:"reward"`
	Signature string      `json:"signature"`
}

func (g *Gateway) getTx(c *gin.Context) {
	rec, ok := g.l1(c)
	if !ok {
		return
	}
	out := txJSON{
		Format: rec.Format, ID: rec.ID, LastTx: rec.Anchor, Owner: rec.Owner, Tags: make([]types.Tag, len(rec.Tags)),
		Target: rec.Target, Quantity: rec.Quantity, DataSize: strconv.FormatInt(rec.DataSize, 10),
		DataTree: []string{}, DataRoot: rec.DataRoot, Reward: rec.Reward, Signature: rec.Signature,
	}
	for i, t := range rec.Tags {
		out.Tags[i] = types.Tag{Name: b64(t.N), Value: b64(t.V)}
	}
	if rec.Format == 1 && rec.DataReady {
		data, _, _, err := g.Data(rec.ID)
		if err != nil {
			g.fail(c, "tx", err)
			return
		}
		out.Data = b64(data)
	}
	c.JSON(http.StatusOK, out)
}

func (g *Gateway) txStatus(c *gin.Context) {
	rec, ok := g.l1(c)
	if !ok {
		return
	}
	h, err := g.Height()
	if err != nil {
		g.fail(c, "status", err)
		return
	}
	c.JSON(http.StatusOK, gin.H{
		"block_height":            rec.Height,
		"block_indep_hash":        rec.BlockID,
		"number_of_confirmations": h - rec.Height + 1,
	})
}

func (g *Gateway) txOffset(c *gin.Context) {
	rec, ok := g.l1(c)
	if !ok {
		return
	}
	if !rec.DataReady || rec.DataSize == 0 {
		jsonError(c, http.StatusNotFound, "not found")
		return
	}
	c.JSON(http.StatusOK, gin.H{"offset": strconv.FormatInt(rec.WeaveEnd-1, 10), "size": strconv.FormatInt(rec.DataSize, 10)})
}

// txData answers like an Arweave node: the payload as base64url text (up to 12 MiB).
func (g *Gateway) txData(c *gin.Context) {
	rec, ok := g.l1(c)
	if !ok {
		return
	}
	if !rec.DataReady {
		jsonError(c, http.StatusNotFound, "data not available")
		return
	}
	if rec.DataSize > maxInlineData {
		jsonError(c, http.StatusBadRequest, "tx_data_too_big")
		return
	}
	data, _, _, err := g.Data(rec.ID)
	if err != nil {
		g.fail(c, "tx data", err)
		return
	}
	c.Data(http.StatusOK, "text/plain; charset=utf-8", []byte(b64(data)))
}

// chunkCache keeps the chunk layout of the last transaction served by GET /chunk/{offset}.
type chunkCache struct {
	mu     sync.Mutex
	id     string
	chunks *types.Chunks
}

func (g *Gateway) getChunk(c *gin.Context) {
	s := c.Param("offset")
	if !isDigits(s) || len(s) > 18 {
		jsonError(c, http.StatusBadRequest, "invalid offset")
		return
	}
	off, _ := strconv.ParseInt(s, 10, 64)
	var rec *record
	var data []byte
	err := g.db.View(func(tx *bbolt.Tx) error {
		k, v := tx.Bucket(bWeave).Cursor().Seek(u64(uint64(off)))
		if k == nil {
			return nil
		}
		r, err := getRecord(tx, string(v))
		if err != nil || r == nil || !r.DataReady || off < r.WeaveEnd-r.DataSize {
			return err
		}
		p, err := payloadSlice(tx, r)
		if err != nil {
			return err
		}
		rec, data = r, bytes.Clone(p)
		return nil
	})
	if err != nil {
		g.fail(c, "chunk", err)
		return
	}
	if rec == nil {
		jsonError(c, http.StatusNotFound, "not found")
		return
	}
	g.chunkCache.mu.Lock()
	chunks := g.chunkCache.chunks
	if g.chunkCache.id != rec.ID || chunks == nil {
		ch, err := utils.GenerateChunks(data)
		if err != nil {
			g.chunkCache.mu.Unlock()
			g.fail(c, "chunk", err)
			return
		}
		chunks = &ch
		g.chunkCache.id, g.chunkCache.chunks = rec.ID, chunks
	}
	g.chunkCache.mu.Unlock()
	rel := int(off - (rec.WeaveEnd - rec.DataSize))
	for i, ch := range chunks.Chunks {
		if rel >= ch.MinByteRange && rel < ch.MaxByteRange {
			out := gin.H{"chunk": b64(data[ch.MinByteRange:ch.MaxByteRange]), "tx_path": ""}
			if b64(chunks.DataRoot) == rec.DataRoot && i < len(chunks.Proofs) {
				out["data_path"] = b64(chunks.Proofs[i].Proof)
			} else {
				out["data_path"] = ""
			}
			c.JSON(http.StatusOK, out)
			return
		}
	}
	jsonError(c, http.StatusNotFound, "not found")
}

// --- blocks ---

func blockJSON(b *blockRec) gin.H {
	return gin.H{
		"indep_hash": b.ID, "height": b.Height, "timestamp": b.Timestamp, "previous_block": b.Previous,
		"txs": b.Txs, "nonce": "", "hash": b.ID,
	}
}

func (g *Gateway) blockByHeight(c *gin.Context) {
	h, err := strconv.ParseInt(c.Param("height"), 10, 64)
	if err != nil || h < 0 {
		jsonError(c, http.StatusBadRequest, "invalid height")
		return
	}
	var b *blockRec
	if err := g.db.View(func(tx *bbolt.Tx) error { b, err = getBlock(tx, h); return err }); err != nil {
		g.fail(c, "block", err)
		return
	}
	if b == nil {
		jsonError(c, http.StatusNotFound, "not found")
		return
	}
	c.JSON(http.StatusOK, blockJSON(b))
}

func (g *Gateway) blockByHash(c *gin.Context) {
	var b *blockRec
	var err error
	if err := g.db.View(func(tx *bbolt.Tx) error { b, err = getBlockByID(tx, c.Param("id")); return err }); err != nil {
		g.fail(c, "block", err)
		return
	}
	if b == nil {
		jsonError(c, http.StatusNotFound, "not found")
		return
	}
	c.JSON(http.StatusOK, blockJSON(b))
}

// --- data ---

func validID(id string) bool {
	if len(id) != 43 {
		return false
	}
	b, err := unb64(id)
	return err == nil && len(b) == 32
}

// raw serves the payload of an L1 transaction or a data item (GET/HEAD /{id} and /raw/{id}), with Range support.
func (g *Gateway) raw(c *gin.Context) {
	id := c.Param("id")
	if !validID(id) {
		jsonError(c, http.StatusNotFound, "not found")
		return
	}
	data, ct, ok, err := g.Data(id)
	if err != nil {
		g.fail(c, "data", err)
		return
	}
	if !ok {
		jsonError(c, http.StatusNotFound, "not found")
		return
	}
	h := c.Writer.Header()
	h.Set("Content-Type", ct)
	h.Set("Cache-Control", "public, max-age=2592000, immutable")
	http.ServeContent(c.Writer, c.Request, "", time.Time{}, bytes.NewReader(data))
}

// --- graphql ---

type gqlRequest struct {
	Query         string         `json:"query"`
	OperationName string         `json:"operationName"`
	Variables     map[string]any `json:"variables"`
}

func (g *Gateway) graphqlHTTP(c *gin.Context) {
	var req gqlRequest
	if c.Request.Method == http.MethodGet {
		req.Query = c.Query("query")
		req.OperationName = c.Query("operationName")
		if v := c.Query("variables"); v != "" {
			if err := json.Unmarshal([]byte(v), &req.Variables); err != nil {
				jsonError(c, http.StatusBadRequest, "invalid variables: "+err.Error())
				return
			}
		}
	} else {
		body, err := readBody(c)
		if err != nil {
			g.fail(c, "graphql", err)
			return
		}
		if err := json.Unmarshal(body, &req); err != nil {
			jsonError(c, http.StatusBadRequest, "invalid GraphQL request: "+err.Error())
			return
		}
	}
	if strings.TrimSpace(req.Query) == "" {
		jsonError(c, http.StatusBadRequest, "missing query")
		return
	}
	res := g.schema.Exec(c.Request.Context(), req.Query, req.OperationName, req.Variables)
	status := http.StatusOK
	if len(res.Errors) > 0 && (len(res.Data) == 0 || string(res.Data) == "null") {
		requestLevel := true
		for _, e := range res.Errors {
			if len(e.Path) > 0 {
				requestLevel = false
			}
		}
		if requestLevel {
			status = http.StatusBadRequest // parse or validation error, as Apollo answers
		}
	}
	out, err := json.Marshal(res)
	if err != nil {
		g.fail(c, "graphql", err)
		return
	}
	c.Data(status, "application/json; charset=utf-8", out)
}
