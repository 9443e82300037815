package server

import (
	_ "embed"
	"net/http"
)

// openAPISpec describes every route of routeTable; openapi_test.go keeps the
// two in step.
//
//go:embed openapi.yaml
var openAPISpec []byte

func (s *Server) serveOpenAPI(w http.ResponseWriter, _ *http.Request) error {
	w.Header().Set("Content-Type", "application/yaml")
	_, _ = w.Write(openAPISpec)
	return nil
}
