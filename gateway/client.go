// Package gateway is the Arweave gateway client the node uses: GraphQL (with variables, error reporting,
// rate-limit handling and cursor paging), raw payloads by id, and network info.
//
// It works against arweave.net, ar.io gateways, arlocal and the node's embedded gateway
// (package gateway/embedded). It deliberately does not use goar's Client.GraphQL (which drops GraphQL
// errors) nor Client.GetTransactionData (which returns base64url text or raw bytes depending on the path).
package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Defaults used by NewClient.
const (
	DefaultTimeout    = 30 * time.Second
	DefaultMaxRetries = 4
	defaultBackoff    = 500 * time.Millisecond
	maxBackoff        = 30 * time.Second
	maxGraphQLBody    = 64 << 20
)

// Client talks to one Arweave gateway. It is safe for concurrent use.
type Client struct {
	base       string
	hc         *http.Client
	timeout    time.Duration
	maxRetries int
	backoff    time.Duration
	userAgent  string
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient sets the HTTP client (default: a private client with no global timeout; every request is
// bounded by the per-request timeout instead).
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) {
		if hc != nil {
			c.hc = hc
		}
	}
}

// WithTimeout bounds every request attempt, including reading the body (default 30 s). d <= 0 keeps the default.
func WithTimeout(d time.Duration) Option {
	return func(c *Client) {
		if d > 0 {
			c.timeout = d
		}
	}
}

// WithMaxRetries sets how many times a rate-limited (429) or temporarily failing (502/503/504, network error)
// request is retried (default 4; 0 disables retries).
func WithMaxRetries(n int) Option {
	return func(c *Client) {
		if n >= 0 {
			c.maxRetries = n
		}
	}
}

// WithBackoff sets the first retry delay when the gateway gives no Retry-After (default 500 ms, doubling,
// capped at 30 s).
func WithBackoff(d time.Duration) Option {
	return func(c *Client) {
		if d > 0 {
			c.backoff = d
		}
	}
}

// NewClient returns a client for the gateway at baseURL (e.g. "https://arweave.net", "http://localhost:4000").
func NewClient(baseURL string, opts ...Option) *Client {
	c := &Client{
		base:       strings.TrimRight(strings.TrimSpace(baseURL), "/"),
		hc:         &http.Client{},
		timeout:    DefaultTimeout,
		maxRetries: DefaultMaxRetries,
		backoff:    defaultBackoff,
		userAgent:  "aonode-gateway-client/1",
	}
	for _, o := range opts {
		o(c)
	}
	return c
}

// URL returns the gateway base URL (without a trailing slash).
func (c *Client) URL() string { return c.base }

// Info is the part of GET /info the node uses.
type Info struct {
	Network string `json:"network"`
	Height  int64  `json:"height"`
	Current string `json:"current"`
	Blocks  int64  `json:"blocks"`
}

// Info returns the gateway's network info (GET /info).
func (c *Client) Info(ctx context.Context) (Info, error) {
	var info Info
	body, _, err := c.get(ctx, "/info")
	if err != nil {
		return info, fmt.Errorf("gateway info: %w", err)
	}
	if err := json.Unmarshal(body, &info); err != nil {
		return info, fmt.Errorf("gateway info: decode %q: %w", snippet(body), err)
	}
	return info, nil
}

// Data returns the raw payload of an L1 transaction or a data item (GET /{id}) and its Content-Type.
// It returns an error wrapping ErrNotFound when the gateway answers 404.
func (c *Client) Data(ctx context.Context, id string) ([]byte, string, error) {
	if id == "" || strings.ContainsAny(id, "/?#") {
		return nil, "", fmt.Errorf("gateway data %q: invalid id", id)
	}
	body, hdr, err := c.get(ctx, "/"+url.PathEscape(id))
	if err != nil {
		return nil, "", fmt.Errorf("gateway data %s: %w", id, err)
	}
	return body, hdr.Get("Content-Type"), nil
}

// GraphQL posts {"query","variables"} to /graphql and decodes the "data" member into out (which may be nil).
// A non-2xx answer, a body that is not a GraphQL response, or a non-empty "errors" member is an error; a 429 is
// retried with backoff (honouring Retry-After) up to the configured retry limit.
func (c *Client) GraphQL(ctx context.Context, query string, vars map[string]any, out any) error {
	if err := c.graphql(ctx, query, vars, out); err != nil {
		return fmt.Errorf("gateway graphql: %w", err)
	}
	return nil
}

