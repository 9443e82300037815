package server

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/rs/zerolog"
)

// Pinger is the database check behind /health.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Options are the server's dependencies.
type Options struct {
	Logger  zerolog.Logger
	Store   Pinger
	Version string
}

// Server routes HTTP requests.
type Server struct {
	mux  *http.ServeMux
	log  zerolog.Logger
	opts Options
}

// New builds the router.
func New(opts Options) *Server {
	s := &Server{mux: http.NewServeMux(), log: opts.Logger.With().Str("component", "server").Logger(), opts: opts}
	s.mux.HandleFunc("GET /health", s.health)
	return s
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// health answers 200 when the database answers, 503 otherwise.
func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	status, code := "ok", http.StatusOK
	if err := s.opts.Store.Ping(r.Context()); err != nil {
		s.log.Warn().Err(err).Msg("health: database unreachable")
		status, code = "database unreachable", http.StatusServiceUnavailable
	}
	writeJSON(w, code, map[string]string{"status": status, "version": s.opts.Version})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
