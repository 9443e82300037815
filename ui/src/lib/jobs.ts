import type { Job, Runner } from '../api/types'

/** Whether ending this job now (cancel, failure) puts a copy back in the queue. */
export function willRequeue(j: Pick<Job, 'auto_requeue' | 'requeue_limit' | 'requeue_count'>): boolean {
  return j.auto_requeue && (j.requeue_limit === 0 || j.requeue_count < j.requeue_limit)
}

/** A runner serves a group when it carries every group label, case-insensitively (as GitHub matches). */
export function hasLabels(runnerLabels: readonly string[], want: readonly string[]): boolean {
  const have = new Set(runnerLabels.map((l) => l.toLowerCase()))
  return want.every((l) => have.has(l.toLowerCase()))
}

export interface RunnerCounts {
  online: number
  idle: number
  busy: number
  offline: number
}

export function countRunners(rs: readonly Runner[]): RunnerCounts {
  const c: RunnerCounts = { online: 0, idle: 0, busy: 0, offline: 0 }
  for (const r of rs) {
    if (r.status !== 'online') {
      c.offline++
      continue
    }
    c.online++
    if (r.busy) c.busy++
    else c.idle++
  }
  return c
}

export function sourceLabel(s: Job['source']): string {
  return s === 'ui' ? 'UI' : s === 'api' ? 'API' : s === 'comment' ? 'Comment' : s
}
