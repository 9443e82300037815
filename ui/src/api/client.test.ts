import { afterEach, describe, expect, it, vi } from 'vitest'
import { ApiError, del, get, post, put, setApiBase, wsUrl } from './client'

type Call = { url: string; init: RequestInit }

function stub(status: number, body: string) {
  const calls: Call[] = []
  vi.stubGlobal(
    'fetch',
    vi.fn((url: string, init: RequestInit) => {
      calls.push({ url, init })
      return Promise.resolve(new Response(status === 204 ? null : body, { status }))
    }),
  )
  return calls
}

afterEach(() => {
  vi.unstubAllGlobals()
  setApiBase('')
})

describe('request', () => {
  it('sends the CSRF header on unsafe methods only, always with credentials', async () => {
    const calls = stub(200, '{}')
    await get('/a')
    await post('/b', { x: 1 })
    await put('/c', {})
    const h = (c: Call) => new Headers(c.init.headers)
    expect(h(calls[0]).get('X-Requested-With')).toBeNull()
    expect(h(calls[1]).get('X-Requested-With')).toBe('dispatchoor')
    expect(h(calls[2]).get('X-Requested-With')).toBe('dispatchoor')
    expect(calls.every((c) => c.init.credentials === 'include')).toBe(true)
    expect(calls[1].init.body).toBe('{"x":1}')
  })

  it('turns the API error shape into an ApiError with status, code and field', async () => {
    stub(400, '{"error":"invalid position","code":"invalid","field":"position"}')
    const e = await post('/x').catch((x: unknown) => x)
    expect(e).toBeInstanceOf(ApiError)
    expect(e).toMatchObject({ status: 400, code: 'invalid', field: 'position', message: 'invalid position' })
  })

  it('copes with a non-JSON error body', async () => {
    stub(502, '<html>bad gateway</html>')
    await expect(get('/x')).rejects.toMatchObject({ status: 502, message: 'GET /x: HTTP 502' })
  })

  it('answers undefined for 204', async () => {
    stub(204, '')
    await expect(del('/jobs/1')).resolves.toBeUndefined()
  })

  it('prefixes the configured API origin', async () => {
    const calls = stub(200, '{}')
    setApiBase('https://api.example.test/')
    await get('/api/v1/groups')
    expect(calls[0].url).toBe('https://api.example.test/api/v1/groups')
  })
})

describe('wsUrl', () => {
  it('follows the page on the same origin, with wss under https', () => {
    expect(wsUrl({ protocol: 'http:', host: 'h:8080' })).toBe('ws://h:8080/api/v1/ws')
    expect(wsUrl({ protocol: 'https:', host: 'h' })).toBe('wss://h/api/v1/ws')
  })
  it('follows the configured API origin', () => {
    setApiBase('https://api.example.test')
    expect(wsUrl({ protocol: 'http:', host: 'other' })).toBe('wss://api.example.test/api/v1/ws')
  })
})
