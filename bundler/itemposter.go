package bundler

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// ItemOptions tune an ItemPoster. The zero value is the default.
type ItemOptions struct {
	// Timeout bounds each request attempt, body included (default 30 s).
	Timeout time.Duration
	// Path is appended to the bundler URL (default "/tx/arweave", the endpoint Turbo and the reference units use).
	Path string
	// Attempts is how many times one item is sent before its batch fails (default 5).
	Attempts int
	// Backoff is the first retry delay when the bundler gives no Retry-After (default 500 ms, doubling, capped
	// at 10 s).
	Backoff time.Duration
	Logger  *slog.Logger
	// Client sends the requests (default: a private client without a global timeout; Timeout applies instead).
	Client *http.Client
}

// ItemPoster posts signed data items one by one to a bundler service (Turbo, or any service with the same
// POST /tx/arweave contract), which bundles them onto Arweave itself.
type ItemPoster struct {
	endpoint string
	timeout  time.Duration
	attempts int
	backoff  time.Duration
	httpc    *http.Client
	log      *slog.Logger
}

const (
	maxItemBackoff = 10 * time.Second
	// maxRetryAfter is the longest Retry-After waited for inside Post; beyond it the batch fails and the
	// upload worker's own backoff takes over, so a long pause does not hold the worker.
	maxRetryAfter    = 30 * time.Second
	maxResponseBytes = 1 << 20
	maxErrorMessage  = 300
)

// NewItemPoster builds a poster for the bundler at rawURL (for example https://upload.ardrive.io).
func NewItemPoster(rawURL string, o ItemOptions) (*ItemPoster, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("item poster: bundler url: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("item poster: bundler url %q: want http(s)://host[/prefix]", rawURL)
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	if o.Path == "" {
		o.Path = "/tx/arweave"
	}
	if !strings.HasPrefix(o.Path, "/") {
		o.Path = "/" + o.Path
	}
	if o.Attempts <= 0 {
		o.Attempts = 5
	}
	if o.Backoff <= 0 {
		o.Backoff = 500 * time.Millisecond
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Client == nil {
		o.Client = &http.Client{}
	}
	return &ItemPoster{
		endpoint: strings.TrimRight(rawURL, "/") + o.Path, timeout: o.Timeout, attempts: o.Attempts,
		backoff: o.Backoff, httpc: o.Client, log: o.Logger.With("bundler", u.Host),
	}, nil
}

// Post sends the items in order and returns the id the bundler gave the last one. It stops at the first item
// that fails; the batch can then be posted again whole, since an item the bundler already holds counts as
// accepted.
func (p *ItemPoster) Post(ctx context.Context, raws [][]byte) (string, error) {
	if len(raws) == 0 {
		return "", errors.New("post items: no items")
	}
	// Decode everything first, so a malformed item fails the batch before any of it is sent.
	ids := make([]string, len(raws))
	for i, raw := range raws {
		bi, err := decode(raw)
		if err != nil {
			return "", fmt.Errorf("post items: item %d of %d: %w", i+1, len(raws), err)
		}
		ids[i] = bi.Id
	}
	var ref string
	for i, raw := range raws {
		id, err := p.postItem(ctx, raw, ids[i])
		if err != nil {
			return "", fmt.Errorf("post items: item %d of %d (%s): %w", i+1, len(raws), ids[i], err)
		}
		ref = id
	}
	return ref, nil
}

// postItem sends one item, retrying while the bundler is overloaded or unreachable.
func (p *ItemPoster) postItem(ctx context.Context, raw []byte, id string) (string, error) {
	delay := p.backoff
	for attempt := 1; ; attempt++ {
		got, wait, err := p.send(ctx, raw, id)
		if err == nil {
			p.log.Debug("item posted", "id", got, "attempt", attempt)
			return got, nil
		}
		var re *retryableError
		if !errors.As(err, &re) {
			return "", err
		}
		if attempt >= p.attempts {
			return "", fmt.Errorf("%w (gave up after %d attempts)", err, attempt)
		}
		if wait > maxRetryAfter {
			return "", fmt.Errorf("%w (bundler asks to wait %s)", err, wait)
		}
		wait = max(wait, delay)
		delay = min(delay*2, maxItemBackoff)
		p.log.Warn("bundler post failed; retrying", "id", id, "attempt", attempt, "in", wait, "err", err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return "", fmt.Errorf("waiting to retry: %w (last error: %v)", ctx.Err(), err)
		case <-t.C:
		}
	}
}

// retryableError marks a failure worth another attempt: overload (429, 5xx) or a failed connection.
type retryableError struct{ err error }

func (e *retryableError) Error() string { return e.err.Error() }
func (e *retryableError) Unwrap() error { return e.err }

// send makes one attempt. It returns the accepted id, or the error and how long the bundler asked to wait.
func (p *ItemPoster) send(ctx context.Context, raw []byte, id string) (string, time.Duration, error) {
	rctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, p.endpoint, bytes.NewReader(raw))
	if err != nil {
		return "", 0, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set("Accept", "application/json")
	res, err := p.httpc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return "", 0, fmt.Errorf("POST %s: %w", p.endpoint, ctx.Err())
		}
		return "", 0, &retryableError{fmt.Errorf("POST %s: %w", p.endpoint, err)}
	}
	defer res.Body.Close()
	body, rerr := io.ReadAll(io.LimitReader(res.Body, maxResponseBytes))
	switch code := res.StatusCode; {
	case code/100 == 2, code == http.StatusConflict:
		// 409 is how bundlers answer an item they already hold: it was accepted by an earlier attempt.
		// A 2xx whose body was cut off still means accepted, so the local id stands in.
		got := id
		if rerr == nil {
			if v := responseID(body); v != "" {
				got = v
			}
		}
		if got != id {
			return "", 0, fmt.Errorf("bundler answered id %s for item %s", got, id)
		}
		return got, 0, nil
	case code == http.StatusTooManyRequests, code >= 500:
		return "", retryAfter(res.Header.Get("Retry-After")), &retryableError{statusErr(res, body)}
	default:
		return "", 0, statusErr(res, body)
	}
}

// responseID is the "id" of a JSON answer, or "" when the body is not one.
func responseID(body []byte) string {
	var v struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(body, &v) != nil {
		return ""
	}
	return v.ID
}

func statusErr(res *http.Response, body []byte) error {
	return fmt.Errorf("bundler answered %s: %s", res.Status, errorMessage(body))
}

// errorMessage extracts a readable message from an error body: the JSON error/message field or the text itself,
// shortened so a stray HTML page does not flood the logs.
func errorMessage(body []byte) string {
	var v struct {
		Error   any    `json:"error"`
		Message string `json:"message"`
	}
	msg := strings.TrimSpace(string(body))
	if json.Unmarshal(body, &v) == nil {
		if s, ok := v.Error.(string); ok && s != "" {
			msg = s
		} else if v.Message != "" {
			msg = v.Message
		}
	}
	if msg == "" {
		return "(empty body)"
	}
	if len(msg) > maxErrorMessage {
		cut := maxErrorMessage
		for cut > 0 && !utf8.RuneStart(msg[cut]) {
			cut--
		}
		msg = msg[:cut] + "…"
	}
	return msg
}

// retryAfter parses a Retry-After header (seconds or an HTTP date); 0 when absent or unreadable.
func retryAfter(v string) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil {
		return time.Duration(min(max(s, 0), 1<<24)) * time.Second // bounded so the product cannot overflow
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0)
	}
	return 0
}
