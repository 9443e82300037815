import { useGroups } from '../api'
import { ErrorNote } from '../components/ErrorNote'
import { GroupCard } from '../components/GroupCard'
import { useLiveGroups } from '../live/LiveProvider'

export function DashboardPage() {
  const groups = useGroups()
  const items = groups.data?.items ?? []
  useLiveGroups(items.map((g) => g.id))
  return (
    <section aria-labelledby="groups-h">
      <h1 id="groups-h" className="mb-3 text-xl font-semibold">
        Groups
      </h1>
      <ErrorNote error={groups.error} />
      {groups.isLoading && <p>Loading…</p>}
      {groups.data && items.length === 0 && <p className="text-slate-500">No groups configured.</p>}
      <div className="grid gap-3 sm:grid-cols-2 xl:grid-cols-3">
        {items.map((g) => (
          <GroupCard key={g.id} group={g} />
        ))}
      </div>
    </section>
  )
}
