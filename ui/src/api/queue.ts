import { useMutation, useQueries, useQuery, useQueryClient, type QueryClient } from '@tanstack/react-query'
import { applyJobToQueue } from '../live/reducer'
import { del, enc, get, post, put } from './client'
import { keys } from './keys'
import type { BulkAction, BulkResponse, EnqueueFromTemplate, EnqueueManual, Job, Page, UpdateJobRequest } from './types'

export function useQueue(groupId: string) {
  return useQuery(queueQuery(groupId))
}

const queueQuery = (groupId: string) => ({
  queryKey: keys.queue(groupId),
  queryFn: ({ signal }: { signal: AbortSignal }) =>
    get<Page<Job>>(`/api/v1/groups/${enc(groupId)}/queue?limit=1000`, signal),
})

/** Every listed group's live queue, merged: which job runs where. */
export function useAllQueues(groupIds: readonly string[]): Job[] {
  return useQueries({
    queries: groupIds.map(queueQuery),
    combine: (rs) => rs.flatMap((r) => r.data?.items ?? []),
  })
}

export function useJob(id: number | null) {
  return useQuery({
    queryKey: keys.job(id ?? 0),
    queryFn: ({ signal }) => get<Job>(`/api/v1/jobs/${id}`, signal),
    enabled: id !== null,
  })
}

function storeJob(qc: QueryClient, j: Job) {
  qc.setQueryData<Page<Job>>(keys.queue(j.group_id), (p) => applyJobToQueue(p, j))
  qc.setQueryData(keys.job(j.id), j)
}

export function useEnqueue(groupId: string) {
  const qc = useQueryClient()
  return useMutation({
    mutationFn: (body: EnqueueFromTemplate | EnqueueManual) => post<Job>(`/api/v1/groups/${enc(groupId)}/queue`, body),
    onSuccess: (j) => {
      storeJob(qc, j)
      void qc.invalidateQueries({ queryKey: keys.queue(groupId) })
    },
  })
}

/** Moves one pending job before another (null = to the end). */
export function useMoveJob(groupId: string) {
  const qc = useQueryClient()
  return useMutation({
    mutationFn: (m: { job_id: number; before: number | null }) =>
      put<Page<Job>>(`/api/v1/groups/${enc(groupId)}/queue/reorder`, m),
    onMutate: async () => {
      // A refetch already in flight may hold the old order; drop it.
      await qc.cancelQueries({ queryKey: keys.queue(groupId) })
    },
    onSuccess: (page) => qc.setQueryData(keys.queue(groupId), page),
    onError: () => void qc.invalidateQueries({ queryKey: keys.queue(groupId) }),
  })
}

export type JobAction = 'pause' | 'unpause' | 'cancel' | 'disable-requeue' | 'delete'

export function useJobAction() {
  const qc = useQueryClient()
  return useMutation({
    mutationFn: async ({ job, action }: { job: Job; action: JobAction }) => {
      if (action === 'delete') {
        await del<void>(`/api/v1/jobs/${job.id}`)
        return { ...job, status: 'cancelled' as const }
      }
      return post<Job>(`/api/v1/jobs/${job.id}/${action}`)
    },
    onSuccess: (j, { action, job }) => {
      if (action === 'delete') {
        qc.setQueryData<Page<Job>>(keys.queue(job.group_id), (p) =>
          p ? { ...p, items: p.items.filter((x) => x.id !== job.id) } : p,
        )
        return
      }
      storeJob(qc, j)
    },
  })
}

export function useSetAutoRequeue() {
  const qc = useQueryClient()
  return useMutation({
    mutationFn: ({ id, enabled, requeue_limit }: { id: number; enabled: boolean; requeue_limit: number }) =>
      put<Job>(`/api/v1/jobs/${id}/auto-requeue`, { enabled, requeue_limit }),
    onSuccess: (j) => storeJob(qc, j),
  })
}

export function useUpdateJob() {
  const qc = useQueryClient()
  return useMutation({
    mutationFn: ({ id, body }: { id: number; body: UpdateJobRequest }) => put<Job>(`/api/v1/jobs/${id}`, body),
    onSuccess: (j) => storeJob(qc, j),
  })
}

export function useBulkJobs(groupId: string) {
  const qc = useQueryClient()
  return useMutation({
    mutationFn: (b: { action: BulkAction; job_ids: number[] }) => post<BulkResponse>('/api/v1/jobs/bulk', b),
    onSuccess: (res) => {
      for (const r of res.results) if (r.ok && r.job) storeJob(qc, r.job)
      void qc.invalidateQueries({ queryKey: keys.queue(groupId) })
    },
  })
}
