import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { enc, get, post } from './client'
import { keys } from './keys'
import type { Page, Runner } from './types'

export function useRunners() {
  return useQuery({ queryKey: keys.runners, queryFn: ({ signal }) => get<Page<Runner>>('/api/v1/runners', signal) })
}

export function useGroupRunners(groupId: string) {
  return useQuery({
    queryKey: keys.groupRunners(groupId),
    queryFn: ({ signal }) => get<Page<Runner>>(`/api/v1/groups/${enc(groupId)}/runners`, signal),
  })
}

/** Reconcile runners with GitHub now; the results arrive as runner_status. */
export function useRefreshRunners() {
  const qc = useQueryClient()
  return useMutation({
    mutationFn: () => post<{ status: string }>('/api/v1/runners/refresh'),
    onSuccess: () => void qc.invalidateQueries({ queryKey: keys.runners }),
  })
}
