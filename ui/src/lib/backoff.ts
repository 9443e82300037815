// Reconnect delays: exponential from base to max with "equal jitter" (half
// fixed, half random) so a server restart is not met by every browser at
// the same instant, yet no delay ever collapses to zero.

export interface BackoffOptions {
  baseMs: number
  maxMs: number
  /** returns a number in [0, 1); injectable for tests */
  random?: () => number
}

export function backoffDelay(attempt: number, o: BackoffOptions): number {
  const rnd = o.random ?? Math.random
  const n = Math.max(0, Math.floor(attempt))
  const cap = Math.min(o.maxMs, o.baseMs * 2 ** Math.min(n, 30))
  const half = cap / 2
  return Math.round(half + rnd() * half)
}
