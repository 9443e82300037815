import { useMemo, useRef, useState } from 'react'
import { useMoveJob } from '../api'
import type { Job } from '../api/types'
import { applyLocalOrder, freezeHead, moveItem, moveRequest, pendingIds } from './reorder'

/**
 * The queue as shown: the server's jobs with the local order laid over
 * them from drag start until every move sent has been answered. Live
 * updates that land meanwhile (a refetch after queue_update, a job_state)
 * change the jobs, never the order the user just made.
 */
export function useQueueOrder(groupId: string, jobs: readonly Job[]) {
  const [order, setOrder] = useState<number[] | null>(null)
  const [frozen, setFrozen] = useState<Job[] | null>(null)
  const inflight = useRef(0)
  const move = useMoveJob(groupId)
  const view = useMemo(() => {
    const v = applyLocalOrder(jobs, order)
    return frozen ? freezeHead(v, frozen) : v
  }, [jobs, order, frozen])

  const release = () => {
    if (inflight.current === 0) setOrder(null)
  }

  return {
    view,
    error: move.error,
    onDragStart: () => {
      setOrder(pendingIds(view))
      setFrozen(view.filter((j) => j.status !== 'pending'))
    },
    onDragCancel: () => {
      setFrozen(null)
      release()
    },
    onMove: (activeId: number, overId: number) => {
      setFrozen(null)
      const ids = pendingIds(view)
      const next = moveItem(ids, ids.indexOf(activeId), ids.indexOf(overId))
      const req = moveRequest(ids, next, activeId)
      if (!req) return release()
      setOrder(next)
      inflight.current++
      move.mutate(req, {
        onSettled: () => {
          inflight.current--
          release()
        },
      })
    },
  }
}
