import { useState } from 'react'
import { useSearchParams } from 'react-router'
import { useHistory, useHistoryStats } from '../api'
import { btnSecondary } from '../components/buttons'
import { ErrorNote } from '../components/ErrorNote'
import { HistoryFiltersBar } from '../components/HistoryFiltersBar'
import { HistoryList } from '../components/HistoryList'
import { OutcomesChart } from '../components/OutcomesChart'
import { filtersFromSearch, filtersToSearch } from '../lib/filters'
import { isRange, RANGES, type Range } from '../lib/ranges'

export function HistoryTab({ groupId }: { groupId: string }) {
  const [sp, setSp] = useSearchParams()
  // The URL is the source of truth, mirrored in state: router navigations
  // run as transitions, and a controlled checkbox bound straight to the URL
  // would flip back until the transition lands. A new URL (back/forward, a
  // link, our own navigation landing) resets the state during render, which
  // React prefers to an effect and its second render.
  const search = sp.toString()
  const [filters, setFilters] = useState(() => filtersFromSearch(sp))
  const [seenSearch, setSeenSearch] = useState(search)
  if (search !== seenSearch) {
    setSeenSearch(search)
    setFilters(filtersFromSearch(sp))
  }
  const rangeParam = sp.get('range')
  const range: Range = isRange(rangeParam) ? rangeParam : '24h'
  const stats = useHistoryStats(groupId, range)
  const history = useHistory(groupId, filters)
  const jobs = history.data?.pages.flatMap((p) => p.items) ?? []
  const setRange = (r: Range) => {
    const n = new URLSearchParams(sp)
    n.set('range', r)
    setSp(n, { replace: true })
  }
  return (
    <div className="space-y-4">
      <section aria-labelledby="outcomes-h" className="rounded-lg border border-slate-200 bg-white p-3">
        <div className="mb-2 flex flex-wrap items-center justify-between gap-2">
          <h2 id="outcomes-h" className="text-sm font-semibold">
            Outcomes
          </h2>
          <div role="group" aria-label="Time range" className="flex gap-1">
            {RANGES.map((r) => (
              <button
                key={r}
                type="button"
                aria-pressed={r === range}
                onClick={() => setRange(r)}
                className={`rounded px-2 py-0.5 text-xs ${r === range ? 'bg-indigo-600 text-white' : 'bg-slate-100 hover:bg-slate-200'}`}
              >
                {r}
              </button>
            ))}
          </div>
        </div>
        <ErrorNote error={stats.error} />
        {stats.data && (
          <OutcomesChart buckets={stats.data.items} shortTimes={range === '1h' || range === '6h' || range === '24h'} />
        )}
      </section>
      <section aria-labelledby="finished-h" className="space-y-2">
        <h2 id="finished-h" className="text-sm font-semibold">
          Finished jobs
        </h2>
        <HistoryFiltersBar
          filters={filters}
          onChange={(f) => {
            setFilters(f)
            setSp(filtersToSearch(f, sp), { replace: true })
          }}
        />
        <ErrorNote error={history.error} />
        {history.isLoading ? <p>Loading…</p> : <HistoryList jobs={jobs} />}
        {history.hasNextPage && (
          <button
            type="button"
            className={btnSecondary}
            disabled={history.isFetchingNextPage}
            onClick={() => void history.fetchNextPage()}
          >
            {history.isFetchingNextPage ? 'Loading…' : 'Load more'}
          </button>
        )}
      </section>
    </div>
  )
}
