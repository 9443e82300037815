import { useState } from 'react'
import type { Job } from '../api/types'
import { useUpdateJob } from '../api'
import { formatTime } from '../lib/time'
import { btnPrimary, btnSecondary, input } from './buttons'
import { Dialog } from './Dialog'
import { ErrorNote } from './ErrorNote'
import { fromRows, InputsEditor, toRows } from './InputsEditor'
import { JobInputs } from './JobInputs'
import { JobSource } from './JobSource'
import { JobStateBadge } from './JobStateBadge'

/** A job's details; a pending job's ref and inputs can be edited by admins. */
export function JobDetailDialog({ job, editable, onClose }: { job: Job; editable: boolean; onClose: () => void }) {
  const update = useUpdateJob()
  const [ref, setRef] = useState(job.ref)
  const [rows, setRows] = useState(toRows(job.inputs))
  const canEdit = editable && job.status === 'pending'
  return (
    <Dialog title={`Job #${job.id}: ${job.name}`} onClose={onClose} wide>
      <div className="mb-3 flex flex-wrap items-center gap-2 text-sm">
        <JobStateBadge status={job.status} paused={job.paused} />
        <span className="font-mono text-xs">
          {job.owner}/{job.repo} · {job.workflow_id}
        </span>
        <JobSource job={job} />
      </div>
      <dl className="mb-3 grid grid-cols-[auto_1fr] gap-x-3 text-sm">
        <dt className="text-slate-500">Created</dt>
        <dd>{formatTime(job.created_at)}</dd>
        <dt className="text-slate-500">Triggered</dt>
        <dd>{formatTime(job.triggered_at)}</dd>
        <dt className="text-slate-500">Started</dt>
        <dd>{formatTime(job.started_at)}</dd>
        {job.run_url && (
          <>
            <dt className="text-slate-500">Run</dt>
            <dd>
              <a className="text-indigo-700 underline" href={job.run_url} target="_blank" rel="noreferrer">
                #{job.run_id}
              </a>
            </dd>
          </>
        )}
        {job.error && (
          <>
            <dt className="text-slate-500">Error</dt>
            <dd className="text-red-700">{job.error}</dd>
          </>
        )}
      </dl>
      {canEdit ? (
        <form
          className="space-y-3"
          onSubmit={(e) => {
            e.preventDefault()
            update.mutate({ id: job.id, body: { ref, inputs: fromRows(rows) } }, { onSuccess: onClose })
          }}
        >
          <label className="block text-sm font-medium">
            Ref
            <input className={input} value={ref} onChange={(e) => setRef(e.target.value)} />
          </label>
          <InputsEditor rows={rows} onChange={setRows} />
          <ErrorNote error={update.error} />
          <div className="flex justify-end gap-2">
            <button type="button" className={btnSecondary} onClick={onClose}>
              Close
            </button>
            <button type="submit" className={btnPrimary} disabled={update.isPending}>
              Save
            </button>
          </div>
        </form>
      ) : (
        <div className="text-sm">
          <p className="mb-1">
            Ref <span className="font-mono">{job.ref}</span>
          </p>
          <JobInputs inputs={job.inputs} />
        </div>
      )}
    </Dialog>
  )
}
