import { useLiveState } from '../live/LiveProvider'

const look = {
  live: { text: 'live', dot: 'bg-emerald-500' },
  connecting: { text: 'connecting', dot: 'bg-amber-400' },
  reconnecting: { text: 'reconnecting', dot: 'bg-amber-500 animate-pulse' },
  stopped: { text: 'offline', dot: 'bg-slate-400' },
} as const

export function LiveIndicator() {
  const s = useLiveState()
  const l = look[s]
  return (
    <span
      role="status"
      aria-live="polite"
      data-testid="live-indicator"
      data-state={s}
      className="inline-flex items-center gap-1.5 rounded-full bg-white/10 px-2 py-0.5 text-xs"
    >
      <span aria-hidden="true" className={`h-2 w-2 rounded-full ${l.dot}`} />
      {l.text}
    </span>
  )
}
