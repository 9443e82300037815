import type { Job } from '../api/types'
import { formatDuration, formatTime } from '../lib/time'
import { JobInputs } from './JobInputs'
import { JobSource } from './JobSource'
import { JobStateBadge } from './JobStateBadge'

function took(j: Job): string {
  if (!j.started_at || !j.completed_at) return '—'
  return formatDuration(Date.parse(j.completed_at) - Date.parse(j.started_at))
}

export function HistoryList({ jobs }: { jobs: Job[] }) {
  if (!jobs.length) return <p className="text-sm text-slate-500">No finished jobs match.</p>
  return (
    <ul aria-label="Finished jobs" className="divide-y divide-slate-100 rounded-lg border border-slate-200 bg-white">
      {jobs.map((j) => (
        <li
          key={j.id}
          data-testid="history-row"
          data-job-id={j.id}
          data-status={j.status}
          className="flex flex-wrap items-center gap-x-3 gap-y-1 p-2 text-sm"
        >
          <JobStateBadge status={j.status} />
          <span className="font-medium">{j.name}</span>
          <span className="text-xs text-slate-400">#{j.id}</span>
          {j.conclusion && <span className="text-xs text-slate-500">{j.conclusion}</span>}
          <JobInputs inputs={j.inputs} />
          <span className="flex-1" />
          <JobSource job={j} />
          <span className="text-xs text-slate-600">
            ran {took(j)} · ended {formatTime(j.completed_at)}
          </span>
          {j.run_url && (
            <a className="text-xs text-indigo-700 underline" href={j.run_url} target="_blank" rel="noreferrer">
              run #{j.run_id}
            </a>
          )}
          {j.error && <span className="w-full text-xs text-red-700">{j.error}</span>}
        </li>
      ))}
    </ul>
  )
}
