// Human durations for waiting times and "last cycle" ages.

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) ms = 0
  const s = Math.floor(ms / 1000)
  if (s < 60) return `${s}s`
  const m = Math.floor(s / 60)
  if (m < 60) return `${m}m ${s % 60}s`
  const h = Math.floor(m / 60)
  if (h < 24) return `${h}h ${m % 60}m`
  const d = Math.floor(h / 24)
  return `${d}d ${h % 24}h`
}

/** How long a job has waited: from creation to start, or to now. */
export function waitingMs(j: { created_at: string; started_at: string | null }, now: number): number {
  const start = Date.parse(j.created_at)
  const end = j.started_at ? Date.parse(j.started_at) : now
  return Math.max(0, end - start)
}

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—'
  const d = new Date(iso)
  return Number.isNaN(d.getTime()) ? '—' : d.toLocaleString()
}
