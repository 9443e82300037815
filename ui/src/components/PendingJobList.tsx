import {
  closestCenter,
  DndContext,
  KeyboardSensor,
  PointerSensor,
  useSensor,
  useSensors,
  type DragEndEvent,
} from '@dnd-kit/core'
import {
  SortableContext,
  sortableKeyboardCoordinates,
  useSortable,
  verticalListSortingStrategy,
} from '@dnd-kit/sortable'
import { CSS } from '@dnd-kit/utilities'
import type { Job } from '../api/types'
import { JobCard, type JobCardProps } from './JobCard'

type CardProps = Omit<JobCardProps, 'job' | 'handle' | 'selected'>

function SortableJob({ job, selected, ...card }: CardProps & { job: Job; selected: boolean }) {
  const { attributes, listeners, setNodeRef, setActivatorNodeRef, transform, transition, isDragging } = useSortable({
    id: job.id,
  })
  const handle = (
    <button
      type="button"
      ref={setActivatorNodeRef}
      {...attributes}
      {...listeners}
      aria-label={`Reorder ${job.name}`}
      data-testid="drag-handle"
      className="cursor-grab touch-none self-start rounded px-1 text-lg leading-none text-slate-400 hover:bg-slate-100 active:cursor-grabbing"
    >
      ⠿
    </button>
  )
  return (
    <li
      ref={setNodeRef}
      style={{ transform: CSS.Translate.toString(transform), transition }}
      className={isDragging ? 'relative z-10 opacity-80' : ''}
    >
      <JobCard job={job} selected={selected} handle={card.admin ? handle : undefined} {...card} />
    </li>
  )
}

/**
 * Pending jobs in queue order. Admins reorder them by dragging the handle,
 * or with the keyboard: focus the handle, Space, arrows, Space.
 */
export function PendingJobList({
  jobs,
  selected,
  onMove,
  onDragStart,
  onDragCancel,
  ...card
}: CardProps & {
  jobs: Job[]
  selected: ReadonlySet<number>
  onMove: (activeId: number, overId: number) => void
  onDragStart: () => void
  onDragCancel: () => void
}) {
  const sensors = useSensors(
    useSensor(PointerSensor, { activationConstraint: { distance: 4 } }),
    useSensor(KeyboardSensor, { coordinateGetter: sortableKeyboardCoordinates }),
  )
  const onDragEnd = (e: DragEndEvent) => {
    if (e.over && e.active.id !== e.over.id) onMove(Number(e.active.id), Number(e.over.id))
    else onDragCancel()
  }
  if (!jobs.length) return <p className="text-sm text-slate-500">No pending jobs.</p>
  return (
    <DndContext
      sensors={sensors}
      collisionDetection={closestCenter}
      onDragStart={onDragStart}
      onDragEnd={onDragEnd}
      onDragCancel={onDragCancel}
    >
      <SortableContext items={jobs.map((j) => j.id)} strategy={verticalListSortingStrategy}>
        <ol aria-label="Pending jobs" className="space-y-2">
          {jobs.map((j) => (
            <SortableJob key={j.id} job={j} selected={selected.has(j.id)} {...card} />
          ))}
        </ol>
      </SortableContext>
    </DndContext>
  )
}
