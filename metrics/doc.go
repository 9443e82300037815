// Package metrics owns dispatchoor's Prometheus metrics (docs/DEPLOY.md, Metrics). They
// live on a private prometheus.Registry, never the global default one, so
// tests and several servers in one process never collide, and every metric
// is updated through a small method named for the event that moves it, which
// other packages' hook interfaces are satisfied by.
//
// It must never import server, dispatcher, handlers or store: it is a leaf
// that everything else may feed.
package metrics
