// Chart ranges for history stats. The API takes Go durations, which have
// no "d" unit, so days are written in hours.

export const RANGES = ['1h', '6h', '24h', '7d', '30d'] as const
export type Range = (typeof RANGES)[number]

const spec: Record<Range, { since: string; bucket: string; bucketMs: number }> = {
  '1h': { since: '1h', bucket: '5m', bucketMs: 5 * 60_000 },
  '6h': { since: '6h', bucket: '30m', bucketMs: 30 * 60_000 },
  '24h': { since: '24h', bucket: '1h', bucketMs: 3_600_000 },
  '7d': { since: '168h', bucket: '6h', bucketMs: 6 * 3_600_000 },
  '30d': { since: '720h', bucket: '24h', bucketMs: 24 * 3_600_000 },
}

export function isRange(s: string | null | undefined): s is Range {
  return !!s && (RANGES as readonly string[]).includes(s)
}

export function rangeQuery(r: Range): string {
  return new URLSearchParams({ since: spec[r].since, bucket: spec[r].bucket }).toString()
}

export function bucketMs(r: Range): number {
  return spec[r].bucketMs
}
