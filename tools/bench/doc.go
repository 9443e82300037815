// Command bench measures dispatchoor against the GitHub simulator and
// writes docs/BENCHMARKS.md: reaction latency, fleet utilisation against a
// polling baseline, GitHub API economy, webhook ingest, queue scale and a
// CPU profile of the dispatch hot path (docs/ARCHITECTURE.md: Dispatch protocol, Runner state from webhooks, Tooling).
//
// It runs the real binary (`dispatchoor server --config F`, built from
// ./cmd/dispatchoor) as a subprocess against an in-process ghsim, so what
// is measured is what ships: the same wiring, HTTP stack and database.
//
//	go run ./tools/bench -scenario all -short   # minutes, for make bench
//	go run ./tools/bench -scenario all          # the published figures
//
// It is a measuring tool, not part of the product: nothing may import it,
// and it imports only ghsim, configgen and the standard library (plus
// zerolog), never the product's packages, so it cannot measure a shortcut the binary lacks.
package main
