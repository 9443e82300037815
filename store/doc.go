// Package store persists dispatchoor's state in SQLite or PostgreSQL.
//
// It is written once against sqlx: queries use "?" placeholders and are
// rebound per driver; SQL differs per dialect only where the databases truly
// differ (DDL types, advisory locks). Every state change is a conditional
// update that names what it expects, so a lost race is detected
// (ErrConflict) and never overwrites newer state.
//
// It imports core and nothing else of this module.
package store
