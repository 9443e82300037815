package metrics

import (
	"maps"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

const namespace = "dispatchoor"

// Metrics holds every metric. A nil *Metrics is valid and records nothing,
// so a component built without metrics needs no nil checks.
type Metrics struct {
	reg *prometheus.Registry

	jobsCreated     *prometheus.CounterVec
	jobsCompleted   *prometheus.CounterVec
	jobsFailed      *prometheus.CounterVec
	jobsCancelled   *prometheus.CounterVec
	queueSize       *prometheus.GaugeVec
	runnersOnline   prometheus.Gauge
	runnersBusy     prometheus.Gauge
	runnersIdle     prometheus.Gauge
	cycles          prometheus.Counter
	dispatches      *prometheus.CounterVec
	dispatchLatency prometheus.Histogram
	jobWait         prometheus.Histogram
	jobRun          prometheus.Histogram
	lastWebhook     prometheus.Gauge
	webhooks        *prometheus.CounterVec
	githubRequests  *prometheus.CounterVec
	rateLimit       *prometheus.GaugeVec
	labelMismatches *prometheus.CounterVec
	httpRequests    *prometheus.CounterVec
	wsClients       prometheus.Gauge
	wsDropped       prometheus.Counter
	startTimeouts   *prometheus.CounterVec
	reconciles      *prometheus.CounterVec
	redeliveries    *prometheus.CounterVec
	eventsDropped   *prometheus.CounterVec
	pacer           *pacer

	// remaining mirrors the rate-limit gauge for /status.
	mu        sync.Mutex
	remaining map[int64]int
}

// New registers every metric on a fresh registry, together with the Go
// runtime and process collectors.
func New() *Metrics {
	reg := prometheus.NewRegistry()
	counterVec := func(name, help string, labels ...string) *prometheus.CounterVec {
		c := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: name, Help: help}, labels)
		reg.MustRegister(c)
		return c
	}
	gauge := func(name, help string) prometheus.Gauge {
		g := prometheus.NewGauge(prometheus.GaugeOpts{Namespace: namespace, Name: name, Help: help})
		reg.MustRegister(g)
		return g
	}
	histogram := func(name, help string, buckets []float64) prometheus.Histogram {
		h := prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: namespace, Name: name, Help: help, Buckets: buckets})
		reg.MustRegister(h)
		return h
	}
	m := &Metrics{reg: reg, remaining: map[int64]int{}}
	m.jobsCreated = counterVec("jobs_created_total", "Jobs entered into a queue.", "group")
	m.jobsCompleted = counterVec("jobs_completed_total", "Jobs that ended completed.", "group")
	m.jobsFailed = counterVec("jobs_failed_total", "Jobs that ended failed.", "group")
	m.jobsCancelled = counterVec("jobs_cancelled_total", "Jobs that ended cancelled.", "group")
	m.queueSize = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: namespace, Name: "queue_size", Help: "Live jobs per group and status.",
	}, []string{"group", "status"})
	reg.MustRegister(m.queueSize)
	m.runnersOnline = gauge("runners_online", "Self-hosted runners GitHub reports online.")
	m.runnersBusy = gauge("runners_busy", "Online runners running a job.")
	m.runnersIdle = gauge("runners_idle", "Online runners free for a job.")
	m.cycles = prometheus.NewCounter(prometheus.CounterOpts{Namespace: namespace, Name: "dispatcher_cycles_total", Help: "Dispatcher passes over the groups."})
	reg.MustRegister(m.cycles)
	m.dispatches = counterVec("dispatches_total", "Workflow dispatch attempts by outcome (ok, transient, permanent, ...).", "group", "outcome")
	// Dispatch latency targets tens of milliseconds (docs/ARCHITECTURE.md, Dispatch protocol); job
	// wait spans seconds to hours.
	m.dispatchLatency = histogram("dispatch_latency_seconds", "Capacity appeared to dispatch request sent.",
		[]float64{.001, .0025, .005, .01, .02, .05, .1, .25, .5, 1, 2.5, 5, 10})
	m.jobWait = histogram("job_wait_seconds", "Job enqueued to job started on a runner.",
		prometheus.ExponentialBuckets(1, 2.5, 14))
	// CI jobs run from about a minute to most of a day.
	m.jobRun = histogram("job_run_seconds", "Job started on a runner to job finished.",
		[]float64{30, 60, 120, 300, 600, 900, 1800, 2700, 3600, 5400, 7200, 14400, 28800, 57600, 86400})
	m.lastWebhook = gauge("last_webhook_timestamp_seconds", "Unix time of the last webhook delivery this replica received.")
	m.webhooks = counterVec("webhook_deliveries_total", "Webhook deliveries by event and outcome.", "event", "outcome")
	m.githubRequests = counterVec("github_api_requests_total", "GitHub API requests by endpoint and status code.", "endpoint", "code")
	m.rateLimit = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: namespace, Name: "github_rate_limit_remaining", Help: "Remaining GitHub API requests per installation.",
	}, []string{"installation"})
	reg.MustRegister(m.rateLimit)
	m.labelMismatches = counterVec("label_mismatch_total", "Runs whose runs-on labels no runner of the group carries.", "group", "template")
	m.httpRequests = counterVec("http_requests_total", "HTTP API requests by route and status code.", "route", "code")
	m.wsClients = gauge("websocket_clients", "Connected WebSocket clients.")
	m.wsDropped = prometheus.NewCounter(prometheus.CounterOpts{Namespace: namespace, Name: "websocket_dropped_total", Help: "WebSocket clients dropped for not reading fast enough."})
	reg.MustRegister(m.wsDropped)
	m.startTimeouts = counterVec("start_timeouts_total", "Triggered runs that did not start within start_timeout.", "group")
	m.reconciles = counterVec("reconciles_total", "Runner scope re-listings by outcome (ok, error).", "scope", "outcome")
	m.redeliveries = counterVec("webhook_redeliveries_total", "Failed webhook deliveries asked to be sent again.", "event")
	m.eventsDropped = counterVec("replica_events_dropped_total", "Events not published to other replicas because the publishing queue was full.", "kind")
	m.pacer = newPacerMetrics(reg)
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// BuildInfo registers dispatchoor_build_info{version} = 1; counted over
// replicas it is the number of replicas Prometheus sees.
func (m *Metrics) BuildInfo(version string) {
	if m == nil {
		return
	}
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: namespace, Name: "build_info", Help: "1 per running replica, labelled with its version.",
		ConstLabels: prometheus.Labels{"version": version},
	})
	g.Set(1)
	m.reg.MustRegister(g)
}

