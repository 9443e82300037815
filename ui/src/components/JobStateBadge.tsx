import type { JobStatus } from '../api/types'

const color: Record<JobStatus, string> = {
  pending: 'bg-slate-100 text-slate-700',
  dispatching: 'bg-amber-100 text-amber-800',
  triggered: 'bg-sky-100 text-sky-800',
  running: 'bg-indigo-100 text-indigo-800',
  completed: 'bg-emerald-100 text-emerald-800',
  failed: 'bg-red-100 text-red-800',
  cancelled: 'bg-zinc-200 text-zinc-700',
}

export function JobStateBadge({ status, paused }: { status: JobStatus; paused?: boolean }) {
  return (
    <span className="inline-flex gap-1">
      <span data-testid="job-status" className={`rounded px-1.5 py-0.5 text-xs font-medium ${color[status] ?? ''}`}>
        {status}
      </span>
      {paused && (
        <span className="rounded bg-yellow-100 px-1.5 py-0.5 text-xs font-medium text-yellow-800">paused</span>
      )}
    </span>
  )
}
