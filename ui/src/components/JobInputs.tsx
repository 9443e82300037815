// Filled in by the dispatcher at dispatch time (docs/ARCHITECTURE.md, Dispatch protocol); empty before.
const hiddenWhenEmpty = new Set(['dispatchoor_job_id'])

export function JobInputs({ inputs }: { inputs: Record<string, string> | null | undefined }) {
  const entries = Object.entries(inputs ?? {}).filter(([k, v]) => v !== '' || !hiddenWhenEmpty.has(k))
  if (!entries.length) return null
  return (
    <ul aria-label="Inputs" className="flex flex-wrap gap-1">
      {entries.map(([k, v]) => (
        <li key={k} className="max-w-full truncate rounded bg-slate-100 px-1.5 py-0.5 font-mono text-xs text-slate-700">
          {k}={v}
        </li>
      ))}
    </ul>
  )
}
