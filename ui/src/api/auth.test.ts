import { describe, expect, it } from 'vitest'
import { githubLoginHref } from './auth'

describe('githubLoginHref', () => {
  const cases = [
    { name: 'returns to the page it started from', from: '/groups/g1/queue', want: '/groups/g1/queue' },
    { name: 'the root stays the root', from: '/', want: '/' },
    { name: 'not to /login, which is gone after a login', from: '/login', want: '/' },
    { name: 'not below /login either', from: '/login/x', want: '/' },
    { name: 'a page merely starting with "login" is kept', from: '/loginhistory', want: '/loginhistory' },
  ]
  it.each(cases)('$name', ({ from, want }) => {
    expect(githubLoginHref(from)).toBe('/api/v1/auth/github?redirect=' + encodeURIComponent(want))
  })
})
