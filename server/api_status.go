package server

import (
	"net/http"
	"runtime/debug"
	"sort"

	"github.com/ethpandaops/dispatchoor/store"
)

type statusResponse struct {
	Version       string               `json:"version"`
	GoVersion     string               `json:"go_version"`
	Database      databaseStatus       `json:"database"`
	Dispatcher    *DispatcherStatus    `json:"dispatcher"`
	Installations []installationStatus `json:"installations"`
	Queues        []queueStatus        `json:"queues"`
	WebSocket     int                  `json:"websocket_clients"`
}

type databaseStatus struct {
	Driver string `json:"driver"`
	OK     bool   `json:"ok"`
	Error  string `json:"error,omitempty"`
}

type installationStatus struct {
	ID                 int64  `json:"id"`
	Account            string `json:"account"`
	Active             bool   `json:"active"`
	RateLimitRemaining *int   `json:"rate_limit_remaining"`
}

type queueStatus struct {
	GroupID string `json:"group_id"`
	Status  string `json:"status"`
	Count   int    `json:"count"`
	Paused  int    `json:"paused"`
}

// version is what cmd passed, or the module version from the build info.
func (s *Server) version() (string, string) {
	bi, ok := debug.ReadBuildInfo()
	gov, v := "", s.opts.Version
	if ok {
		gov = bi.GoVersion
		if v == "" {
			v = bi.Main.Version
		}
	}
	return v, gov
}

func (s *Server) status(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	out := statusResponse{Installations: []installationStatus{}, Queues: []queueStatus{}, WebSocket: s.hub.Clients()}
	out.Version, out.GoVersion = s.version()
	out.Database = databaseStatus{Driver: string(s.store.Driver()), OK: true}
	if err := s.store.Ping(ctx); err != nil {
		out.Database.OK, out.Database.Error = false, "database unreachable"
		s.log.Warn().Err(err).Msg("status: database unreachable")
	}
	if s.opts.Status != nil {
		ds := s.opts.Status.DispatcherStatus()
		out.Dispatcher = &ds
	}
	if out.Database.OK {
		var remaining map[int64]int
		switch {
		case s.opts.RateLimits != nil:
			remaining = s.opts.RateLimits.RateLimits()
		case s.metrics != nil:
			remaining = s.metrics.RateLimits()
		}
		ins, err := s.store.ListInstallations(ctx)
		if err != nil {
			return err
		}
		for _, in := range ins {
			if in.Deleted {
				continue
			}
			st := installationStatus{ID: in.ID, Account: in.AccountLogin, Active: in.Active()}
			if n, ok := remaining[in.ID]; ok {
				st.RateLimitRemaining = &n
			}
			out.Installations = append(out.Installations, st)
		}
		counts, err := s.store.QueueCounts(ctx)
		if err != nil {
			return err
		}
		out.Queues = queueStatuses(counts)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func queueStatuses(counts []store.QueueCount) []queueStatus {
	out := make([]queueStatus, 0, len(counts))
	for _, c := range counts {
		out = append(out, queueStatus{GroupID: c.GroupID, Status: string(c.Status), Count: c.Count, Paused: c.Paused})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].GroupID != out[j].GroupID {
			return out[i].GroupID < out[j].GroupID
		}
		return out[i].Status < out[j].Status
	})
	return out
}
