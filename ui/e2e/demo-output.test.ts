import { describe, expect, it } from 'vitest'
import { parseDemoOutput } from './demo-output'

describe('parseDemoOutput', () => {
  it('reads the banner of dispatchoor demo', () => {
    const out = `
dispatchoor demo — the whole product against a simulated GitHub

  dashboard   http://127.0.0.1:41234
  admin       admin / Zx9-secret
  readonly    viewer / pw-2
  simulator   http://127.0.0.1:40000  (organization "demo-org", 12 runners, jobs run 6x faster)
  data        /tmp/dispatchoor-demo-1 (removed on exit)
`
    expect(parseDemoOutput(out)).toEqual({
      url: 'http://127.0.0.1:41234',
      admin: { username: 'admin', password: 'Zx9-secret' },
      readonly: { username: 'viewer', password: 'pw-2' },
    })
  })
  it('accepts key=value credentials and colon separators', () => {
    const out = 'listening on http://localhost:9090\nusername=root password=p1 role=admin\nreadonly: bob:p2\n'
    expect(parseDemoOutput(out)).toEqual({
      url: 'http://localhost:9090',
      admin: { username: 'root', password: 'p1' },
      readonly: { username: 'bob', password: 'p2' },
    })
  })
  it('is null until the URL is printed', () => {
    expect(parseDemoOutput('starting…\n  admin       admin / x\n')).toBeNull()
  })
  it('ignores the simulator URL when it comes first', () => {
    expect(parseDemoOutput('simulator http://127.0.0.1:1\ndashboard http://127.0.0.1:2\n')?.url).toBe(
      'http://127.0.0.1:2',
    )
  })
})
