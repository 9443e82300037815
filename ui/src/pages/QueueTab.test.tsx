// @vitest-environment jsdom
import { QueryClient, QueryClientProvider } from '@tanstack/react-query'
import { cleanup, render, screen, within } from '@testing-library/react'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { keys } from '../api/keys'
import type { Me } from '../api/types'
import { job, runner } from '../test/fixtures'
import { QueueTab } from './QueueTab'

function serve(me: Me) {
  const routes: Record<string, unknown> = {
    '/api/v1/auth/me': me,
    '/api/v1/groups/g1/queue?limit=1000': {
      items: [
        job({ id: 1, name: 'running one', status: 'running', runner_name: 'r1', auto_requeue: true }),
        job({
          id: 2,
          name: 'waiting one',
          source: 'comment',
          source_url: 'https://github.com/o/r/issues/1#issuecomment-9',
        }),
      ],
      next_cursor: '',
    },
    '/api/v1/groups/g1/runners': { items: [runner({ id: 5, name: 'r1', busy: true })], next_cursor: '' },
    '/api/v1/groups/g1/templates': { items: [], next_cursor: '' },
  }
  vi.stubGlobal(
    'fetch',
    vi.fn((url: string) => {
      const body = routes[url]
      return Promise.resolve(
        body === undefined
          ? new Response(JSON.stringify({ error: 'no route', code: 'not_found' }), { status: 404 })
          : new Response(JSON.stringify(body), { status: 200 }),
      )
    }),
  )
}

function renderTab() {
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } })
  render(
    <QueryClientProvider client={qc}>
      <QueueTab groupId="g1" />
    </QueryClientProvider>,
  )
  return qc
}

afterEach(() => {
  cleanup()
  vi.unstubAllGlobals()
})

describe('QueueTab', () => {
  it('shows an admin every control, and the runner with its current job', async () => {
    serve({ username: 'a', role: 'admin', auth: 'session' })
    renderTab()
    const waiting = await screen.findByRole('article', { name: 'Job waiting one' })
    await screen.findByRole('button', { name: 'Add from template' })
    expect(within(waiting).getByRole('button', { name: 'Reorder waiting one' })).toBeTruthy()
    for (const name of ['Pause waiting one', 'Edit waiting one', 'Remove waiting one', 'Cancel waiting one']) {
      expect(within(waiting).getByRole('button', { name })).toBeTruthy()
    }
    expect(within(waiting).getByRole('link', { name: 'Comment' }).getAttribute('href')).toContain('issuecomment-9')
    const running = screen.getByRole('article', { name: 'Job running one' })
    expect(within(running).queryByRole('button', { name: /^Reorder/ })).toBeNull()
    expect(within(running).queryByRole('button', { name: /^Remove/ })).toBeNull()
    const row = screen.getByRole('row', { name: /r1/ })
    expect(row.textContent).toContain('running one')
  })

  it('shows a readonly user the queue but no control that the API would refuse', async () => {
    serve({ username: 'v', role: 'readonly', auth: 'session' })
    const qc = renderTab()
    await screen.findByRole('article', { name: 'Job waiting one' })
    // The role must be known, so that the absence below is not "not loaded yet".
    await vi.waitFor(() => expect(qc.getQueryData<Me>(keys.me)?.role).toBe('readonly'))
    expect(screen.queryByRole('button', { name: /Add from template|Manual job|Select all/ })).toBeNull()
    expect(screen.queryByRole('button', { name: /^(Reorder|Pause|Edit|Remove|Cancel) / })).toBeNull()
    expect(screen.queryByRole('checkbox')).toBeNull()
  })
})
