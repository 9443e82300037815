// Query keys: the WebSocket reducer and the hooks must agree on them.
import type { HistoryFilters } from '../lib/filters'

export const keys = {
  me: ['me'] as const,
  setup: ['setup-status'] as const,
  authProviders: ['auth-providers'] as const,
  status: ['status'] as const,
  groups: ['groups'] as const,
  group: (id: string) => ['group', id] as const,
  templates: (groupId: string) => ['templates', groupId] as const,
  queue: (groupId: string) => ['queue', groupId] as const,
  job: (id: number) => ['job', id] as const,
  runners: ['runners'] as const,
  groupRunners: (groupId: string) => ['group-runners', groupId] as const,
  historyAll: (groupId: string) => ['history', groupId] as const,
  history: (groupId: string, f: HistoryFilters) => ['history', groupId, f] as const,
  historyStats: (groupId: string, range: string) => ['history-stats', groupId, range] as const,
}
