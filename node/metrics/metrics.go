// Package metrics holds aonode's Prometheus metrics: HTTP traffic per unit, the upload pipeline, and the
// upload queue's size by status (read from the store when scraped).
package metrics

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics is one node's registry. It is not the global registry, so several nodes in one test binary do not
// collide.
type Metrics struct {
	reg       *prometheus.Registry
	requests  *prometheus.CounterVec
	latency   *prometheus.HistogramVec
	posted    prometheus.Counter
	postedB   prometheus.Counter
	posts     prometheus.Counter
	failures  prometheus.Counter
	confirmed prometheus.Counter
	requeued  prometheus.Counter
}

// QueueCounter reports a durable queue's rows by status (or kind).
type QueueCounter func(ctx context.Context) (map[string]int, error)

// New builds the registry; counts is read at every scrape.
func New(counts QueueCounter) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "aonode_http_requests_total", Help: "HTTP requests by unit, method, route and status code.",
	}, []string{"unit", "method", "route", "code"})
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "aonode_http_request_duration_seconds", Help: "HTTP request latency by unit and route.",
		Buckets: prometheus.ExponentialBuckets(0.0005, 2.5, 12),
	}, []string{"unit", "route"})
	m.posted = prometheus.NewCounter(prometheus.CounterOpts{Name: "aonode_upload_items_posted_total", Help: "Items accepted by the gateway or bundler."})
	m.postedB = prometheus.NewCounter(prometheus.CounterOpts{Name: "aonode_upload_bytes_posted_total", Help: "Item bytes accepted by the gateway or bundler."})
	m.posts = prometheus.NewCounter(prometheus.CounterOpts{Name: "aonode_upload_posts_total", Help: "Successful posts (bundles, or items to a bundler)."})
	m.failures = prometheus.NewCounter(prometheus.CounterOpts{Name: "aonode_upload_failures_total", Help: "Failed post attempts (retried)."})
	m.confirmed = prometheus.NewCounter(prometheus.CounterOpts{Name: "aonode_upload_items_confirmed_total", Help: "Items seen in a block."})
	m.requeued = prometheus.NewCounter(prometheus.CounterOpts{Name: "aonode_upload_items_requeued_total", Help: "Items queued again because their post never reached a block."})
	m.reg.MustRegister(m.requests, m.latency, m.posted, m.postedB, m.posts, m.failures, m.confirmed, m.requeued,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if counts != nil {
		m.Gauges("aonode_upload_queue_items", "Items in the durable upload queue by status.", "status", counts)
	}
	return m
}

// Gauges registers one gauge per key of what fn returns at every scrape, labelled label=key (counts a unit
// keeps in its store).
func (m *Metrics) Gauges(name, help, label string, fn QueueCounter) {
	m.reg.MustRegister(&queueCollector{counts: fn, desc: prometheus.NewDesc(name, help, []string{label}, nil)})
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Middleware counts a unit's requests by route pattern (not raw path, which would make one series per id).
func (m *Metrics) Middleware(unit string) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		route := c.FullPath()
		if route == "" {
			route = "unmatched"
		}
		m.requests.WithLabelValues(unit, c.Request.Method, route, strconv.Itoa(c.Writer.Status())).Inc()
		m.latency.WithLabelValues(unit, route).Observe(time.Since(start).Seconds())
	}
}

// Posted implements bundler.Metrics.
func (m *Metrics) Posted(items, bytes int) {
	m.posts.Inc()
	m.posted.Add(float64(items))
	m.postedB.Add(float64(bytes))
}

// Failed implements bundler.Metrics.
func (m *Metrics) Failed() { m.failures.Inc() }

// Confirmed implements bundler.Metrics.
func (m *Metrics) Confirmed(items int) { m.confirmed.Add(float64(items)) }

// Requeued implements bundler.Metrics.
func (m *Metrics) Requeued(items int) { m.requeued.Add(float64(items)) }

type queueCollector struct {
	counts QueueCounter
	desc   *prometheus.Desc
}

func (q *queueCollector) Describe(ch chan<- *prometheus.Desc) { ch <- q.desc }

func (q *queueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	counts, err := q.counts(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(q.desc, err)
		return
	}
	for status, n := range counts {
		ch <- prometheus.MustNewConstMetric(q.desc, prometheus.GaugeValue, float64(n), status)
	}
}

// Counter registers a counter whose value is read from fn at every scrape (counts kept by a unit itself).
func (m *Metrics) Counter(name, help string, fn func() float64) {
	m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, fn))
}

// Gauge registers a gauge with constant labels whose value is read from fn at every scrape.
func (m *Metrics) Gauge(name, help string, labels map[string]string, fn func() float64) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help, ConstLabels: labels}, fn))
}
