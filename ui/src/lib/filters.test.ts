import { describe, expect, it } from 'vitest'
import type { Template } from '../api/types'
import { filtersFromSearch, filtersToSearch, historyQuery, matchesTemplate, parseLabel, toggleStatus } from './filters'

describe('history filters in the URL', () => {
  it('reads comma-separated and repeated statuses, dropping unknown and duplicate ones, in canonical order', () => {
    const f = filtersFromSearch(new URLSearchParams('status=failed,bogus&status=completed,failed'))
    expect(f.statuses).toEqual(['completed', 'failed'])
  })
  it('reads labels, dropping ones without a key and duplicates, keeping = in values', () => {
    const f = filtersFromSearch(
      new URLSearchParams('label=el%3Dgeth&label=%3Dx&label=nokey&label=el%3Dgeth&label=q%3Da%3Db'),
    )
    expect(f.labels).toEqual(['el=geth', 'q=a=b'])
  })
  it('round-trips through the URL and keeps other params', () => {
    const f = { statuses: ['cancelled' as const], labels: ['cl=lighthouse', 'el=geth'] }
    const sp = filtersToSearch(f, new URLSearchParams('range=7d&status=failed'))
    expect(sp.get('range')).toBe('7d')
    expect(filtersFromSearch(sp)).toEqual(f)
  })
  it('builds the API query the server parses: comma statuses, repeated labels, cursor, limit', () => {
    const q = new URLSearchParams(
      historyQuery({ statuses: ['failed', 'cancelled'], labels: ['el=geth', 'cl=teku'] }, 'abc', 25),
    )
    expect(q.get('status')).toBe('failed,cancelled')
    expect(q.getAll('label')).toEqual(['el=geth', 'cl=teku'])
    expect(q.get('cursor')).toBe('abc')
    expect(q.get('limit')).toBe('25')
  })
  it('omits empty filters and the cursor of the first page', () => {
    expect(historyQuery({ statuses: [], labels: [] })).toBe('limit=50')
  })
  it('toggles a status on and off in canonical order', () => {
    const on = toggleStatus({ statuses: ['failed'], labels: [] }, 'completed')
    expect(on.statuses).toEqual(['completed', 'failed'])
    expect(toggleStatus(on, 'failed').statuses).toEqual(['completed'])
  })
  it.each([
    ['el=geth', { key: 'el', value: 'geth' }],
    [' el = geth ', { key: 'el', value: 'geth' }],
    ['k=', { key: 'k', value: '' }],
    ['=v', null],
    ['novalue', null],
  ])('parseLabel(%j)', (raw, want) => {
    expect(parseLabel(raw)).toEqual(want)
  })
})

describe('matchesTemplate', () => {
  const t: Template = {
    id: 'hoodi-sync',
    group_id: 'g',
    name: 'Hoodi sync',
    owner: 'my-org',
    repo: 'tests',
    workflow_id: 'sync.yml',
    ref: 'main',
    inputs: {},
    labels: { el: 'geth' },
  }
  it.each([
    ['', true],
    ['hoodi', true],
    ['HOODI Sync', true],
    ['my-org/tests', true],
    ['el=geth', true],
    ['geth sync.yml', true],
    ['geth nethermind', false],
    ['mainnet', false],
  ])('%j → %s', (q, want) => {
    expect(matchesTemplate(t, q)).toBe(want)
  })
  it('copes with templates without labels', () => {
    expect(matchesTemplate({ ...t, labels: null }, 'geth')).toBe(false)
  })
})
