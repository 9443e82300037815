import { useEffect, useRef, useState } from 'react'
import { useStatus } from '../api'
import { formatDuration } from '../lib/time'
import { useNow } from '../lib/useNow'

/** Database, dispatcher leader and last cycle, GitHub rate limits. */
export function StatusMenu() {
  const [open, setOpen] = useState(false)
  const box = useRef<HTMLDivElement>(null)
  useEffect(() => {
    if (!open) return
    const onKey = (e: KeyboardEvent) => e.key === 'Escape' && setOpen(false)
    const onDown = (e: MouseEvent) => box.current && !box.current.contains(e.target as Node) && setOpen(false)
    window.addEventListener('keydown', onKey)
    window.addEventListener('mousedown', onDown)
    return () => {
      window.removeEventListener('keydown', onKey)
      window.removeEventListener('mousedown', onDown)
    }
  }, [open])
  const status = useStatus(open)
  const now = useNow(5000)
  const s = status.data
  const dbOk = s?.database.ok
  return (
    <div className="relative" ref={box}>
      <button
        type="button"
        aria-expanded={open}
        aria-controls="status-menu"
        onClick={() => setOpen(!open)}
        className="rounded px-2 py-1 text-sm hover:bg-white/10"
      >
        Status
      </button>
      {open && (
        <div
          id="status-menu"
          role="region"
          aria-label="System status"
          className="absolute right-0 z-30 mt-1 w-72 rounded-lg border border-slate-200 bg-white p-3 text-sm text-slate-800 shadow-lg"
        >
          {status.isLoading && <p>Loading…</p>}
          {status.error && <p className="text-red-700">{status.error.message}</p>}
          {s && (
            <dl className="grid grid-cols-[auto_1fr] gap-x-3 gap-y-1">
              <dt className="text-slate-500">Database</dt>
              <dd>
                {s.database.driver} ·{' '}
                <span className={dbOk ? 'text-emerald-700' : 'text-red-700'}>
                  {dbOk ? 'ok' : s.database.error || 'down'}
                </span>
              </dd>
              <dt className="text-slate-500">Dispatcher</dt>
              <dd>
                {s.dispatcher
                  ? s.dispatcher.enabled
                    ? s.dispatcher.leader
                      ? 'leader'
                      : 'standby'
                    : 'disabled'
                  : 'not running here'}
              </dd>
              <dt className="text-slate-500">Last cycle</dt>
              <dd>
                {s.dispatcher?.last_cycle ? `${formatDuration(now - Date.parse(s.dispatcher.last_cycle))} ago` : '—'}
              </dd>
              <dt className="text-slate-500">Rate limits</dt>
              <dd>
                {s.installations.length === 0 && '—'}
                <ul>
                  {s.installations.map((i) => (
                    <li key={i.id}>
                      {i.account}: {i.rate_limit_remaining == null ? 'not seen yet' : `${i.rate_limit_remaining} left`}
                      {i.active ? '' : ' (suspended)'}
                    </li>
                  ))}
                </ul>
              </dd>
              <dt className="text-slate-500">Live clients</dt>
              <dd>{s.websocket_clients ?? '—'}</dd>
              <dt className="text-slate-500">Version</dt>
              <dd>{s.version || 'dev'}</dd>
            </dl>
          )}
        </div>
      )}
    </div>
  )
}
