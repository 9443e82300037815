import { describe, expect, it } from 'vitest'
import { job, ids } from '../test/fixtures'
import { applyLocalOrder, freezeHead, moveItem, moveRequest, pendingIds, sortQueue } from './reorder'

describe('moveItem', () => {
  it.each([
    { name: 'last to top', list: [1, 2, 3, 4], from: 3, to: 0, want: [4, 1, 2, 3] },
    { name: 'top to last', list: [1, 2, 3, 4], from: 0, to: 3, want: [2, 3, 4, 1] },
    { name: 'middle down one', list: [1, 2, 3, 4], from: 1, to: 2, want: [1, 3, 2, 4] },
    { name: 'same index is a copy unchanged', list: [1, 2, 3], from: 1, to: 1, want: [1, 2, 3] },
    { name: 'out of range leaves the list alone', list: [1, 2, 3], from: 5, to: 0, want: [1, 2, 3] },
  ])('$name', ({ list, from, to, want }) => {
    const got = moveItem(list, from, to)
    expect(got).toEqual(want)
    expect(list).not.toBe(got)
  })
})

describe('moveRequest', () => {
  it('moving to the top names the old first job as before', () => {
    expect(moveRequest([1, 2, 3], [3, 1, 2], 3)).toEqual({ job_id: 3, before: 1 })
  })
  it('moving to the end sends before null', () => {
    expect(moveRequest([1, 2, 3], [2, 3, 1], 1)).toEqual({ job_id: 1, before: null })
  })
  it('moving into the middle names the job now after it', () => {
    expect(moveRequest([1, 2, 3, 4], [1, 3, 2, 4], 3)).toEqual({ job_id: 3, before: 2 })
  })
  it('an unchanged order sends nothing', () => {
    expect(moveRequest([1, 2, 3], [1, 2, 3], 2)).toBeNull()
  })
  it('an id not in the order sends nothing', () => {
    expect(moveRequest([1, 2], [2, 1], 9)).toBeNull()
  })
})

describe('sortQueue', () => {
  it('puts active jobs before pending ones and pending by position', () => {
    const js = [
      job({ id: 1, position: 30 }),
      job({ id: 2, status: 'running', position: 1 }),
      job({ id: 3, position: 10 }),
      job({ id: 4, status: 'triggered', position: 5 }),
      job({ id: 5, position: 20 }),
    ]
    expect(ids(sortQueue(js))).toEqual([2, 4, 3, 5, 1])
  })
})

describe('applyLocalOrder', () => {
  const server = [
    job({ id: 1, position: 1 }),
    job({ id: 2, position: 2 }),
    job({ id: 3, position: 3 }),
    job({ id: 9, status: 'running', position: 0 }),
  ]

  it('without a local order is the server order', () => {
    expect(ids(applyLocalOrder(server, null))).toEqual([9, 1, 2, 3])
  })

  it('keeps the local order over a server list that still has the old order', () => {
    expect(ids(applyLocalOrder(server, [3, 1, 2]))).toEqual([9, 3, 1, 2])
  })

  it('appends pending jobs that arrived after the drag started', () => {
    const withNew = [...server, job({ id: 4, position: 0.5 })]
    expect(ids(applyLocalOrder(withNew, [3, 1, 2]))).toEqual([9, 3, 1, 2, 4])
  })

  it('drops jobs that stopped being pending and shows them as active', () => {
    const started = server.map((j) => (j.id === 3 ? { ...j, status: 'dispatching' as const } : j))
    expect(ids(applyLocalOrder(started, [3, 1, 2]))).toEqual([3, 9, 1, 2])
  })

  it('drops ids of jobs that are gone and ignores duplicates', () => {
    const gone = server.filter((j) => j.id !== 1)
    expect(ids(applyLocalOrder(gone, [3, 3, 1, 2]))).toEqual([9, 3, 2])
  })

  it('pendingIds lists pending jobs only, in order', () => {
    expect(pendingIds(applyLocalOrder(server, [2, 3, 1]))).toEqual([2, 3, 1])
  })
})

describe('freezeHead', () => {
  it('keeps a finished job in place and updates a still-running one during a drag', () => {
    const frozen = [job({ id: 1, status: 'running' }), job({ id: 2, status: 'triggered' })]
    const now = [
      job({ id: 2, status: 'running', runner_name: 'r' }),
      job({ id: 5, status: 'running' }),
      job({ id: 3 }),
      job({ id: 4 }),
    ]
    const got = freezeHead(now, frozen)
    expect(ids(got)).toEqual([1, 2, 3, 4])
    expect(got[1].runner_name).toBe('r')
    expect(got[0].status).toBe('running')
  })
})
