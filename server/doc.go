// Package server is dispatchoor's HTTP surface: routes, REST API, auth,
// WebSocket hub, metrics and the embedded UI. No other package imports it.
package server
