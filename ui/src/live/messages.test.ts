import { describe, expect, it } from 'vitest'
import { job } from '../test/fixtures'
import { parseMessage } from './messages'

describe('parseMessage', () => {
  it('reads job_state and takes the group from the job', () => {
    const m = parseMessage(JSON.stringify({ type: 'job_state', group_id: 'g1', data: job({ id: 5 }) }))
    expect(m).toMatchObject({ type: 'job_state', group_id: 'g1', data: { id: 5 } })
  })
  it('reads queue_update counts', () => {
    const m = parseMessage(
      JSON.stringify({ type: 'queue_update', group_id: 'g1', data: { group_id: 'g1', counts: { pending: 2 } } }),
    )
    expect(m).toEqual({ type: 'queue_update', group_id: 'g1', data: { group_id: 'g1', counts: { pending: 2 } } })
  })
  it('fills missing runner labels', () => {
    const m = parseMessage(
      JSON.stringify({ type: 'runner_status', data: { id: 1, name: 'r', status: 'online', busy: false } }),
    )
    expect(m).toMatchObject({ type: 'runner_status', data: { labels: [] } })
  })
  it.each([
    ['not JSON', '{'],
    ['not an object', '42'],
    ['unknown type', JSON.stringify({ type: 'nope', data: {} })],
    ['no data', JSON.stringify({ type: 'job_state' })],
    ['job without id', JSON.stringify({ type: 'job_state', data: { group_id: 'g', status: 'pending' } })],
    ['queue_update without counts', JSON.stringify({ type: 'queue_update', group_id: 'g', data: {} })],
    ['runner without name', JSON.stringify({ type: 'runner_status', data: { id: 1 } })],
  ])('rejects %s', (_name, raw) => {
    expect(parseMessage(raw)).toBeNull()
  })
})
