// @vitest-environment jsdom
// Proves that applyMessage reaches exactly the cache entries the hooks read.
// The hooks' keys are taken from the cache the mounted hooks fill, not from
// api/keys.ts, so a hook and apply.ts that disagreed on a key would fail here.
import { QueryClient, QueryClientProvider, type QueryCacheNotifyEvent } from '@tanstack/react-query'
import { cleanup, renderHook, waitFor } from '@testing-library/react'
import type { ReactNode } from 'react'
import { afterEach, describe, expect, it, vi } from 'vitest'
import {
  useGroup,
  useGroupRunners,
  useGroups,
  useHistory,
  useHistoryStats,
  useJob,
  useQueue,
  useRunners,
  useStatus,
  useTemplates,
} from '../api'
import type { Group, Page, Status } from '../api/types'
import { job, runner } from '../test/fixtures'
import { applyMessage } from './apply'
import type { LiveMessage } from './messages'

const page = <T,>(items: T[]): Page<T> => ({ items, next_cursor: '' })
const group = (id: string, labels: string[]): Group => ({
  id,
  name: id.toUpperCase(),
  runner_labels: labels,
  runner_scope: 'org:o',
  max_concurrent: 0,
  paused: false,
  enabled: true,
  queue: { pending: 1 },
})
const g1 = group('g1', ['gpu'])
const g2 = group('g2', ['cpu'])
const status: Status = { version: 'test', database: { driver: 'sqlite', ok: true }, installations: [], queues: [] }

/** Answers every GET the hooks below make; anything else is a test bug. */
function serve() {
  const routes: [RegExp, unknown][] = [
    [/^\/api\/v1\/groups$/, page([g1, g2])],
    [/^\/api\/v1\/groups\/g1$/, g1],
    [/^\/api\/v1\/groups\/g2$/, g2],
    [/^\/api\/v1\/groups\/g1\/queue$/, page([job({ id: 1, group_id: 'g1' })])],
    [/^\/api\/v1\/groups\/g2\/queue$/, page([job({ id: 2, group_id: 'g2' })])],
    [/^\/api\/v1\/jobs\/1$/, job({ id: 1, group_id: 'g1' })],
    [/^\/api\/v1\/jobs\/2$/, job({ id: 2, group_id: 'g2' })],
    [/^\/api\/v1\/runners$/, page([])],
    [/^\/api\/v1\/groups\/g[12]\/(runners|templates|history|history\/stats)$/, page([])],
    [/^\/api\/v1\/status$/, status],
  ]
  vi.stubGlobal(
    'fetch',
    vi.fn((url: string) => {
      const path = new URL(url, 'http://ui.test').pathname
      const hit = routes.find(([re]) => re.test(path))
      if (!hit) return Promise.reject(new Error(`unexpected fetch ${url}`))
      return Promise.resolve(new Response(JSON.stringify(hit[1]), { status: 200 }))
    }),
  )
}

const failedOnly = { statuses: ['failed' as const], labels: [] }
const noFilter = { statuses: [], labels: [] }

/** A hook with its arguments, named for the cache entry it reads. */
function entry<A extends unknown[]>(name: string, hook: (...args: A) => unknown, ...args: A) {
  return { name, call: () => hook(...args) }
}

// Every hook whose data a live message may change, for two groups so that
// a message for g1 provably leaves g2 alone.
const hooks = [
  entry('groups', useGroups),
  entry('group g1', useGroup, 'g1'),
  entry('group g2', useGroup, 'g2'),
  entry('queue g1', useQueue, 'g1'),
  entry('queue g2', useQueue, 'g2'),
  entry('job 1', useJob, 1),
  entry('job 2', useJob, 2),
  entry('runners', useRunners),
  entry('group runners g1', useGroupRunners, 'g1'),
  entry('group runners g2', useGroupRunners, 'g2'),
  entry('history g1', useHistory, 'g1', noFilter),
  entry('history g1 failed', useHistory, 'g1', failedOnly),
  entry('history g2', useHistory, 'g2', noFilter),
  entry('stats g1 24h', useHistoryStats, 'g1', '24h'),
  entry('stats g1 1h', useHistoryStats, 'g1', '1h'),
  entry('stats g2 24h', useHistoryStats, 'g2', '24h'),
  entry('templates g1', useTemplates, 'g1'),
  entry('status', useStatus),
]

