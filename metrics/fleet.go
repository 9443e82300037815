package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// GroupFleet is one runner group as read at scrape time: its runners by
// state and when its oldest pending job was enqueued.
type GroupFleet struct {
	Group               string
	Busy, Idle, Offline int
	OldestPending       time.Time // zero when nothing is pending
}

// FleetReader reads every group's fleet; cmd builds it from the store, which
// this package must not import.
type FleetReader func(ctx context.Context) ([]GroupFleet, error)

// fleetTimeout bounds one scrape's database read: Prometheus' default scrape
// timeout is 10s, and a stale scrape is better than none.
const fleetTimeout = 3 * time.Second

var (
	groupRunnersDesc = prometheus.NewDesc(namespace+"_group_runners",
		"Runners that carry every label of a group, by state (busy, idle, offline).",
		[]string{"group", "state"}, nil)
	oldestPendingDesc = prometheus.NewDesc(namespace+"_oldest_pending_job_age_seconds",
		"Age of the group's oldest pending job; 0 when none is pending.",
		[]string{"group"}, nil)
)

// fleetCollector reads the groups at scrape time rather than tracking every
// change: the per-group runner states and the oldest pending job's age are
// cheap to read and would need every webhook to maintain otherwise
// (docs/ARCHITECTURE.md, "Runner state from webhooks").
type fleetCollector struct {
	read   FleetReader
	now    func() time.Time
	errors prometheus.Counter
}

func (c *fleetCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- groupRunnersDesc
	ch <- oldestPendingDesc
	c.errors.Describe(ch)
}

func (c *fleetCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), fleetTimeout)
	defer cancel()
	groups, err := c.read(ctx)
	if err != nil {
		c.errors.Inc()
	}
	ch <- c.errors
	now := c.now()
	for _, g := range groups {
		for _, s := range []struct {
			state string
			n     int
		}{{"busy", g.Busy}, {"idle", g.Idle}, {"offline", g.Offline}} {
			ch <- prometheus.MustNewConstMetric(groupRunnersDesc, prometheus.GaugeValue, float64(s.n), g.Group, s.state)
		}
		age := 0.0
		if !g.OldestPending.IsZero() {
			age = max(now.Sub(g.OldestPending).Seconds(), 0)
		}
		ch <- prometheus.MustNewConstMetric(oldestPendingDesc, prometheus.GaugeValue, age, g.Group)
	}
}

// ReadFleetWith registers the per-group fleet and queue-age gauges, read
// through read at every scrape. Call it once.
func (m *Metrics) ReadFleetWith(read FleetReader) {
	if m == nil || read == nil {
		return
	}
	m.reg.MustRegister(&fleetCollector{read: read, now: time.Now, errors: prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: namespace, Name: "fleet_read_errors_total", Help: "Scrape-time reads of the fleet and queue that failed.",
	})})
}

// LeaderWith registers dispatchoor_leader, 1 on the replica that holds the
// dispatcher's lock, read at scrape time. Summed over replicas it must be 1.
func (m *Metrics) LeaderWith(isLeader func() bool) {
	if m == nil || isLeader == nil {
		return
	}
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: namespace, Name: "leader", Help: "1 on the replica that runs the dispatcher (holds the leader lock), else 0.",
	}, func() float64 {
		if isLeader() {
			return 1
		}
		return 0
	}))
}
