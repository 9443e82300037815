// @vitest-environment jsdom
import { QueryClient, QueryClientProvider } from '@tanstack/react-query'
import { cleanup, render, screen } from '@testing-library/react'
import { MemoryRouter } from 'react-router'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { keys } from '../api/keys'
import { LoginPage } from './LoginPage'

type Answer = { status: number; body: unknown }

/** Serves /auth/providers and records every URL fetched. */
function serve(providers: Answer) {
  const fetched: string[] = []
  vi.stubGlobal(
    'fetch',
    vi.fn((url: string) => {
      fetched.push(url)
      if (url === '/api/v1/auth/providers')
        return Promise.resolve(new Response(JSON.stringify(providers.body), { status: providers.status }))
      return Promise.resolve(new Response(JSON.stringify({ error: 'no route', code: 'not_found' }), { status: 404 }))
    }),
  )
  return fetched
}

function renderAt(url: string) {
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } })
  render(
    <QueryClientProvider client={qc}>
      <MemoryRouter initialEntries={[url]}>
        <LoginPage />
      </MemoryRouter>
    </QueryClientProvider>,
  )
  return qc
}

/** Waits until the providers answer (or its failure) reached the page. */
async function settled(qc: QueryClient) {
  await vi.waitFor(() => expect(qc.getQueryState(keys.authProviders)?.status).not.toBe('pending'))
}

afterEach(() => {
  cleanup()
  vi.unstubAllGlobals()
})

describe('LoginPage', () => {
  const ok = (basic: boolean, github: boolean): Answer => ({ status: 200, body: { basic, github } })
  const cases = [
    { name: 'both enabled: password form and GitHub button', answer: ok(true, true), form: true, github: true },
    { name: 'password only: no GitHub button', answer: ok(true, false), form: true, github: false },
    { name: 'GitHub only: no password form', answer: ok(false, true), form: false, github: true },
    {
      name: 'a server without the route: password form only',
      answer: { status: 404, body: { error: 'not found', code: 'not_found' } },
      form: true,
      github: false,
    },
    {
      name: 'rate limited: password form only',
      answer: { status: 429, body: { error: 'slow down', code: 'rate_limited' } },
      form: true,
      github: false,
    },
  ]
  it.each(cases)('$name', async ({ answer, form, github }) => {
    const fetched = serve(answer)
    const qc = renderAt('/')
    await settled(qc)
    expect(screen.queryByRole('button', { name: 'Sign in' }) !== null).toBe(form)
    const link = screen.queryByRole('link', { name: 'Sign in with GitHub' })
    expect(link !== null).toBe(github)
    if (link) expect(link.getAttribute('href')).toMatch(/^\/api\/v1\/auth\/github\?redirect=/)
    // Asking must not start a GitHub login (rate-limited, sets a cookie).
    expect(fetched).toEqual(['/api/v1/auth/providers'])
  })

  it('says so when no login method is enabled', async () => {
    serve(ok(false, false))
    const qc = renderAt('/')
    await settled(qc)
    expect(screen.getByText('No login method is enabled on this server.')).toBeTruthy()
  })

  it('shows the GitHub callback error as a sentence', async () => {
    serve(ok(true, true))
    const qc = renderAt('/login?error=not_mapped')
    await settled(qc)
    const alert = screen.getByRole('alert', { name: 'GitHub sign-in error' })
    expect(alert.textContent).toMatch(/no dispatchoor role/)
    expect(alert.textContent).not.toContain('not_mapped')
  })

  it('shows no error without ?error=', async () => {
    serve(ok(true, true))
    const qc = renderAt('/login')
    await settled(qc)
    expect(screen.queryByRole('alert')).toBeNull()
  })
})
