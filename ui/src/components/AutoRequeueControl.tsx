import { useState } from 'react'
import type { Job } from '../api/types'
import { useSetAutoRequeue } from '../api'
import { ErrorNote } from './ErrorNote'

/** Toggle auto-requeue and its limit (0 = no limit) on one job. */
export function AutoRequeueControl({ job }: { job: Job }) {
  const m = useSetAutoRequeue()
  const [limit, setLimit] = useState(String(job.requeue_limit))
  const save = (enabled: boolean, l = limit) =>
    m.mutate({ id: job.id, enabled, requeue_limit: Math.max(0, parseInt(l, 10) || 0) })
  return (
    <div className="flex flex-wrap items-center gap-2 text-xs">
      <label className="inline-flex items-center gap-1">
        <input
          type="checkbox"
          checked={job.auto_requeue}
          disabled={m.isPending}
          onChange={(e) => save(e.target.checked)}
        />
        Auto-requeue
      </label>
      {job.auto_requeue && (
        <label className="inline-flex items-center gap-1">
          limit
          <input
            type="number"
            min={0}
            value={limit}
            aria-label={`Requeue limit of ${job.name}`}
            className="w-14 rounded border border-slate-300 px-1"
            onChange={(e) => setLimit(e.target.value)}
            onBlur={() => String(job.requeue_limit) !== limit && save(true)}
          />
          <span className="text-slate-500">
            ({job.requeue_count} used{job.requeue_limit === 0 ? ', no limit' : ''})
          </span>
        </label>
      )}
      <ErrorNote error={m.error} />
    </div>
  )
}
