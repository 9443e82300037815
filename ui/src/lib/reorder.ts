// Reorder maths for the queue: the server keeps an explicit position per
// pending job; the UI moves one job at a time ({job_id, before}) and keeps
// its optimistic order as a list of ids laid over whatever the server (or
// the WebSocket) says, so a refresh that lands mid-drag cannot undo it.
import type { Job } from '../api/types'
import { isActive } from '../api/types'

/** Moves the element at from to index to (like dnd-kit's arrayMove). */
export function moveItem<T>(list: readonly T[], from: number, to: number): T[] {
  const out = list.slice()
  if (from < 0 || from >= out.length || to < 0 || to >= out.length) return out
  const [x] = out.splice(from, 1)
  out.splice(to, 0, x)
  return out
}

/**
 * The single-move request that turns the order before into after, when
 * after differs by moving one id: the moved job and the job now right after
 * it (null = the end). Returns null when nothing moved.
 */
export function moveRequest(
  before: readonly number[],
  after: readonly number[],
  moved: number,
): { job_id: number; before: number | null } | null {
  const i = after.indexOf(moved)
  if (i < 0) return null
  if (before.length === after.length && before.every((id, k) => id === after[k])) return null
  return { job_id: moved, before: i + 1 < after.length ? after[i + 1] : null }
}

/** Orders a queue as the server does: active jobs, then pending by position. */
export function sortQueue(jobs: readonly Job[]): Job[] {
  const rank = (j: Job) => (isActive(j.status) ? 0 : j.status === 'pending' ? 1 : 2)
  return jobs.slice().sort((a, b) => {
    const r = rank(a) - rank(b)
    if (r !== 0) return r
    if (a.status === 'pending' && b.status === 'pending') return a.position - b.position || a.id - b.id
    return a.id - b.id
  })
}

/**
 * Lays a local (optimistic) order of pending job ids over the server's
 * jobs: pending jobs named in order come first in that order, pending jobs
 * the order does not know (new ones) follow in server order, ids of jobs
 * that are no longer pending are dropped. Non-pending jobs keep their place
 * ahead of the pending ones.
 */
export function applyLocalOrder(jobs: readonly Job[], order: readonly number[] | null): Job[] {
  const sorted = sortQueue(jobs)
  if (!order) return sorted
  const head = sorted.filter((j) => j.status !== 'pending')
  const pending = sorted.filter((j) => j.status === 'pending')
  const byId = new Map(pending.map((j) => [j.id, j]))
  const seen = new Set<number>()
  const ordered: Job[] = []
  for (const id of order) {
    const j = byId.get(id)
    if (j && !seen.has(id)) {
      ordered.push(j)
      seen.add(id)
    }
  }
  for (const j of pending) if (!seen.has(j.id)) ordered.push(j)
  return [...head, ...ordered]
}

export function pendingIds(jobs: readonly Job[]): number[] {
  return jobs.filter((j) => j.status === 'pending').map((j) => j.id)
}

/**
 * While a drag is in progress the jobs above the pending list stay as they
 * were when it started (with fresh fields where the job is still active):
 * a run finishing mid-drag must not shift the list under the pointer.
 * Jobs that became active meanwhile appear after the drop.
 */
export function freezeHead(view: readonly Job[], frozen: readonly Job[]): Job[] {
  const active = new Map(view.filter((j) => j.status !== 'pending').map((j) => [j.id, j]))
  const head = frozen.map((f) => active.get(f.id) ?? f)
  return [...head, ...view.filter((j) => j.status === 'pending')]
}
