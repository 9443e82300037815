import { useState } from 'react'
import type { Job } from '../api/types'
import { useJobAction } from '../api'
import { btnDanger, btnSecondary } from './buttons'
import { CancelJobDialog } from './CancelJobDialog'
import { ErrorNote } from './ErrorNote'

/** Admin controls of one job; only those its state allows. */
export function JobActions({ job, onDetails }: { job: Job; onDetails: () => void }) {
  const act = useJobAction()
  const [cancelling, setCancelling] = useState(false)
  const pending = job.status === 'pending'
  return (
    <div className="flex flex-wrap items-center gap-1">
      {pending && (
        <button
          type="button"
          className={btnSecondary}
          disabled={act.isPending}
          onClick={() => act.mutate({ job, action: job.paused ? 'unpause' : 'pause' })}
          aria-label={`${job.paused ? 'Resume' : 'Pause'} ${job.name}`}
        >
          {job.paused ? 'Resume' : 'Pause'}
        </button>
      )}
      {pending && (
        <button type="button" className={btnSecondary} onClick={onDetails} aria-label={`Edit ${job.name}`}>
          Edit
        </button>
      )}
      {pending && (
        <button
          type="button"
          className={btnSecondary}
          disabled={act.isPending}
          onClick={() => act.mutate({ job, action: 'delete' })}
          aria-label={`Remove ${job.name}`}
        >
          Remove
        </button>
      )}
      {!job.cancel_requested && (
        <button
          type="button"
          className={btnDanger}
          onClick={() => setCancelling(true)}
          aria-label={`Cancel ${job.name}`}
        >
          Cancel
        </button>
      )}
      {cancelling && <CancelJobDialog job={job} onClose={() => setCancelling(false)} />}
      <ErrorNote error={act.error} />
    </div>
  )
}
