import { useEffect, useEffectEvent, useId, useRef, type ReactNode } from 'react'

/** A modal dialog: labelled, closes on Escape, focus moves inside on open. */
export function Dialog({
  title,
  onClose,
  children,
  wide,
}: {
  title: string
  onClose: () => void
  children: ReactNode
  wide?: boolean
}) {
  const id = useId()
  const ref = useRef<HTMLDivElement>(null)
  // An effect event sees the latest onClose without being a dependency.
  const onKey = useEffectEvent((e: KeyboardEvent) => {
    if (e.key === 'Escape') onClose()
  })
  // Once per opening: callers pass a new onClose every render, and
  // refocusing then would yank focus out of the field being typed in.
  useEffect(() => {
    const first = ref.current?.querySelector<HTMLElement>('input, select, textarea, button:not([data-close])')
    first?.focus()
    window.addEventListener('keydown', onKey)
    return () => window.removeEventListener('keydown', onKey)
  }, [])
  return (
    // The backdrop is presentational: a click on it closes, as Escape and the
    // close button do for keyboard and screen-reader users.
    <div
      role="presentation"
      className="fixed inset-0 z-40 flex items-start justify-center overflow-y-auto bg-slate-900/40 p-2 sm:p-8"
      onMouseDown={(e) => e.target === e.currentTarget && onClose()}
    >
      <div
        ref={ref}
        role="dialog"
        aria-modal="true"
        aria-labelledby={id}
        className={`w-full ${wide ? 'max-w-2xl' : 'max-w-lg'} rounded-lg bg-white p-4 shadow-xl`}
      >
        <div className="mb-3 flex items-center justify-between gap-2">
          <h2 id={id} className="text-lg font-semibold">
            {title}
          </h2>
          <button
            type="button"
            data-close
            onClick={onClose}
            aria-label="Close dialog"
            className="rounded px-2 text-xl leading-none text-slate-500 hover:bg-slate-100"
          >
            ×
          </button>
        </div>
        {children}
      </div>
    </div>
  )
}
