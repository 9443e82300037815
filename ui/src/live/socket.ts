// One WebSocket to /api/v1/ws for the whole app: reference-counted group
// subscriptions, reconnect with back-off, and a state for the indicator.
import { backoffDelay } from '../lib/backoff'
import type { LiveMessage } from './messages'
import { parseMessage } from './messages'

export type LiveState = 'connecting' | 'live' | 'reconnecting' | 'stopped'

export interface LiveSocketOptions {
  url: string
  onMessage: (m: LiveMessage) => void
  onState: (s: LiveState) => void
  /** after a reconnect: events were missed, refetch */
  onReconnect?: () => void
  baseMs?: number
  maxMs?: number
  WebSocketImpl?: typeof WebSocket
  setTimer?: (fn: () => void, ms: number) => unknown
  clearTimer?: (t: unknown) => void
}

export class LiveSocket {
  private ws: WebSocket | null = null
  private attempt = 0
  private timer: unknown = null
  private stopped = true
  private everOpen = false
  private subs = new Map<string, number>()
  private readonly o: Required<Omit<LiveSocketOptions, 'onReconnect'>> & Pick<LiveSocketOptions, 'onReconnect'>

  constructor(o: LiveSocketOptions) {
    this.o = {
      baseMs: 500,
      maxMs: 30_000,
      WebSocketImpl: globalThis.WebSocket,
      setTimer: (fn, ms) => setTimeout(fn, ms),
      clearTimer: (t) => clearTimeout(t as ReturnType<typeof setTimeout>),
      ...o,
    }
  }

  start(): void {
    if (!this.stopped) return
    this.stopped = false
    this.connect()
  }

  stop(): void {
    this.stopped = true
    if (this.timer !== null) this.o.clearTimer(this.timer)
    this.timer = null
    const ws = this.ws
    this.ws = null
    if (ws) {
      ws.onclose = null
      ws.close()
    }
    this.o.onState('stopped')
  }

  /** Subscribes to a group's messages; call the result to unsubscribe. */
  subscribe(groupId: string): () => void {
    this.subs.set(groupId, (this.subs.get(groupId) ?? 0) + 1)
    this.sendSubs()
    let done = false
    return () => {
      if (done) return
      done = true
      const n = (this.subs.get(groupId) ?? 1) - 1
      if (n <= 0) this.subs.delete(groupId)
      else this.subs.set(groupId, n)
      this.sendSubs()
    }
  }

  subscriptions(): string[] {
    return [...this.subs.keys()].sort()
  }

  private sendSubs(): void {
    const ws = this.ws
    if (ws && ws.readyState === 1) ws.send(JSON.stringify({ subscribe: this.subscriptions() }))
  }

  private connect(): void {
    this.o.onState(this.everOpen ? 'reconnecting' : 'connecting')
    let ws: WebSocket
    try {
      ws = new this.o.WebSocketImpl(this.o.url)
    } catch {
      this.scheduleReconnect()
      return
    }
    this.ws = ws
    ws.onopen = () => {
      const reconnected = this.everOpen
      this.attempt = 0
      this.everOpen = true
      this.o.onState('live')
      this.sendSubs()
      if (reconnected) this.o.onReconnect?.()
    }
    ws.onmessage = (ev: MessageEvent) => {
      if (typeof ev.data !== 'string') return
      const m = parseMessage(ev.data)
      if (m) this.o.onMessage(m)
    }
    ws.onclose = () => {
      if (this.ws === ws) this.ws = null
      if (!this.stopped) this.scheduleReconnect()
    }
  }

  private scheduleReconnect(): void {
    this.o.onState('reconnecting')
    // A socket that never opened keeps "connecting" semantics for the first
    // try only; after that the indicator says reconnecting.
    this.everOpen = true
    const delay = backoffDelay(this.attempt++, { baseMs: this.o.baseMs, maxMs: this.o.maxMs })
    this.timer = this.o.setTimer(() => {
      this.timer = null
      if (!this.stopped) this.connect()
    }, delay)
  }
}
