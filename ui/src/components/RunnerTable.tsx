import type { Job, Runner } from '../api/types'

type State = 'offline' | 'busy' | 'idle'

/**
 * A runner running one of our jobs is busy even if the runner's own record
 * has not caught up yet (its in_progress webhook may trail the job's).
 */
function stateOf(r: Runner, j: Job | undefined): State {
  if (r.status !== 'online') return 'offline'
  return r.busy || j?.status === 'running' ? 'busy' : 'idle'
}

function RunnerState({ state }: { state: State }) {
  if (state === 'offline') return <span className="rounded bg-slate-200 px-1.5 py-0.5 text-xs">offline</span>
  return state === 'busy' ? (
    <span className="rounded bg-indigo-100 px-1.5 py-0.5 text-xs text-indigo-800">busy</span>
  ) : (
    <span className="rounded bg-emerald-100 px-1.5 py-0.5 text-xs text-emerald-800">idle</span>
  )
}

/** Runners with state, labels and (when known) the job they run. */
export function RunnerTable({
  runners,
  jobsByRunner,
  caption,
  compact,
}: {
  runners: Runner[]
  jobsByRunner?: Map<string, Job>
  caption: string
  compact?: boolean
}) {
  const labels = compact ? 'hidden' : 'hidden md:table-cell'
  if (!runners.length) return <p className="text-sm text-slate-500">No runners.</p>
  return (
    <div className="overflow-x-auto">
      <table className="w-full text-left text-sm">
        <caption className="sr-only">{caption}</caption>
        <thead className="text-xs uppercase text-slate-500">
          <tr>
            <th className="py-1 pr-2">Runner</th>
            <th className="pr-2">State</th>
            <th className="pr-2">Current job</th>
            <th className={`${labels} pr-2`}>Labels</th>
          </tr>
        </thead>
        <tbody>
          {runners.map((r) => {
            const j = jobsByRunner?.get(r.name)
            const state = stateOf(r, j)
            return (
              <tr
                key={r.id}
                data-testid="runner-row"
                data-runner={r.name}
                data-state={state}
                className="border-t border-slate-100"
              >
                <td className="py-1 pr-2 font-mono break-all">{r.name}</td>
                <td className="pr-2">
                  <RunnerState state={state} />
                </td>
                <td className="pr-2">
                  {j ? (
                    j.run_url ? (
                      <a className="text-indigo-700 underline" href={j.run_url} target="_blank" rel="noreferrer">
                        {j.name}
                      </a>
                    ) : (
                      j.name
                    )
                  ) : state === 'busy' ? (
                    <span className="text-slate-500">other work</span>
                  ) : (
                    '—'
                  )}
                </td>
                <td className={`${labels} pr-2`}>
                  <span className="font-mono text-xs text-slate-600">{r.labels.join(', ')}</span>
                </td>
              </tr>
            )
          })}
        </tbody>
      </table>
    </div>
  )
}
