import { useState } from 'react'
import { useEnqueue } from '../api'
import { btnPrimary, btnSecondary, input } from './buttons'
import { Dialog } from './Dialog'
import { ErrorNote } from './ErrorNote'
import { fromRows, InputsEditor, type InputRow } from './InputsEditor'

/** A one-off workflow_dispatch in a repository where the App is installed. */
export function ManualJobDialog({ groupId, onClose }: { groupId: string; onClose: () => void }) {
  const enqueue = useEnqueue(groupId)
  const [f, setF] = useState({ owner: '', repo: '', workflow_id: '', ref: 'main', name: '' })
  const [rows, setRows] = useState<InputRow[]>([])
  const field = (k: keyof typeof f, label: string, required = true) => (
    <label className="block text-sm font-medium">
      {label}
      <input className={input} value={f[k]} required={required} onChange={(e) => setF({ ...f, [k]: e.target.value })} />
    </label>
  )
  return (
    <Dialog title="Manual job" onClose={onClose} wide>
      <form
        className="space-y-3"
        onSubmit={(e) => {
          e.preventDefault()
          enqueue.mutate({ ...f, name: f.name || undefined, inputs: fromRows(rows) }, { onSuccess: onClose })
        }}
      >
        <div className="grid gap-2 sm:grid-cols-2">
          {field('owner', 'Owner')}
          {field('repo', 'Repository')}
          {field('workflow_id', 'Workflow (file name or id)')}
          {field('ref', 'Ref')}
          {field('name', 'Name (optional)', false)}
        </div>
        <InputsEditor rows={rows} onChange={setRows} />
        <ErrorNote error={enqueue.error} />
        <div className="flex justify-end gap-2">
          <button type="button" className={btnSecondary} onClick={onClose}>
            Close
          </button>
          <button type="submit" className={btnPrimary} disabled={enqueue.isPending}>
            Add to queue
          </button>
        </div>
      </form>
    </Dialog>
  )
}
