import type { Job } from '../api/types'
import { sourceLabel } from '../lib/jobs'

/** Where a job came from; a comment links to the comment. */
export function JobSource({ job }: { job: Pick<Job, 'source' | 'source_url' | 'created_by'> }) {
  const label = sourceLabel(job.source)
  return (
    <span className="text-xs text-slate-600">
      via{' '}
      {job.source_url ? (
        <a href={job.source_url} target="_blank" rel="noreferrer" className="text-indigo-700 underline">
          {label}
        </a>
      ) : (
        label
      )}
      {job.created_by && <> by {job.created_by}</>}
    </span>
  )
}
