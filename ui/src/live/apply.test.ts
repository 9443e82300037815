import { QueryClient } from '@tanstack/react-query'
import { describe, expect, it } from 'vitest'
import { keys } from '../api/keys'
import type { Group, Job, Page, Runner } from '../api/types'
import { ids, job, runner } from '../test/fixtures'
import { applyMessage } from './apply'

const page = <T>(items: T[]): Page<T> => ({ items, next_cursor: '' })
const group: Group = {
  id: 'g1',
  name: 'G1',
  runner_labels: ['gpu'],
  runner_scope: 'org:o',
  max_concurrent: 0,
  paused: false,
  enabled: true,
  queue: {},
}

function client() {
  const qc = new QueryClient()
  qc.setQueryData(keys.queue('g1'), page([job({ id: 1 }), job({ id: 2 })]))
  qc.setQueryData(keys.groups, page([group]))
  qc.setQueryData(keys.group('g1'), group)
  qc.setQueryData(keys.runners, page<Runner>([]))
  qc.setQueryData(keys.groupRunners('g1'), page<Runner>([]))
  qc.setQueryData(keys.history('g1', { statuses: [], labels: [] }), { pages: [], pageParams: [] })
  return qc
}

describe('applyMessage', () => {
  it('job_state to a terminal state removes the job and marks the group history stale', () => {
    const qc = client()
    applyMessage(qc, { type: 'job_state', group_id: 'g1', data: job({ id: 1, status: 'cancelled' }) })
    expect(ids(qc.getQueryData<Page<Job>>(keys.queue('g1'))!.items)).toEqual([2])
    expect(qc.getQueryState(keys.history('g1', { statuses: [], labels: [] }))!.isInvalidated).toBe(true)
  })

  it('queue_update sets counts on the list and the group and marks the queue stale', () => {
    const qc = client()
    applyMessage(qc, { type: 'queue_update', group_id: 'g1', data: { group_id: 'g1', counts: { pending: 5 } } })
    expect(qc.getQueryData<Page<Group>>(keys.groups)!.items[0].queue).toEqual({ pending: 5 })
    expect(qc.getQueryData<Group>(keys.group('g1'))!.queue).toEqual({ pending: 5 })
    expect(qc.getQueryState(keys.queue('g1'))!.isInvalidated).toBe(true)
  })

  it("runner_status reaches every runner list, filtered by each group's labels", () => {
    const qc = client()
    applyMessage(qc, { type: 'runner_status', data: runner({ id: 7, name: 'gpu-1', labels: ['GPU'] }) })
    applyMessage(qc, { type: 'runner_status', data: runner({ id: 8, name: 'cpu-1', labels: ['cpu'] }) })
    expect(qc.getQueryData<Page<Runner>>(keys.runners)!.items.map((r) => r.name)).toEqual(['cpu-1', 'gpu-1'])
    expect(qc.getQueryData<Page<Runner>>(keys.groupRunners('g1'))!.items.map((r) => r.name)).toEqual(['gpu-1'])
  })

  it('group_update pauses the group everywhere', () => {
    const qc = client()
    applyMessage(qc, { type: 'group_update', group_id: 'g1', data: { ...group, paused: true } })
    expect(qc.getQueryData<Group>(keys.group('g1'))!.paused).toBe(true)
    expect(qc.getQueryData<Page<Group>>(keys.groups)!.items[0].paused).toBe(true)
  })
})
