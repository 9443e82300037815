import { describe, expect, it } from 'vitest'
import type { LiveMessage } from './messages'
import { LiveSocket, type LiveState } from './socket'

class FakeWS {
  static all: FakeWS[] = []
  readyState = 0
  sent: string[] = []
  onopen: (() => void) | null = null
  onclose: (() => void) | null = null
  onmessage: ((e: { data: unknown }) => void) | null = null
  closed = false
  constructor(readonly url: string) {
    FakeWS.all.push(this)
  }
  send(s: string) {
    this.sent.push(s)
  }
  close() {
    this.closed = true
  }
  open() {
    this.readyState = 1
    this.onopen?.()
  }
  drop() {
    this.readyState = 3
    this.onclose?.()
  }
}

function harness() {
  FakeWS.all = []
  const states: LiveState[] = []
  const msgs: LiveMessage[] = []
  const timers: { fn: () => void; ms: number }[] = []
  let reconnects = 0
  const s = new LiveSocket({
    url: 'ws://x/api/v1/ws',
    onMessage: (m) => msgs.push(m),
    onState: (st) => states.push(st),
    onReconnect: () => reconnects++,
    baseMs: 100,
    maxMs: 1000,
    WebSocketImpl: FakeWS as unknown as typeof WebSocket,
    setTimer: (fn, ms) => {
      timers.push({ fn, ms })
      return timers.length
    },
    clearTimer: () => {},
  })
  return { s, states, msgs, timers, reconnects: () => reconnects, ws: () => FakeWS.all[FakeWS.all.length - 1] }
}

describe('LiveSocket', () => {
  it('goes live on open and sends the current subscriptions', () => {
    const h = harness()
    const off = h.s.subscribe('g2')
    h.s.subscribe('g1')
    h.s.start()
    h.ws().open()
    expect(h.states).toEqual(['connecting', 'live'])
    expect(JSON.parse(h.ws().sent.at(-1)!)).toEqual({ subscribe: ['g1', 'g2'] })
    off()
    expect(JSON.parse(h.ws().sent.at(-1)!)).toEqual({ subscribe: ['g1'] })
  })

  it('counts subscriptions so two views of one group unsubscribe independently', () => {
    const h = harness()
    const a = h.s.subscribe('g1')
    const b = h.s.subscribe('g1')
    a()
    a()
    expect(h.s.subscriptions()).toEqual(['g1'])
    b()
    expect(h.s.subscriptions()).toEqual([])
  })

  it('reconnects with growing delays, says reconnecting, and resubscribes and refetches when back', () => {
    const h = harness()
    h.s.subscribe('g1')
    h.s.start()
    h.ws().open()
    h.ws().drop()
    expect(h.states.at(-1)).toBe('reconnecting')
    expect(h.timers).toHaveLength(1)
    h.timers[0].fn()
    h.ws().drop() // the retry fails too
    expect(h.timers).toHaveLength(2)
    expect(h.timers[1].ms).toBeGreaterThanOrEqual(100)
    expect(h.timers[0].ms).toBeLessThanOrEqual(100)
    h.timers[1].fn()
    h.ws().open()
    expect(h.states.at(-1)).toBe('live')
    expect(h.reconnects()).toBe(1)
    expect(JSON.parse(h.ws().sent.at(-1)!)).toEqual({ subscribe: ['g1'] })
    // A successful open resets the back-off.
    h.ws().drop()
    expect(h.timers[2].ms).toBeLessThanOrEqual(100)
  })

  it('passes parsed messages on and ignores garbage', () => {
    const h = harness()
    h.s.start()
    h.ws().open()
    h.ws().onmessage?.({ data: '{"type":"queue_update","group_id":"g","data":{"counts":{"pending":1}}}' })
    h.ws().onmessage?.({ data: 'nonsense' })
    expect(h.msgs).toHaveLength(1)
    expect(h.msgs[0].type).toBe('queue_update')
  })

  it('stop closes the socket and never reconnects', () => {
    const h = harness()
    h.s.start()
    h.ws().open()
    const ws = h.ws()
    h.s.stop()
    expect(ws.closed).toBe(true)
    ws.drop()
    expect(h.timers).toHaveLength(0)
    expect(h.states.at(-1)).toBe('stopped')
  })
})
