import { useId } from 'react'
import { btnSecondary, input } from './buttons'

export type InputRow = { key: string; value: string }

export function toRows(inputs: Record<string, string> | null | undefined): InputRow[] {
  return Object.entries(inputs ?? {}).map(([key, value]) => ({ key, value }))
}

export function fromRows(rows: InputRow[]): Record<string, string> {
  const out: Record<string, string> = {}
  for (const r of rows) if (r.key.trim()) out[r.key.trim()] = r.value
  return out
}

/** Key/value inputs of a workflow_dispatch, editable. */
export function InputsEditor({ rows, onChange }: { rows: InputRow[]; onChange: (rows: InputRow[]) => void }) {
  const id = useId()
  const set = (i: number, r: Partial<InputRow>) => onChange(rows.map((x, k) => (k === i ? { ...x, ...r } : x)))
  return (
    <fieldset className="space-y-1">
      <legend className="mb-1 text-sm font-medium">Inputs</legend>
      {rows.map((r, i) => (
        <div key={i} className="flex gap-1">
          <label className="sr-only" htmlFor={`${id}-k${i}`}>
            Input name {i + 1}
          </label>
          <input
            id={`${id}-k${i}`}
            className={`${input} w-2/5 font-mono`}
            value={r.key}
            onChange={(e) => set(i, { key: e.target.value })}
            placeholder="name"
          />
          <label className="sr-only" htmlFor={`${id}-v${i}`}>
            Value of {r.key || `input ${i + 1}`}
          </label>
          <input
            id={`${id}-v${i}`}
            className={`${input} font-mono`}
            value={r.value}
            onChange={(e) => set(i, { value: e.target.value })}
            placeholder="value"
          />
          <button
            type="button"
            aria-label={`Remove input ${r.key || i + 1}`}
            className={btnSecondary}
            onClick={() => onChange(rows.filter((_, k) => k !== i))}
          >
            −
          </button>
        </div>
      ))}
      <button type="button" className={btnSecondary} onClick={() => onChange([...rows, { key: '', value: '' }])}>
        Add input
      </button>
    </fieldset>
  )
}
