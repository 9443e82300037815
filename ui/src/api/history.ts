import { keepPreviousData, useInfiniteQuery, useQuery } from '@tanstack/react-query'
import { historyQuery, type HistoryFilters } from '../lib/filters'
import { rangeQuery, type Range } from '../lib/ranges'
import { enc, get } from './client'
import { keys } from './keys'
import type { HistoryBucket, Job, Page } from './types'

export function useHistory(groupId: string, filters: HistoryFilters) {
  return useInfiniteQuery({
    queryKey: keys.history(groupId, filters),
    initialPageParam: '',
    queryFn: ({ pageParam, signal }) =>
      get<Page<Job>>(`/api/v1/groups/${enc(groupId)}/history?${historyQuery(filters, pageParam)}`, signal),
    getNextPageParam: (last) => last.next_cursor || undefined,
  })
}

export function useHistoryStats(groupId: string, range: Range) {
  return useQuery({
    queryKey: keys.historyStats(groupId, range),
    queryFn: ({ signal }) =>
      get<Page<HistoryBucket>>(`/api/v1/groups/${enc(groupId)}/history/stats?${rangeQuery(range)}`, signal),
    placeholderData: keepPreviousData,
  })
}
