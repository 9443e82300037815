import type { ReactNode } from 'react'
import type { Job } from '../api/types'
import { formatDuration, waitingMs } from '../lib/time'
import { AutoRequeueControl } from './AutoRequeueControl'
import { JobActions } from './JobActions'
import { JobInputs } from './JobInputs'
import { JobSource } from './JobSource'
import { JobStateBadge } from './JobStateBadge'

export interface JobCardProps {
  job: Job
  now: number
  admin: boolean
  selected: boolean
  onSelect: (id: number, on: boolean) => void
  onDetails: (job: Job) => void
  /** the drag handle, for pending jobs an admin may reorder */
  handle?: ReactNode
}

/** One queued job: state, inputs, source, run, runner, waiting time. */
export function JobCard({ job, now, admin, selected, onSelect, onDetails, handle }: JobCardProps) {
  return (
    <article
      aria-label={`Job ${job.name}`}
      data-testid="job-card"
      data-job-id={job.id}
      data-status={job.status}
      className={`flex gap-2 rounded-lg border bg-white p-3 shadow-sm ${selected ? 'border-indigo-400 ring-1 ring-indigo-300' : 'border-slate-200'}`}
    >
      {handle}
      {admin && (
        <input
          type="checkbox"
          className="mt-1 self-start"
          checked={selected}
          onChange={(e) => onSelect(job.id, e.target.checked)}
          aria-label={`Select ${job.name}`}
        />
      )}
      <div className="min-w-0 flex-1 space-y-1">
        <div className="flex flex-wrap items-center gap-2">
          <button
            type="button"
            onClick={() => onDetails(job)}
            className="truncate text-left font-medium text-slate-900 hover:underline"
            title="Details"
          >
            {job.name}
          </button>
          <span className="text-xs text-slate-400">#{job.id}</span>
          <JobStateBadge status={job.status} paused={job.paused} />
          {job.cancel_requested && (
            <span className="rounded bg-red-50 px-1.5 py-0.5 text-xs text-red-700">cancelling…</span>
          )}
          {job.label_mismatch && (
            <span className="rounded bg-red-100 px-1.5 py-0.5 text-xs text-red-800" title={job.label_mismatch}>
              runs-on mismatch
            </span>
          )}
          {job.auto_requeue && (
            <span className="rounded bg-violet-100 px-1.5 py-0.5 text-xs text-violet-800">
              requeue {job.requeue_count}/{job.requeue_limit || '∞'}
            </span>
          )}
        </div>
        <JobInputs inputs={job.inputs} />
        <div className="flex flex-wrap gap-x-3 gap-y-0.5 text-xs text-slate-600">
          <JobSource job={job} />
          <span>
            ref <span className="font-mono">{job.ref}</span>
          </span>
          <span>
            {job.started_at ? 'waited' : 'waiting'} {formatDuration(waitingMs(job, now))}
          </span>
          {job.runner_name && (
            <span>
              on <span className="font-mono">{job.runner_name}</span>
            </span>
          )}
          {job.run_url && (
            <a href={job.run_url} target="_blank" rel="noreferrer" className="text-indigo-700 underline">
              run #{job.run_id}
            </a>
          )}
          {job.error && <span className="text-red-700">{job.error}</span>}
        </div>
        {job.label_mismatch && (
          <p className="text-xs text-red-700">
            No runner of this group has the labels this run asks for: {job.label_mismatch}
          </p>
        )}
        {admin && (
          <div className="flex flex-wrap items-center justify-between gap-2 pt-1">
            <AutoRequeueControl job={job} />
            <JobActions job={job} onDetails={() => onDetails(job)} />
          </div>
        )}
      </div>
    </article>
  )
}