func (c *Client) graphql(ctx context.Context, query string, vars map[string]any, out any) error {
	req := struct {
		Query     string         `json:"query"`
		Variables map[string]any `json:"variables,omitempty"`
	}{query, vars}
	payload, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("encode request: %w", err)
	}
	body, _, err := c.do(ctx, http.MethodPost, "/graphql", payload, maxGraphQLBody)
	if err != nil {
		var he *HTTPError
		if errors.As(err, &he) {
			he.notFound = false // a missing /graphql endpoint says nothing about the transaction asked for
		}
		return err
	}
	var res struct {
		Data   json.RawMessage `json:"data"`
		Errors []GraphQLError  `json:"errors"`
	}
	if err := json.Unmarshal(body, &res); err != nil {
		return fmt.Errorf("decode response %q: %w", snippet(body), err)
	}
	if len(res.Errors) > 0 {
		return &GraphQLErrors{Errors: res.Errors}
	}
	if len(res.Data) == 0 || string(res.Data) == "null" {
		return fmt.Errorf("response without data: %q", snippet(body))
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(res.Data, out); err != nil {
		return fmt.Errorf("decode data: %w", err)
	}
	return nil
}

func (c *Client) get(ctx context.Context, path string) ([]byte, http.Header, error) {
	return c.do(ctx, http.MethodGet, path, nil, -1)
}

// do runs one request with retries. limit < 0 means no body size limit.
func (c *Client) do(ctx context.Context, method, path string, payload []byte, limit int64) ([]byte, http.Header, error) {
	var lastErr error
	for attempt := 0; ; attempt++ {
		body, hdr, status, err := c.once(ctx, method, path, payload, limit)
		if err == nil && status/100 == 2 {
			return body, hdr, nil
		}
		if ctx.Err() != nil {
			if err == nil {
				err = ctx.Err()
			}
			return nil, nil, err
		}
		wait := time.Duration(-1)
		retry := false
		switch {
		case err != nil:
			lastErr = err
			retry = isTemporary(err)
		case status == http.StatusNotFound:
			return nil, nil, &HTTPError{Method: method, URL: c.base + path, StatusCode: status, Body: snippet(body), notFound: true}
		default:
			lastErr = &HTTPError{Method: method, URL: c.base + path, StatusCode: status, Body: snippet(body)}
			switch status {
			case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
				retry = true
				wait = retryAfter(hdr.Get("Retry-After"))
			}
		}
		if !retry || attempt >= c.maxRetries {
			if retry && attempt > 0 {
				return nil, nil, fmt.Errorf("giving up after %d attempts: %w", attempt+1, lastErr)
			}
			return nil, nil, lastErr
		}
		if wait < 0 {
			wait = c.backoffFor(attempt)
		}
		if wait > maxBackoff {
			wait = maxBackoff
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, nil, fmt.Errorf("%w (while waiting to retry after: %v)", ctx.Err(), lastErr)
		case <-t.C:
		}
	}
}

func (c *Client) backoffFor(attempt int) time.Duration {
	d := c.backoff << min(attempt, 16)
	if d <= 0 || d > maxBackoff {
		d = maxBackoff
	}
	// up to 20% jitter so parallel clients do not retry in lockstep
	return d - time.Duration(rand.Int64N(int64(d)/5+1))
}

func (c *Client) once(ctx context.Context, method, path string, payload []byte, limit int64) ([]byte, http.Header, int, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var rd io.Reader
	if payload != nil {
		rd = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return nil, nil, 0, err
	}
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json")
	}
	req.Header.Set("User-Agent", c.userAgent)
	res, err := c.hc.Do(req)
	if err != nil {
		return nil, nil, 0, err
	}
	defer res.Body.Close()
	var r io.Reader = res.Body
	if limit >= 0 {
		r = io.LimitReader(res.Body, limit+1)
	}
	body, err := io.ReadAll(r)
	if err != nil {
		return nil, nil, res.StatusCode, fmt.Errorf("read %s %s: %w", method, path, err)
	}
	if limit >= 0 && int64(len(body)) > limit {
		return nil, nil, res.StatusCode, fmt.Errorf("%s %s: response larger than %d bytes", method, path, limit)
	}
	return body, res.Header, res.StatusCode, nil
}

// retryAfter parses a Retry-After header (seconds or HTTP date); -1 when absent or unparsable.
func retryAfter(v string) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return -1
	}
	if s, err := strconv.Atoi(v); err == nil {
		if s < 0 {
			return -1
		}
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		d := time.Until(t)
		if d < 0 {
			d = 0
		}
		return d
	}
	return -1
}

func isTemporary(err error) bool {
	if errors.Is(err, context.Canceled) {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return true // the per-attempt timeout fired; the caller's ctx is checked separately
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return true
	}
	return errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)
}

func snippet(b []byte) string {
	const n = 512
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}
