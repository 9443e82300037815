import { describe, expect, it } from 'vitest'
import { loginErrorMessage } from './loginErrors'

describe('loginErrorMessage', () => {
  // Every code of server/openapi.yaml's GitHub callback gets its own
  // sentence, never the code itself nor the generic fallback.
  const documented = [
    'state_mismatch',
    'not_mapped',
    'name_taken',
    'oauth_denied',
    'github_error',
    'invalid',
    'not_enabled',
    'internal',
  ]
  it.each(documented)('%s reads as a sentence of its own', (code) => {
    const msg = loginErrorMessage(code)
    expect(msg).toMatch(/^[A-Z].*\.$/)
    expect(msg).not.toContain(code)
    expect(msg).not.toBe(loginErrorMessage('some_future_code'))
  })

  it('gives each documented code a different sentence', () => {
    expect(new Set(documented.map(loginErrorMessage)).size).toBe(documented.length)
  })

  it('an unknown code still says GitHub sign-in failed, naming the code', () => {
    expect(loginErrorMessage('some_future_code')).toBe('Sign-in with GitHub failed (some_future_code).')
  })

  it('inherited object keys are not codes', () => {
    expect(loginErrorMessage('toString')).toBe('Sign-in with GitHub failed (toString).')
  })

  it.each([null, undefined, ''])('no code (%s) is no message', (code) => {
    expect(loginErrorMessage(code)).toBeNull()
  })
})