// Registry is where the metrics live (for tests and extra collectors).
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// JobCreated counts a job entering a group's queue (any source, requeues too).
func (m *Metrics) JobCreated(group string) {
	if m == nil {
		return
	}
	m.jobsCreated.WithLabelValues(group).Inc()
}

// JobFinished counts a job reaching a terminal status; other statuses are
// ignored so callers can pass every transition.
func (m *Metrics) JobFinished(group, status string) {
	if m == nil {
		return
	}
	switch status {
	case "completed":
		m.jobsCompleted.WithLabelValues(group).Inc()
	case "failed":
		m.jobsFailed.WithLabelValues(group).Inc()
	case "cancelled":
		m.jobsCancelled.WithLabelValues(group).Inc()
	}
}

// QueueSize sets the number of live jobs of a group in one status.
func (m *Metrics) QueueSize(group, status string, n int) {
	if m == nil {
		return
	}
	m.queueSize.WithLabelValues(group, status).Set(float64(n))
}

// Runners sets the fleet gauges.
func (m *Metrics) Runners(online, busy, idle int) {
	if m == nil {
		return
	}
	m.runnersOnline.Set(float64(online))
	m.runnersBusy.Set(float64(busy))
	m.runnersIdle.Set(float64(idle))
}

// DispatcherCycle counts one dispatcher pass.
func (m *Metrics) DispatcherCycle() {
	if m == nil {
		return
	}
	m.cycles.Inc()
}

// Dispatch counts one dispatch attempt of a group by outcome.
func (m *Metrics) Dispatch(group, outcome string) {
	if m == nil {
		return
	}
	m.dispatches.WithLabelValues(group, outcome).Inc()
}

// DispatchLatency observes capacity appeared → dispatch request sent. The
// group is accepted for dispatcher.Metrics but not a label: the design has
// one fleet-wide latency histogram.
func (m *Metrics) DispatchLatency(_ string, d time.Duration) {
	if m == nil {
		return
	}
	m.dispatchLatency.Observe(d.Seconds())
}

