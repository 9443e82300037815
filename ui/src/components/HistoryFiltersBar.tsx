import { useState } from 'react'
import { HISTORY_STATUSES, parseLabel, toggleStatus, type HistoryFilters } from '../lib/filters'
import { btnSecondary, input } from './buttons'

export function HistoryFiltersBar({
  filters,
  onChange,
}: {
  filters: HistoryFilters
  onChange: (f: HistoryFilters) => void
}) {
  const [label, setLabel] = useState('')
  const valid = parseLabel(label) !== null
  return (
    <div className="flex flex-wrap items-end gap-3">
      <fieldset className="flex flex-wrap gap-2 text-sm">
        <legend className="mb-1 text-xs font-medium text-slate-500">Status</legend>
        {HISTORY_STATUSES.map((s) => (
          <label key={s} className="inline-flex items-center gap-1">
            <input
              type="checkbox"
              checked={filters.statuses.includes(s)}
              onChange={() => onChange(toggleStatus(filters, s))}
            />
            {s}
          </label>
        ))}
      </fieldset>
      <form
        className="flex items-end gap-1"
        onSubmit={(e) => {
          e.preventDefault()
          const p = parseLabel(label)
          if (!p) return
          const norm = `${p.key}=${p.value}`
          if (!filters.labels.includes(norm)) onChange({ ...filters, labels: [...filters.labels, norm] })
          setLabel('')
        }}
      >
        <label className="text-xs font-medium text-slate-500">
          Label (key=value)
          <input
            className={`${input} font-mono`}
            value={label}
            onChange={(e) => setLabel(e.target.value)}
            placeholder="el=geth"
          />
        </label>
        <button type="submit" className={btnSecondary} disabled={!valid}>
          Add filter
        </button>
      </form>
      {filters.labels.length > 0 && (
        <ul aria-label="Label filters" className="flex flex-wrap gap-1">
          {filters.labels.map((l) => (
            <li key={l}>
              <button
                type="button"
                className="rounded bg-indigo-50 px-2 py-0.5 font-mono text-xs text-indigo-800 hover:bg-indigo-100"
                aria-label={`Remove filter ${l}`}
                onClick={() => onChange({ ...filters, labels: filters.labels.filter((x) => x !== l) })}
              >
                {l} ×
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  )
}
