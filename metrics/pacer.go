package metrics

import (
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// pacerPriorities are the label values of the pacer's metrics, a fixed set.
var pacerPriorities = []string{"dispatch", "feedback", "background"}

// pacer holds the metrics of the GitHub request pacer.
type pacer struct {
	wait    *prometheus.HistogramVec
	blocks  prometheus.Counter
	waiting *prometheus.GaugeVec
	source  atomic.Pointer[func() map[string]int]
}

func newPacerMetrics(reg *prometheus.Registry) *pacer {
	p := &pacer{
		wait: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Name: "github_pacer_wait_seconds",
			Help:    "How long a GitHub request waited in the pacer for room under the secondary rate limits, by priority.",
			Buckets: []float64{.001, .01, .1, .5, 1, 2.5, 5, 10, 30, 60, 120, 300},
		}, []string{"priority"}),
		blocks: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Name: "github_secondary_limited_total",
			Help: "GitHub answers that were secondary-rate-limit refusals (the pacer then holds the installation for Retry-After).",
		}),
		waiting: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: namespace, Name: "github_pacer_waiting",
			Help: "GitHub requests waiting in the pacer now, by priority.",
		}, []string{"priority"}),
	}
	reg.MustRegister(p.wait, p.blocks, (*waitingCollector)(p))
	for _, prio := range pacerPriorities {
		p.wait.WithLabelValues(prio)
	}
	return p
}

// PacerRequest records one request that went through the pacer.
func (m *Metrics) PacerRequest(priority string, waited time.Duration, secondaryLimited bool) {
	if m == nil {
		return
	}
	m.pacer.wait.WithLabelValues(bounded(priority, pacerPriorities)).Observe(waited.Seconds())
	if secondaryLimited {
		m.pacer.blocks.Inc()
	}
}

// PacerWaiting sets where the waiting gauge reads from at scrape time.
func (m *Metrics) PacerWaiting(source func() map[string]int) {
	if m == nil {
		return
	}
	m.pacer.source.Store(&source)
}

// waitingCollector reads the waiting counts when Prometheus scrapes, so
// nothing has to keep the gauge up to date.
type waitingCollector pacer

func (c *waitingCollector) Describe(ch chan<- *prometheus.Desc) { c.waiting.Describe(ch) }

func (c *waitingCollector) Collect(ch chan<- prometheus.Metric) {
	p := (*pacer)(c)
	counts := map[string]int{}
	if src := p.source.Load(); src != nil {
		counts = (*src)()
	}
	for _, prio := range pacerPriorities {
		p.waiting.WithLabelValues(prio).Set(float64(counts[prio]))
	}
	p.waiting.Collect(ch)
}

// bounded returns v when it is one of allowed, else "other".
func bounded(v string, allowed []string) string {
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	return "other"
}