// JobWait observes enqueued → started.
func (m *Metrics) JobWait(d time.Duration) {
	if m == nil {
		return
	}
	m.jobWait.Observe(d.Seconds())
}

// JobRun observes started → finished of a job that ran.
func (m *Metrics) JobRun(d time.Duration) {
	if m == nil {
		return
	}
	m.jobRun.Observe(d.Seconds())
}

// WebhookDelivery counts one webhook delivery by event and outcome and notes
// when the last one arrived, so silence can be alerted on.
func (m *Metrics) WebhookDelivery(event, outcome string) {
	if m == nil {
		return
	}
	m.webhooks.WithLabelValues(event, outcome).Inc()
	m.lastWebhook.SetToCurrentTime()
}

// GitHubRequest counts one GitHub API request. endpoint should be a route
// template ("GET /repos/{owner}/{repo}/..."), never a raw URL, to keep the
// label set bounded.
func (m *Metrics) GitHubRequest(endpoint string, code int) {
	if m == nil {
		return
	}
	m.githubRequests.WithLabelValues(endpoint, strconv.Itoa(code)).Inc()
}

// RateLimitRemaining sets an installation's remaining GitHub API budget.
func (m *Metrics) RateLimitRemaining(installation int64, n int) {
	if m == nil {
		return
	}
	m.rateLimit.WithLabelValues(strconv.FormatInt(installation, 10)).Set(float64(n))
	m.mu.Lock()
	m.remaining[installation] = n
	m.mu.Unlock()
}

// RateLimits returns the last remaining budget seen per installation (for
// /status).
func (m *Metrics) RateLimits() map[int64]int {
	if m == nil {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return maps.Clone(m.remaining)
}

// LabelMismatch counts a run whose runs-on labels the group's runners lack.
func (m *Metrics) LabelMismatch(group, template string) {
	if m == nil {
		return
	}
	m.labelMismatches.WithLabelValues(group, template).Inc()
}

// HTTPRequest counts one API request by route pattern (bounded) and code.
func (m *Metrics) HTTPRequest(route string, code int) {
	if m == nil {
		return
	}
	m.httpRequests.WithLabelValues(route, strconv.Itoa(code)).Inc()
}

// WebSocketClients sets the number of connected WebSocket clients.
func (m *Metrics) WebSocketClients(n int) {
	if m == nil {
		return
	}
	m.wsClients.Set(float64(n))
}

// WebSocketDropped counts a slow WebSocket client that was disconnected.
func (m *Metrics) WebSocketDropped() {
	if m == nil {
		return
	}
	m.wsDropped.Inc()
}

// ReplicaEventDropped counts an event of kind (a notify kind: job, queue,
// group, runner, wake) that was not published to other replicas.
func (m *Metrics) ReplicaEventDropped(kind string) {
	if m == nil {
		return
	}
	m.eventsDropped.WithLabelValues(kind).Inc()
}

// The methods below satisfy dispatcher.Metrics and handlers.Metrics as
// declared in those packages (metrics imports neither).

// CycleDone counts one dispatcher pass.
func (m *Metrics) CycleDone(time.Duration) { m.DispatcherCycle() }

// Dispatched counts one dispatch attempt of a group by outcome.
func (m *Metrics) Dispatched(group, outcome string) { m.Dispatch(group, outcome) }

// StartTimedOut counts a triggered run that never started in time.
func (m *Metrics) StartTimedOut(group string) {
	if m == nil {
		return
	}
	m.startTimeouts.WithLabelValues(group).Inc()
}

// Reconciled counts one re-listing of a runner scope.
func (m *Metrics) Reconciled(scope string, err error) {
	if m == nil {
		return
	}
	outcome := "ok"
	if err != nil {
		outcome = "error"
	}
	m.reconciles.WithLabelValues(scope, outcome).Inc()
}

// Redelivered counts a failed webhook delivery sent again.
func (m *Metrics) Redelivered(event string) {
	if m == nil {
		return
	}
	m.redeliveries.WithLabelValues(event).Inc()
}

// Delivery counts one webhook delivery (handlers.Metrics).
func (m *Metrics) Delivery(event, outcome string) { m.WebhookDelivery(event, outcome) }