/** Mounts each hook and names the cache entry it created, by its query hash. */
async function mountAll(qc: QueryClient): Promise<Map<string, string>> {
  const wrapper = ({ children }: { children: ReactNode }) => (
    <QueryClientProvider client={qc}>{children}</QueryClientProvider>
  )
  const byHash = new Map<string, string>()
  for (const { name, call } of hooks) {
    const before = new Set(qc.getQueryCache().getAll())
    renderHook(call, { wrapper })
    const added = qc
      .getQueryCache()
      .getAll()
      .filter((q) => !before.has(q))
    expect(added, `${name} reads one query`).toHaveLength(1)
    byHash.set(added[0].queryHash, name)
  }
  await waitFor(() =>
    expect(
      qc
        .getQueryCache()
        .getAll()
        .every((q) => q.state.status === 'success'),
    ).toBe(true),
  )
  return byHash
}

/** The hooks whose entries applyMessage set or invalidated, synchronously. */
function touchedBy(qc: QueryClient, byHash: Map<string, string>, m: LiveMessage): string[] {
  const touched = new Set<string>()
  const note = (e: QueryCacheNotifyEvent) => {
    const name = byHash.get(e.query.queryHash) ?? `a key no hook reads: ${e.query.queryHash}`
    if (e.type === 'added') touched.add(name)
    if (e.type === 'updated' && (e.action.type === 'success' || e.action.type === 'invalidate')) touched.add(name)
  }
  const unsubscribe = qc.getQueryCache().subscribe(note)
  applyMessage(qc, m)
  unsubscribe()
  return [...touched].sort()
}

afterEach(() => {
  cleanup()
  vi.unstubAllGlobals()
})

describe('applyMessage reaches exactly the keys the hooks use', () => {
  const cases: { name: string; message: LiveMessage; want: string[] }[] = [
    {
      name: 'a job that moves on updates its queue and its detail',
      message: { type: 'job_state', group_id: 'g1', data: job({ id: 1, group_id: 'g1', status: 'running' }) },
      want: ['job 1', 'queue g1'],
    },
    {
      name: 'a job that ends also marks every history list and chart of its group stale',
      message: { type: 'job_state', group_id: 'g1', data: job({ id: 1, group_id: 'g1', status: 'failed' }) },
      want: ['history g1', 'history g1 failed', 'job 1', 'queue g1', 'stats g1 1h', 'stats g1 24h'],
    },
    {
      name: 'queue counts reach the group list and the group, and mark its queue stale',
      message: { type: 'queue_update', group_id: 'g1', data: { group_id: 'g1', counts: { pending: 4 } } },
      want: ['group g1', 'groups', 'queue g1'],
    },
    {
      name: 'a group change reaches the group list and the group',
      message: { type: 'group_update', group_id: 'g1', data: { ...g1, paused: true } },
      want: ['group g1', 'groups'],
    },
    {
      name: "a runner reaches the runner list and every group's runner list",
      message: { type: 'runner_status', data: runner({ id: 7, name: 'gpu-1', labels: ['gpu'] }) },
      want: ['group runners g1', 'group runners g2', 'runners'],
    },
    {
      name: 'a system change marks the status stale',
      message: { type: 'system_status', data: {} },
      want: ['status'],
    },
    { name: 'a subscription ack changes nothing', message: { type: 'subscribed', data: ['g1'] }, want: [] },
  ]
  for (const c of cases) {
    it(c.name, async () => {
      serve()
      const qc = new QueryClient({ defaultOptions: { queries: { retry: false, staleTime: Infinity } } })
      const byHash = await mountAll(qc)
      expect(touchedBy(qc, byHash, c.message)).toEqual(c.want)
    })
  }
})
