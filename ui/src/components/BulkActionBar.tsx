import type { BulkAction } from '../api/types'
import { useBulkJobs } from '../api'
import { btnDanger, btnSecondary } from './buttons'
import { ErrorNote } from './ErrorNote'

const actions: { action: BulkAction; label: string; danger?: boolean }[] = [
  { action: 'pause', label: 'Pause' },
  { action: 'unpause', label: 'Resume' },
  { action: 'disable_requeue', label: 'Disable requeue' },
  { action: 'delete', label: 'Remove', danger: true },
  { action: 'cancel', label: 'Cancel', danger: true },
]

/** Actions over the selected jobs in one POST /jobs/bulk. */
export function BulkActionBar({
  groupId,
  ids,
  onDone,
  requeueWarning,
}: {
  groupId: string
  ids: number[]
  onDone: () => void
  requeueWarning: boolean
}) {
  const bulk = useBulkJobs(groupId)
  const failed = bulk.data?.results.filter((r) => !r.ok) ?? []
  return (
    <div
      role="toolbar"
      aria-label="Bulk actions"
      className="sticky top-0 z-20 flex flex-wrap items-center gap-2 rounded-lg border border-indigo-200 bg-indigo-50 p-2 text-sm"
    >
      <span className="font-medium">{ids.length} selected</span>
      {actions.map((a) => (
        <button
          key={a.action}
          type="button"
          className={a.danger ? btnDanger : btnSecondary}
          disabled={bulk.isPending}
          onClick={() => {
            if (
              a.action === 'cancel' &&
              requeueWarning &&
              !window.confirm(
                'Some selected jobs have auto-requeue on: a copy of each goes back to the queue. Cancel anyway?',
              )
            )
              return
            bulk.mutate(
              { action: a.action, job_ids: ids },
              { onSuccess: (res) => res.results.every((r) => r.ok) && onDone() },
            )
          }}
        >
          {a.label}
        </button>
      ))}
      <button type="button" className={btnSecondary} onClick={onDone}>
        Clear selection
      </button>
      <ErrorNote error={bulk.error} />
      {failed.length > 0 && (
        <ul role="alert" className="w-full text-xs text-red-800">
          {failed.map((r) => (
            <li key={r.job_id}>
              #{r.job_id}: {r.error}
            </li>
          ))}
        </ul>
      )}
    </div>
  )
}
