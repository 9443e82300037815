import type { Job } from '../api/types'
import { useJobAction } from '../api'
import { willRequeue } from '../lib/jobs'
import { btnDanger, btnSecondary } from './buttons'
import { Dialog } from './Dialog'
import { ErrorNote } from './ErrorNote'

export function CancelJobDialog({ job, onClose }: { job: Job; onClose: () => void }) {
  const act = useJobAction()
  const requeue = willRequeue(job)
  return (
    <Dialog title={`Cancel ${job.name}?`} onClose={onClose}>
      <p className="text-sm">
        {job.status === 'pending'
          ? 'The job is withdrawn from the queue.'
          : 'The run is cancelled on GitHub; the job is marked cancelled when GitHub confirms.'}
      </p>
      {requeue && (
        <p role="note" className="mt-2 rounded border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-900">
          Auto-requeue is on: a copy of this job will go to the bottom of the queue
          {job.requeue_limit > 0 ? ` (requeue ${job.requeue_count + 1} of ${job.requeue_limit})` : ''}. Turn
          auto-requeue off first to stop it for good.
        </p>
      )}
      <ErrorNote error={act.error} />
      <div className="mt-4 flex justify-end gap-2">
        <button type="button" className={btnSecondary} onClick={onClose}>
          Keep it
        </button>
        {requeue && (
          <button
            type="button"
            className={btnSecondary}
            disabled={act.isPending}
            onClick={() => {
              // A failure stays open and shows in the ErrorNote above (act.error).
              act
                .mutateAsync({ job, action: 'disable-requeue' })
                .then(() => act.mutateAsync({ job, action: 'cancel' }))
                .then(onClose, () => {})
            }}
          >
            Cancel without requeue
          </button>
        )}
        <button
          type="button"
          className={btnDanger}
          disabled={act.isPending}
          onClick={() => act.mutate({ job, action: 'cancel' }, { onSuccess: onClose })}
        >
          Cancel job
        </button>
      </div>
    </Dialog>
  )
}
