import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { enc, get, post } from './client'
import { keys } from './keys'
import type { Group, Page, Template } from './types'

export function useGroups() {
  return useQuery({ queryKey: keys.groups, queryFn: ({ signal }) => get<Page<Group>>('/api/v1/groups', signal) })
}

export function useGroup(id: string) {
  return useQuery({
    queryKey: keys.group(id),
    queryFn: ({ signal }) => get<Group>(`/api/v1/groups/${enc(id)}`, signal),
  })
}

export function useTemplates(groupId: string) {
  return useQuery({
    queryKey: keys.templates(groupId),
    queryFn: ({ signal }) => get<Page<Template>>(`/api/v1/groups/${enc(groupId)}/templates`, signal),
  })
}

export function useSetGroupPaused(groupId: string) {
  const qc = useQueryClient()
  return useMutation({
    mutationFn: (paused: boolean) => post<Group>(`/api/v1/groups/${enc(groupId)}/${paused ? 'pause' : 'unpause'}`),
    onSuccess: (g) => {
      qc.setQueryData(keys.group(groupId), g)
      void qc.invalidateQueries({ queryKey: keys.groups })
    },
  })
}

/** Re-read templates from their files and URLs. */
export function useReloadTemplates() {
  const qc = useQueryClient()
  return useMutation({
    mutationFn: () => post<{ disabled_groups: string[]; removed_templates: string[] }>('/api/v1/templates/reload'),
    onSuccess: () => void qc.invalidateQueries({ queryKey: keys.templatesAll }),
  })
}
