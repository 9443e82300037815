// Query keys: the hooks, the mutations and the WebSocket reducer
// (live/apply.ts) all take them from here, so they cannot disagree.
// A key that ends in `All` is the prefix of a family: invalidating it
// reaches every member (all filters, ranges or groups).
import type { HistoryFilters } from '../lib/filters'

const templatesAll = ['templates'] as const
const groupRunnersAll = ['group-runners'] as const
const historyAll = (groupId: string) => ['history', groupId] as const
const historyStatsAll = (groupId: string) => ['history-stats', groupId] as const

export const keys = {
  me: ['me'] as const,
  setup: ['setup-status'] as const,
  authProviders: ['auth-providers'] as const,
  status: ['status'] as const,
  groups: ['groups'] as const,
  group: (id: string) => ['group', id] as const,
  templatesAll,
  templates: (groupId: string) => [...templatesAll, groupId] as const,
  queue: (groupId: string) => ['queue', groupId] as const,
  job: (id: number) => ['job', id] as const,
  runners: ['runners'] as const,
  groupRunnersAll,
  groupRunners: (groupId: string) => [...groupRunnersAll, groupId] as const,
  historyAll,
  history: (groupId: string, f: HistoryFilters) => [...historyAll(groupId), f] as const,
  historyStatsAll,
  historyStats: (groupId: string, range: string) => [...historyStatsAll(groupId), range] as const,
}
