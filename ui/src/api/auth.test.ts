import { describe, expect, it } from 'vitest'
import { redirects } from './auth'

describe('GitHub login probe', () => {
  const cases: { name: string; type: ResponseType; status: number; want: boolean }[] = [
    { name: 'browser, redirect to GitHub: enabled', type: 'opaqueredirect', status: 0, want: true },
    { name: 'non-browser 302: enabled', type: 'basic', status: 302, want: true },
    { name: 'not_enabled 404', type: 'basic', status: 404, want: false },
    { name: 'rate limited: assume not', type: 'basic', status: 429, want: false },
  ]
  it.each(cases)('$name', ({ type, status, want }) => {
    expect(redirects({ type, status })).toBe(want)
  })
})
