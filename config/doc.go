// Package config reads dispatchoor's YAML configuration: it expands
// ${VAR} references, collects workflow_dispatch templates from their three
// sources (inline, local files, URLs), fills in defaults and validates the
// result, reporting every problem at once with file:line:col.
//
// Load is the entry point; Config.Groups converts the result into core types
// for the store and the dispatcher.
//
// It may import core and standard or third-party libraries only. It must
// never import store, gh, server, dispatcher or handlers: those packages are
// configured by cmd/dispatchoor from a *Config, never the other way round.
package config
