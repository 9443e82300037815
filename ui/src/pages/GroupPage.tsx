import { NavLink, useParams } from 'react-router'
import { useGroup, useIsAdmin, useSetGroupPaused } from '../api'
import { btnSecondary } from '../components/buttons'
import { ErrorNote } from '../components/ErrorNote'
import { useLiveGroups } from '../live/LiveProvider'
import { HistoryTab } from './HistoryTab'
import { QueueTab } from './QueueTab'
import { TemplatesTab } from './TemplatesTab'

export const TABS = ['queue', 'history', 'templates'] as const
export type Tab = (typeof TABS)[number]

function GroupPauseButton({ id, paused }: { id: string; paused: boolean }) {
  const m = useSetGroupPaused(id)
  return (
    <>
      <button type="button" className={btnSecondary} disabled={m.isPending} onClick={() => m.mutate(!paused)}>
        {paused ? 'Resume group' : 'Pause group'}
      </button>
      <ErrorNote error={m.error} />
    </>
  )
}

/** A group with its tabs; the tab is the last path segment, so it survives reloads and links. */
export function GroupPage() {
  const { id = '', tab = 'queue' } = useParams()
  const group = useGroup(id)
  const admin = useIsAdmin()
  useLiveGroups([id])
  const g = group.data
  const current: Tab = (TABS as readonly string[]).includes(tab) ? (tab as Tab) : 'queue'
  return (
    <section aria-labelledby="group-h">
      <div className="mb-3 flex flex-wrap items-center gap-2">
        <h1 id="group-h" className="text-xl font-semibold">
          {g?.name || id}
        </h1>
        {g?.paused && (
          <span className="rounded bg-yellow-100 px-1.5 py-0.5 text-xs font-medium text-yellow-800">paused</span>
        )}
        {g && <span className="font-mono text-xs text-slate-500">{g.runner_labels.join(', ')}</span>}
        <span className="flex-1" />
        {admin && g && <GroupPauseButton id={id} paused={g.paused} />}
      </div>
      <ErrorNote error={group.error} />
      <nav aria-label="Group sections" className="mb-3 flex gap-1 border-b border-slate-200">
        {TABS.map((t) => (
          <NavLink
            key={t}
            to={`/groups/${encodeURIComponent(id)}/${t}`}
            className={({ isActive }) =>
              `-mb-px border-b-2 px-3 py-1.5 text-sm capitalize ${isActive ? 'border-indigo-600 font-semibold text-indigo-700' : 'border-transparent text-slate-600 hover:text-slate-900'}`
            }
          >
            {t}
          </NavLink>
        ))}
      </nav>
      {current === 'queue' && <QueueTab groupId={id} />}
      {current === 'history' && <HistoryTab groupId={id} />}
      {current === 'templates' && <TemplatesTab groupId={id} />}
    </section>
  )
}
