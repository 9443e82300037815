// @vitest-environment jsdom
import { QueryClient, QueryClientProvider } from '@tanstack/react-query'
import { act, renderHook, waitFor } from '@testing-library/react'
import type { ReactNode } from 'react'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { useQueue } from '../api'
import { keys } from '../api/keys'
import type { Job, Page } from '../api/types'
import { applyMessage } from '../live/apply'
import { ids, job } from '../test/fixtures'
import { useQueueOrder } from './useQueueOrder'

function json(body: unknown, status = 200) {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } })
}

const page = (items: Job[]): Page<Job> => ({ items, next_cursor: '' })

afterEach(() => vi.unstubAllGlobals())

describe('useQueueOrder', () => {
  it('keeps an optimistic move while a queue_update refetch returns the old order, then takes the server order', async () => {
    const old = [job({ id: 1, position: 1 }), job({ id: 2, position: 2 }), job({ id: 3, position: 3 })]
    const moved = [job({ id: 3, position: 0.5 }), job({ id: 1, position: 1 }), job({ id: 2, position: 2 })]
    let releaseMove: (r: Response) => void = () => {}
    const calls: { method: string; url: string; body?: string; csrf?: string | null }[] = []
    vi.stubGlobal(
      'fetch',
      vi.fn((url: string, init: RequestInit) => {
        const headers = new Headers(init.headers)
        calls.push({
          method: init.method ?? 'GET',
          url,
          body: init.body as string | undefined,
          csrf: headers.get('X-Requested-With'),
        })
        if (init.method === 'PUT') return new Promise<Response>((r) => (releaseMove = r))
        return Promise.resolve(json(page(old)))
      }),
    )
    const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } })
    const wrapper = ({ children }: { children: ReactNode }) => (
      <QueryClientProvider client={qc}>{children}</QueryClientProvider>
    )
    const { result } = renderHook(
      () => {
        const q = useQueue('g1')
        return useQueueOrder('g1', q.data?.items ?? [])
      },
      { wrapper },
    )
    await waitFor(() => expect(ids(result.current.view)).toEqual([1, 2, 3]))

    act(() => result.current.onDragStart())
    act(() => result.current.onMove(3, 1))
    expect(ids(result.current.view)).toEqual([3, 1, 2])
    await waitFor(() => expect(calls.some((c) => c.method === 'PUT')).toBe(true))
    const put = calls.find((c) => c.method === 'PUT')!
    expect(put.url).toBe('/api/v1/groups/g1/queue/reorder')
    expect(JSON.parse(put.body!)).toEqual({ job_id: 3, before: 1 })
    expect(put.csrf).toBe('dispatchoor')

    // Another event lands mid-flight: the refetch answers the old order.
    const gets = calls.filter((c) => c.method === 'GET').length
    act(() =>
      applyMessage(qc, { type: 'queue_update', group_id: 'g1', data: { group_id: 'g1', counts: { pending: 3 } } }),
    )
    await waitFor(() => expect(calls.filter((c) => c.method === 'GET').length).toBeGreaterThan(gets))
    await waitFor(() => expect(qc.isFetching()).toBe(0))
    expect(ids(result.current.view)).toEqual([3, 1, 2])

    // act's async form flushes the updates the settled PUT queues after it returns.
    // eslint-disable-next-line @typescript-eslint/require-await
    await act(async () => releaseMove(json(page(moved))))
    await waitFor(() => expect(result.current.error).toBeNull())
    expect(ids(qc.getQueryData<Page<Job>>(keys.queue('g1'))!.items)).toEqual([3, 1, 2])
    expect(ids(result.current.view)).toEqual([3, 1, 2])
  })

  it('a refused move falls back to the server order and reports the error', async () => {
    const old = [job({ id: 1, position: 1 }), job({ id: 2, position: 2 })]
    vi.stubGlobal(
      'fetch',
      vi.fn((_url: string, init: RequestInit) =>
        Promise.resolve(
          init.method === 'PUT' ? json({ error: 'queue changed', code: 'conflict' }, 409) : json(page(old)),
        ),
      ),
    )
    const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } })
    const wrapper = ({ children }: { children: ReactNode }) => (
      <QueryClientProvider client={qc}>{children}</QueryClientProvider>
    )
    const { result } = renderHook(() => useQueueOrder('g1', useQueue('g1').data?.items ?? []), { wrapper })
    await waitFor(() => expect(result.current.view).toHaveLength(2))
    act(() => result.current.onDragStart())
    act(() => result.current.onMove(2, 1))
    await waitFor(() => expect(result.current.error?.message).toBe('queue changed'))
    expect(ids(result.current.view)).toEqual([1, 2])
  })
})
