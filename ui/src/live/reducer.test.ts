import { describe, expect, it } from 'vitest'
import type { Group, Page, Runner } from '../api/types'
import { ids, job, runner } from '../test/fixtures'
import { applyCountsToGroups, applyGroupUpdate, applyJobToQueue, applyRunner, mergeGroup } from './reducer'

const page = <T>(items: T[]): Page<T> => ({ items, next_cursor: '' })

describe('applyJobToQueue', () => {
  const q = page([job({ id: 1, position: 1 }), job({ id: 2, position: 2 }), job({ id: 3, position: 3 })])

  it('an unloaded queue stays unloaded', () => {
    expect(applyJobToQueue(undefined, job({ id: 1 }))).toBeUndefined()
  })
  it('a new pending job is inserted at its position', () => {
    expect(ids(applyJobToQueue(q, job({ id: 4, position: 1.5 }))!.items)).toEqual([1, 4, 2, 3])
  })
  it('a job that started moves ahead of the pending ones with its new fields', () => {
    const next = applyJobToQueue(q, job({ id: 3, position: 3, status: 'running', runner_name: 'r7' }))!
    expect(ids(next.items)).toEqual([3, 1, 2])
    expect(next.items[0].runner_name).toBe('r7')
  })
  it('a moved job takes its new place', () => {
    expect(ids(applyJobToQueue(q, job({ id: 3, position: 0.5 }))!.items)).toEqual([3, 1, 2])
  })
  it.each(['completed', 'failed', 'cancelled'] as const)('a %s job leaves the queue', (status) => {
    expect(ids(applyJobToQueue(q, job({ id: 2, status }))!.items)).toEqual([1, 3])
  })
  it('a finished job the queue never had leaves the page object unchanged', () => {
    expect(applyJobToQueue(q, job({ id: 99, status: 'completed' }))).toBe(q)
  })
  it('never mutates the cached page', () => {
    const before = JSON.stringify(q)
    applyJobToQueue(q, job({ id: 1, status: 'running' }))
    expect(JSON.stringify(q)).toBe(before)
  })
})

describe('group updates', () => {
  const g = (p: Partial<Group>): Group => ({
    id: 'g1',
    name: 'G1',
    runner_labels: ['x'],
    runner_scope: 'org:o',
    max_concurrent: 0,
    paused: false,
    enabled: true,
    queue: { pending: 1 },
    ...p,
  })
  const list = page([g({}), g({ id: 'g2', queue: { pending: 7 } })])

  it("queue_update replaces one group's counts only", () => {
    const next = applyCountsToGroups(list, 'g1', { pending: 4, running: 2 })!
    expect(next.items[0].queue).toEqual({ pending: 4, running: 2 })
    expect(next.items[1].queue).toEqual({ pending: 7 })
  })
  it('queue_update for an unknown group keeps the list', () => {
    expect(applyCountsToGroups(list, 'nope', { pending: 1 })).toBe(list)
  })
  it('group_update changes paused but keeps our counts', () => {
    const next = applyGroupUpdate(list, {
      id: 'g1',
      name: 'G1',
      paused: true,
      runner_labels: ['x'],
      runner_scope: 'org:o',
      max_concurrent: 0,
      enabled: true,
    })!
    expect(next.items[0].paused).toBe(true)
    expect(next.items[0].queue).toEqual({ pending: 1 })
  })
  it('group_update of another group leaves a group alone', () => {
    const one = g({})
    expect(mergeGroup(one, { id: 'g2', paused: true })).toBe(one)
  })
})

describe('applyRunner', () => {
  const list = page<Runner>([runner({ id: 1, name: 'a', updated_at: 'yesterday' }), runner({ id: 2, name: 'c' })])

  it('updates a known runner and keeps fields the message lacks', () => {
    const next = applyRunner(list, runner({ id: 1, name: 'a', busy: true }))!
    expect(next.items[0].busy).toBe(true)
    expect(next.items[0].updated_at).toBe('yesterday')
  })
  it('adds a new runner in name order', () => {
    expect(applyRunner(list, runner({ id: 3, name: 'b' }))!.items.map((r) => r.name)).toEqual(['a', 'b', 'c'])
  })
  it('a group list takes a new runner only when it has every group label, case-insensitively', () => {
    expect(
      applyRunner(list, runner({ id: 3, name: 'b', labels: ['Self-Hosted', 'GPU'] }), ['self-hosted', 'gpu'])!.items,
    ).toHaveLength(3)
    expect(applyRunner(list, runner({ id: 4, name: 'd', labels: ['self-hosted'] }), ['self-hosted', 'gpu'])).toBe(list)
  })
  it('a runner that lost a group label leaves the group list', () => {
    const next = applyRunner(list, runner({ id: 2, name: 'c', labels: ['self-hosted'] }), ['self-hosted', 'linux'])!
    expect(next.items.map((r) => r.id)).toEqual([1])
  })
  it('an unloaded list stays unloaded', () => {
    expect(applyRunner(undefined, runner())).toBeUndefined()
  })
})
