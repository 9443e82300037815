import { useState } from 'react'
import type { EnqueuePosition, Template } from '../api/types'
import { useEnqueue } from '../api'
import { btnPrimary, btnSecondary, input } from './buttons'
import { Dialog } from './Dialog'
import { ErrorNote } from './ErrorNote'
import { fromRows, InputsEditor, toRows } from './InputsEditor'

/** Enqueue a job from a template, with input and ref overrides. */
export function AddJobDialog({
  groupId,
  templates,
  initial,
  onClose,
}: {
  groupId: string
  templates: Template[]
  initial?: string
  onClose: () => void
}) {
  const enqueue = useEnqueue(groupId)
  const [tid, setTid] = useState(initial ?? templates[0]?.id ?? '')
  const tpl = templates.find((t) => t.id === tid)
  const [rows, setRows] = useState(toRows(tpl?.inputs))
  const [ref, setRef] = useState(tpl?.ref ?? '')
  const [position, setPosition] = useState<EnqueuePosition>('bottom')
  const [requeue, setRequeue] = useState(false)
  const [limit, setLimit] = useState('0')
  const pick = (id: string) => {
    setTid(id)
    const t = templates.find((x) => x.id === id)
    setRows(toRows(t?.inputs))
    setRef(t?.ref ?? '')
  }
  return (
    <Dialog title="Add job from template" onClose={onClose} wide>
      <form
        className="space-y-3"
        onSubmit={(e) => {
          e.preventDefault()
          enqueue.mutate(
            {
              template_id: tid,
              inputs: fromRows(rows),
              ref: ref || undefined,
              position,
              auto_requeue: requeue,
              requeue_limit: requeue ? parseInt(limit, 10) || 0 : 0,
            },
            { onSuccess: onClose },
          )
        }}
      >
        <label className="block text-sm font-medium">
          Template
          <select className={input} value={tid} onChange={(e) => pick(e.target.value)} required>
            {templates.map((t) => (
              <option key={t.id} value={t.id}>
                {t.name} ({t.id})
              </option>
            ))}
          </select>
        </label>
        {tpl && (
          <p className="font-mono text-xs text-slate-600">
            {tpl.owner}/{tpl.repo} · {tpl.workflow_id}
          </p>
        )}
        <label className="block text-sm font-medium">
          Ref
          <input className={input} value={ref} onChange={(e) => setRef(e.target.value)} />
        </label>
        <InputsEditor rows={rows} onChange={setRows} />
        <fieldset className="flex flex-wrap gap-3 text-sm">
          <legend className="sr-only">Position</legend>
          <label className="inline-flex items-center gap-1">
            <input
              type="radio"
              name="position"
              checked={position === 'bottom'}
              onChange={() => setPosition('bottom')}
            />{' '}
            Bottom of queue
          </label>
          <label className="inline-flex items-center gap-1">
            <input type="radio" name="position" checked={position === 'top'} onChange={() => setPosition('top')} /> Top
            of queue
          </label>
        </fieldset>
        <div className="flex flex-wrap items-center gap-3 text-sm">
          <label className="inline-flex items-center gap-1">
            <input type="checkbox" checked={requeue} onChange={(e) => setRequeue(e.target.checked)} /> Auto-requeue
          </label>
          {requeue && (
            <label className="inline-flex items-center gap-1">
              Limit (0 = none)
              <input
                type="number"
                min={0}
                className="w-16 rounded border border-slate-300 px-1"
                value={limit}
                onChange={(e) => setLimit(e.target.value)}
              />
            </label>
          )}
        </div>
        <ErrorNote error={enqueue.error} />
        <div className="flex justify-end gap-2">
          <button type="button" className={btnSecondary} onClick={onClose}>
            Close
          </button>
          <button type="submit" className={btnPrimary} disabled={!tid || enqueue.isPending}>
            Add to queue
          </button>
        </div>
      </form>
    </Dialog>
  )
}
