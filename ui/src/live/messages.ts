import type { Group, Job, QueueCounts, Runner } from '../api/types'

// WebSocket messages (server/ws.go): {"type", "group_id"?, "data"}.
export type LiveMessage =
  | { type: 'job_state'; group_id: string; data: Job }
  | { type: 'queue_update'; group_id: string; data: { group_id: string; counts: QueueCounts } }
  | { type: 'group_update'; group_id: string; data: Partial<Group> & { id: string } }
  | { type: 'runner_status'; data: Runner }
  | { type: 'system_status'; data: unknown }
  | { type: 'subscribed'; data: string[] }
  | { type: 'error'; data: { error: string } }

const known = new Set([
  'job_state',
  'queue_update',
  'group_update',
  'runner_status',
  'system_status',
  'subscribed',
  'error',
])

/** Parses one frame; anything malformed or unknown is null, never a throw. */
export function parseMessage(raw: string): LiveMessage | null {
  let m: unknown
  try {
    m = JSON.parse(raw)
  } catch {
    return null
  }
  if (!m || typeof m !== 'object') return null
  const o = m as Record<string, unknown>
  if (typeof o.type !== 'string' || !known.has(o.type)) return null
  if (o.data === undefined || o.data === null) return null
  switch (o.type) {
    case 'job_state': {
      const d = o.data as Partial<Job>
      if (typeof d.id !== 'number' || typeof d.group_id !== 'string' || typeof d.status !== 'string') return null
      return { type: 'job_state', group_id: d.group_id, data: d as Job }
    }
    case 'queue_update': {
      const d = o.data as { group_id?: unknown; counts?: unknown }
      const gid = typeof o.group_id === 'string' ? o.group_id : d.group_id
      if (typeof gid !== 'string' || !d.counts || typeof d.counts !== 'object') return null
      return { type: 'queue_update', group_id: gid, data: { group_id: gid, counts: d.counts } }
    }
    case 'group_update': {
      const d = o.data as Partial<Group>
      if (typeof d.id !== 'string') return null
      return { type: 'group_update', group_id: d.id, data: d as Group }
    }
    case 'runner_status': {
      const d = o.data as Partial<Runner>
      if (typeof d.id !== 'number' || typeof d.name !== 'string') return null
      return { type: 'runner_status', data: { ...d, labels: d.labels ?? [] } as Runner }
    }
    default:
      return o as unknown as LiveMessage
  }
}
