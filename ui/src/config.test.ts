import { describe, expect, it } from 'vitest'
import { loadConfig, parseConfig } from './config'

describe('runtime config', () => {
  it.each([
    [{ apiUrl: '' }, ''],
    [{ apiUrl: 'https://api.example.test' }, 'https://api.example.test'],
    [{ apiUrl: ' http://h:8080 ' }, 'http://h:8080'],
    [{ apiUrl: 'javascript:alert(1)' }, ''],
    [{ apiUrl: 42 }, ''],
    [null, ''],
  ])('%j → apiUrl %j', (raw, want) => {
    expect(parseConfig(raw).apiUrl).toBe(want)
  })
  it('a missing config.json means same origin', async () => {
    const f = (() => Promise.resolve(new Response('nope', { status: 404 }))) as unknown as typeof fetch
    expect(await loadConfig(f)).toEqual({ apiUrl: '' })
  })
  it('reads config.json', async () => {
    const f = (() => Promise.resolve(new Response('{"apiUrl":"https://x.test"}'))) as unknown as typeof fetch
    expect(await loadConfig(f)).toEqual({ apiUrl: 'https://x.test' })
  })
})
