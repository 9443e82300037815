package main

import (
	"context"
	"fmt"

	"github.com/ethpandaops/dispatchoor/core"
	"github.com/ethpandaops/dispatchoor/metrics"
	"github.com/ethpandaops/dispatchoor/store"
)

// observeFleet registers the scrape-time metrics that read the database or
// the leader lock: per-group runner states, the oldest pending job's age,
// whether this replica leads, and one build_info per replica.
func observeFleet(m *metrics.Metrics, st *store.Store, isLeader func() bool) {
	m.BuildInfo(buildVersion())
	m.LeaderWith(isLeader)
	m.ReadFleetWith(fleetReader(st))
}

// fleetReader counts each group's runners the way GET
// /api/v1/groups/{id}/runners lists them (every group label, matched as
// GitHub does) and reads each group's oldest pending job.
func fleetReader(st *store.Store) metrics.FleetReader {
	return func(ctx context.Context) ([]metrics.GroupFleet, error) {
		groups, err := st.ListGroups(ctx)
		if err != nil {
			return nil, fmt.Errorf("list groups for the fleet gauges: %w", err)
		}
		runners, err := st.ListRunners(ctx, store.RunnerFilter{})
		if err != nil {
			return nil, fmt.Errorf("list runners for the fleet gauges: %w", err)
		}
		ids := make([]string, len(groups))
		for i, g := range groups {
			ids[i] = g.ID
		}
		oldest, err := st.OldestPending(ctx, ids)
		if err != nil {
			return nil, err
		}
		out := make([]metrics.GroupFleet, len(groups))
		for i, g := range groups {
			f := metrics.GroupFleet{Group: g.ID, OldestPending: oldest[g.ID]}
			for _, r := range runners {
				if !core.HasLabels(r.Labels, g.RunnerLabels) {
					continue
				}
				switch {
				case r.Status != core.RunnerOnline:
					f.Offline++
				case r.Busy:
					f.Busy++
				default:
					f.Idle++
				}
			}
			out[i] = f
		}
		return out, nil
	}
}
