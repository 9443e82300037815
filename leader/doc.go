// Package leader decides which replica runs the leader-only work (the
// dispatcher and the reconciler) and stops that work the moment leadership
// is in doubt.
//
// On PostgreSQL the leader holds a session-level advisory lock
// (pg_try_advisory_lock) on a dedicated connection that is never part of a
// pool: a pooled connection could be handed back and reused, and the lock
// would silently travel with it. Followers retry the lock every
// RetryInterval; when the leader's process dies its socket closes, the
// server ends the session, the lock is released and a follower takes over
// within one RetryInterval. The leader renews a lease with a health check
// every HealthInterval and cancels the leader context as soon as its
// connection is reported gone or the lease runs out (see lease.go for why
// the leader always steps down before a follower can acquire).
//
// On SQLite only one replica may exist at all: New takes an exclusive flock
// on the database file itself (its inode, whatever path reaches it: a
// symlink, a hard link, another mount) for the life of the process, and a
// second process on the same database is refused with a message saying so.
//
// The lock is a liveness tool, not the safety net: every job transition in
// store is a conditional update, so even two replicas believing they lead
// (a frozen process waking up) cannot dispatch one job twice.
//
// It imports config (for the driver names) and clock, nothing else of this
// module; it must never import store, dispatcher, server or handlers — cmd
// hands Run the function to run while leading.
package leader
