// History filters live in the URL (?status=failed&label=el=geth) so a
// filtered view can be shared and survives a reload.
import type { JobStatus, Template } from '../api/types'

export const HISTORY_STATUSES = ['completed', 'failed', 'cancelled'] as const satisfies readonly JobStatus[]
export type HistoryStatus = (typeof HISTORY_STATUSES)[number]

export interface HistoryFilters {
  statuses: HistoryStatus[]
  /** key=value template labels, all of which must match */
  labels: string[]
}

function isHistoryStatus(s: string): s is HistoryStatus {
  return (HISTORY_STATUSES as readonly string[]).includes(s)
}

/** A label filter is "key=value" with a non-empty key. */
export function parseLabel(raw: string): { key: string; value: string } | null {
  const i = raw.indexOf('=')
  if (i <= 0) return null
  return { key: raw.slice(0, i).trim(), value: raw.slice(i + 1).trim() }
}

export function filtersFromSearch(sp: URLSearchParams): HistoryFilters {
  const statuses = new Set<HistoryStatus>()
  for (const v of sp.getAll('status')) {
    for (const s of v.split(',')) {
      const t = s.trim()
      if (isHistoryStatus(t)) statuses.add(t)
    }
  }
  const labels: string[] = []
  for (const l of sp.getAll('label')) {
    const p = parseLabel(l)
    if (p && p.key) {
      const norm = `${p.key}=${p.value}`
      if (!labels.includes(norm)) labels.push(norm)
    }
  }
  return {
    statuses: HISTORY_STATUSES.filter((s) => statuses.has(s)),
    labels,
  }
}

/** Writes the filters into sp, keeping unrelated params (tab, range). */
export function filtersToSearch(f: HistoryFilters, sp: URLSearchParams): URLSearchParams {
  const out = new URLSearchParams(sp)
  out.delete('status')
  out.delete('label')
  if (f.statuses.length) out.set('status', f.statuses.join(','))
  for (const l of f.labels) out.append('label', l)
  return out
}

/** The API query string for GET /groups/{id}/history. */
export function historyQuery(f: HistoryFilters, cursor?: string, limit = 50): string {
  const q = new URLSearchParams()
  if (f.statuses.length) q.set('status', f.statuses.join(','))
  for (const l of f.labels) q.append('label', l)
  if (cursor) q.set('cursor', cursor)
  q.set('limit', String(limit))
  return q.toString()
}

export function toggleStatus(f: HistoryFilters, s: HistoryStatus): HistoryFilters {
  const has = f.statuses.includes(s)
  const next = has ? f.statuses.filter((x) => x !== s) : [...f.statuses, s]
  return { ...f, statuses: HISTORY_STATUSES.filter((x) => next.includes(x)) }
}

/**
 * Template search: every whitespace-separated term must appear
 * (case-insensitively) in the id, name, repository, workflow or a label.
 */
export function matchesTemplate(t: Template, query: string): boolean {
  const terms = query.toLowerCase().split(/\s+/).filter(Boolean)
  if (!terms.length) return true
  const hay = [
    t.id,
    t.name,
    `${t.owner}/${t.repo}`,
    t.workflow_id,
    t.ref,
    ...Object.entries(t.labels ?? {}).map(([k, v]) => `${k}=${v}`),
  ]
    .join(' ')
    .toLowerCase()
  return terms.every((term) => hay.includes(term))
}
