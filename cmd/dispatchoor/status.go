package main

import (
	"sync/atomic"
	"time"

	"github.com/ethpandaops/dispatchoor/dispatcher"
	"github.com/ethpandaops/dispatchoor/metrics"
	"github.com/ethpandaops/dispatchoor/server"
)

// dispatchStatus records what /status shows about the dispatcher, and passes
// the dispatcher's metrics on to Prometheus.
type dispatchStatus struct {
	*metrics.Metrics
	enabled   bool
	isLeader  func() bool
	lastCycle atomic.Pointer[time.Time]
}

var _ dispatcher.Metrics = (*dispatchStatus)(nil)

func (d *dispatchStatus) CycleDone(took time.Duration) {
	now := time.Now().UTC()
	d.lastCycle.Store(&now)
	d.Metrics.CycleDone(took)
}

func (d *dispatchStatus) DispatcherStatus() server.DispatcherStatus {
	s := server.DispatcherStatus{Enabled: d.enabled, LastCycle: d.lastCycle.Load()}
	if d.isLeader != nil {
		s.Leader = d.isLeader()
	}
	return s
}
