import { Link } from 'react-router'
import type { Group, HistoryBucket } from '../api/types'
import { useGroupRunners, useHistoryStats } from '../api'
import { countRunners } from '../lib/jobs'
import { OutcomesChart } from './OutcomesChart'

function finished(bs: HistoryBucket[]): string {
  const t = bs.reduce((a, b) => ({ ok: a.ok + b.completed, bad: a.bad + b.failed + b.cancelled }), { ok: 0, bad: 0 })
  return `${t.ok} completed, ${t.bad} failed or cancelled`
}

function Count({ label, value }: { label: string; value: number | string }) {
  return (
    <div>
      <dt className="text-xs text-slate-500">{label}</dt>
      <dd className="text-lg font-semibold tabular-nums" data-testid={`count-${label}`}>
        {value}
      </dd>
    </div>
  )
}

/** One group on the dashboard: queue and runner counts, paused state, last 24h. */
export function GroupCard({ group }: { group: Group }) {
  const runners = useGroupRunners(group.id)
  const stats = useHistoryStats(group.id, '24h')
  const q = group.queue ?? {}
  const rc = countRunners(runners.data?.items ?? [])
  const running = (q.dispatching ?? 0) + (q.triggered ?? 0) + (q.running ?? 0)
  return (
    <article
      aria-labelledby={`g-${group.id}`}
      data-testid="group-card"
      data-group={group.id}
      className="rounded-lg border border-slate-200 bg-white p-4 shadow-sm"
    >
      <div className="mb-2 flex items-start justify-between gap-2">
        <h2 id={`g-${group.id}`} className="font-semibold">
          <Link to={`/groups/${encodeURIComponent(group.id)}/queue`} className="hover:underline">
            {group.name || group.id}
          </Link>
        </h2>
        <div className="flex gap-1">
          {group.paused && (
            <span className="rounded bg-yellow-100 px-1.5 py-0.5 text-xs font-medium text-yellow-800">paused</span>
          )}
          {!group.enabled && <span className="rounded bg-slate-200 px-1.5 py-0.5 text-xs">disabled</span>}
        </div>
      </div>
      <dl className="grid grid-cols-4 gap-2">
        <Count label="queued" value={q.pending ?? 0} />
        <Count label="running" value={running} />
        <Count label="idle" value={runners.data ? rc.idle : '…'} />
        <Count label="busy" value={runners.data ? rc.busy : '…'} />
      </dl>
      <p className="mt-1 truncate font-mono text-xs text-slate-500">{group.runner_labels.join(', ')}</p>
      {stats.data && (
        <div className="mt-2">
          <p className="text-xs text-slate-500">Finished in the last 24 h: {finished(stats.data.items)}</p>
          {stats.data.items.some((b) => b.completed + b.failed + b.cancelled > 0) && (
            <OutcomesChart buckets={stats.data.items} compact />
          )}
        </div>
      )}
    </article>
  )
}
