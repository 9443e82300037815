import { useMemo } from 'react'
import { useAllQueues, useGroups, useIsAdmin, useRefreshRunners, useRunners } from '../api'
import { btnSecondary } from '../components/buttons'
import { ErrorNote } from '../components/ErrorNote'
import { RunnerTable } from '../components/RunnerTable'
import { useLiveGroups } from '../live/LiveProvider'
import { countRunners } from '../lib/jobs'

export function RunnersPage() {
  const runners = useRunners()
  const groupIds = useGroups().data?.items.map((g) => g.id) ?? []
  useLiveGroups(groupIds)
  const jobs = useAllQueues(groupIds)
  const byRunner = useMemo(
    () => new Map(jobs.filter((j) => j.runner_name && j.status !== 'pending').map((j) => [j.runner_name, j])),
    [jobs],
  )
  const admin = useIsAdmin()
  const refresh = useRefreshRunners()
  const items = runners.data?.items ?? []
  const c = countRunners(items)
  return (
    <section aria-labelledby="runners-h" className="rounded-lg border border-slate-200 bg-white p-4">
      <div className="mb-1 flex flex-wrap items-center justify-between gap-2">
        <h1 id="runners-h" className="text-xl font-semibold">
          Runners
        </h1>
        {admin && (
          <button type="button" className={btnSecondary} disabled={refresh.isPending} onClick={() => refresh.mutate()}>
            {refresh.isPending ? 'Refreshing…' : 'Refresh from GitHub'}
          </button>
        )}
      </div>
      <ErrorNote error={refresh.error} />
      <p className="mb-3 text-sm text-slate-600">
        {c.online} online · {c.idle} idle · {c.busy} busy · {c.offline} offline
      </p>
      <ErrorNote error={runners.error} />
      {runners.isLoading ? (
        <p>Loading…</p>
      ) : (
        <RunnerTable runners={items} jobsByRunner={byRunner} caption="All runners" />
      )}
    </section>
  )
}
