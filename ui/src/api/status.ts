import { useQuery } from '@tanstack/react-query'
import { get } from './client'
import { keys } from './keys'
import type { Status } from './types'

export function useStatus(enabled = true) {
  return useQuery({ queryKey: keys.status, queryFn: ({ signal }) => get<Status>('/api/v1/status', signal), enabled })
}
