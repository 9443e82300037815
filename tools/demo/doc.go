// Package demo builds the world `dispatchoor demo` shows a newcomer: a
// GitHub simulator with an organization, repositories with
// workflow_dispatch workflows, the App installed, a fleet of simulated
// runners (some ephemeral, replaced without a webhook as under
// actions-runner-controller), the matching dispatchoor config, and a feeder
// that keeps jobs flowing.
//
// It prepares; cmd/dispatchoor wires the server. It must never import server.
package demo
