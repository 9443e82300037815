import { useState } from 'react'
import { useIsAdmin, useReloadTemplates, useTemplates } from '../api'
import { AddJobDialog } from '../components/AddJobDialog'
import { btnSecondary, input } from '../components/buttons'
import { ErrorNote } from '../components/ErrorNote'
import { TemplateCard } from '../components/TemplateCard'
import { matchesTemplate } from '../lib/filters'

export function TemplatesTab({ groupId }: { groupId: string }) {
  const templates = useTemplates(groupId)
  const admin = useIsAdmin()
  const reload = useReloadTemplates()
  const [q, setQ] = useState('')
  const [adding, setAdding] = useState<string | null>(null)
  const all = templates.data?.items ?? []
  const shown = all.filter((t) => matchesTemplate(t, q))
  return (
    <div className="space-y-3">
      <div className="flex flex-wrap items-end justify-between gap-2">
        <label className="block w-full max-w-md text-sm font-medium">
          Search templates
          <input
            type="search"
            className={input}
            value={q}
            onChange={(e) => setQ(e.target.value)}
            placeholder="name, repo, label…"
          />
        </label>
        {admin && (
          <button type="button" className={btnSecondary} disabled={reload.isPending} onClick={() => reload.mutate()}>
            {reload.isPending ? 'Reloading…' : 'Reload templates'}
          </button>
        )}
      </div>
      <ErrorNote error={reload.error} />
      <ErrorNote error={templates.error} />
      {templates.isLoading && <p>Loading…</p>}
      <p className="text-xs text-slate-500">
        {shown.length} of {all.length}
      </p>
      <div className="grid gap-3 md:grid-cols-2">
        {shown.map((t) => (
          <TemplateCard key={t.id} t={t} onAdd={admin ? () => setAdding(t.id) : undefined} />
        ))}
      </div>
      {adding && <AddJobDialog groupId={groupId} templates={all} initial={adding} onClose={() => setAdding(null)} />}
    </div>
  )
}
