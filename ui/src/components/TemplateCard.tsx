import type { Template } from '../api/types'
import { btnPrimary } from './buttons'
import { JobInputs } from './JobInputs'

const sourceLook = {
  inline: 'bg-slate-100 text-slate-700',
  file: 'bg-sky-100 text-sky-800',
  url: 'bg-fuchsia-100 text-fuchsia-800',
} as const

export function TemplateSourceBadge({ source }: { source: Template['source'] }) {
  const kind = source?.kind ?? 'inline'
  return (
    <span title={source?.location} className={`rounded px-1.5 py-0.5 text-xs font-medium ${sourceLook[kind] ?? ''}`}>
      {kind === 'url' ? 'URL' : kind}
    </span>
  )
}

export function TemplateCard({ t, onAdd }: { t: Template; onAdd?: () => void }) {
  return (
    <article
      aria-label={`Template ${t.name}`}
      data-testid="template-card"
      data-template={t.id}
      className="flex flex-col gap-1 rounded-lg border border-slate-200 bg-white p-3"
    >
      <div className="flex flex-wrap items-center gap-2">
        <h3 className="font-medium">{t.name}</h3>
        <TemplateSourceBadge source={t.source} />
        {t.label_mismatch && (
          <span className="rounded bg-red-100 px-1.5 py-0.5 text-xs text-red-800" title={t.label_mismatch}>
            runs-on mismatch
          </span>
        )}
      </div>
      <p className="font-mono text-xs text-slate-600">
        {t.id} · {t.owner}/{t.repo} · {t.workflow_id}@{t.ref}
      </p>
      {t.labels && Object.keys(t.labels).length > 0 && (
        <ul aria-label="Labels" className="flex flex-wrap gap-1">
          {Object.entries(t.labels).map(([k, v]) => (
            <li key={k} className="rounded bg-indigo-50 px-1.5 py-0.5 text-xs text-indigo-800">
              {k}: {v}
            </li>
          ))}
        </ul>
      )}
      <JobInputs inputs={t.inputs} />
      {t.label_mismatch && <p className="text-xs text-red-700">{t.label_mismatch}</p>}
      {onAdd && (
        <div className="mt-1">
          <button type="button" className={btnPrimary} onClick={onAdd} aria-label={`Add ${t.name} to queue`}>
            Add to queue
          </button>
        </div>
      )}
    </article>
  )
}
