import { useMemo, useState } from 'react'
import type { Job } from '../api/types'
import { useGroupRunners, useIsAdmin, useQueue, useTemplates } from '../api'
import { AddJobDialog } from '../components/AddJobDialog'
import { BulkActionBar } from '../components/BulkActionBar'
import { btnPrimary, btnSecondary } from '../components/buttons'
import { ErrorNote } from '../components/ErrorNote'
import { JobCard } from '../components/JobCard'
import { JobDetailDialog } from '../components/JobDetailDialog'
import { ManualJobDialog } from '../components/ManualJobDialog'
import { PendingJobList } from '../components/PendingJobList'
import { RunnerTable } from '../components/RunnerTable'
import { willRequeue } from '../lib/jobs'
import { useNow } from '../lib/useNow'
import { useQueueOrder } from '../lib/useQueueOrder'

export function QueueTab({ groupId }: { groupId: string }) {
  const admin = useIsAdmin()
  const queue = useQueue(groupId)
  const runners = useGroupRunners(groupId)
  const templates = useTemplates(groupId)
  const now = useNow()
  const order = useQueueOrder(groupId, queue.data?.items ?? [])
  const [selected, setSelected] = useState<Set<number>>(new Set())
  const [details, setDetails] = useState<Job | null>(null)
  const [dialog, setDialog] = useState<'template' | 'manual' | null>(null)

  const active = order.view.filter((j) => j.status !== 'pending')
  const pending = order.view.filter((j) => j.status === 'pending')
  const byRunner = useMemo(() => new Map(active.filter((j) => j.runner_name).map((j) => [j.runner_name, j])), [active])
  const selectedIds = order.view.filter((j) => selected.has(j.id)).map((j) => j.id)
  const onSelect = (id: number, on: boolean) =>
    setSelected((s) => {
      const n = new Set(s)
      if (on) n.add(id)
      else n.delete(id)
      return n
    })
  const card = { now, admin, onSelect, onDetails: setDetails }
  const detailJob = details ? (order.view.find((j) => j.id === details.id) ?? details) : null

  return (
    <div className="grid gap-4 lg:grid-cols-[1fr_20rem]">
      <div className="min-w-0 space-y-3">
        {admin && (
          <div className="flex flex-wrap gap-2">
            <button
              type="button"
              className={btnPrimary}
              onClick={() => setDialog('template')}
              disabled={!templates.data?.items.length}
            >
              Add from template
            </button>
            <button type="button" className={btnSecondary} onClick={() => setDialog('manual')}>
              Manual job
            </button>
            {pending.length > 0 && (
              <button
                type="button"
                className={btnSecondary}
                onClick={() => setSelected(new Set(pending.map((j) => j.id)))}
              >
                Select all pending
              </button>
            )}
          </div>
        )}
        {admin && selectedIds.length > 0 && (
          <BulkActionBar
            groupId={groupId}
            ids={selectedIds}
            onDone={() => setSelected(new Set())}
            requeueWarning={order.view.some((j) => selected.has(j.id) && willRequeue(j))}
          />
        )}
        <ErrorNote error={queue.error ?? order.error} />
        {queue.isLoading && <p>Loading…</p>}
        {active.length > 0 && (
          <section aria-labelledby="active-h">
            <h2 id="active-h" className="mb-1 text-sm font-semibold text-slate-600">
              In progress ({active.length})
            </h2>
            <ul className="space-y-2">
              {active.map((j) => (
                <li key={j.id}>
                  <JobCard job={j} selected={selected.has(j.id)} {...card} />
                </li>
              ))}
            </ul>
          </section>
        )}
        <section aria-labelledby="pending-h">
          <h2 id="pending-h" className="mb-1 text-sm font-semibold text-slate-600">
            Pending ({pending.length})
          </h2>
          <PendingJobList
            jobs={pending}
            selected={selected}
            onMove={order.onMove}
            onDragStart={order.onDragStart}
            onDragCancel={order.onDragCancel}
            {...card}
          />
        </section>
      </div>
      <aside aria-labelledby="group-runners-h" className="self-start rounded-lg border border-slate-200 bg-white p-3">
        <h2 id="group-runners-h" className="mb-2 text-sm font-semibold">
          Runners
        </h2>
        <ErrorNote error={runners.error} />
        <RunnerTable
          runners={runners.data?.items ?? []}
          jobsByRunner={byRunner}
          caption="This group's runners"
          compact
        />
      </aside>
      {detailJob && <JobDetailDialog job={detailJob} editable={admin} onClose={() => setDetails(null)} />}
      {dialog === 'template' && templates.data && (
        <AddJobDialog groupId={groupId} templates={templates.data.items} onClose={() => setDialog(null)} />
      )}
      {dialog === 'manual' && <ManualJobDialog groupId={groupId} onClose={() => setDialog(null)} />}
    </div>
  )
}
