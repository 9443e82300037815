// Applies a parsed message to the TanStack Query cache.
import type { QueryClient } from '@tanstack/react-query'
import { keys } from '../api/keys'
import type { Group, Job, Page, Runner } from '../api/types'
import { isTerminal } from '../api/types'
import type { LiveMessage } from './messages'
import {
  applyCountsToGroup,
  applyCountsToGroups,
  applyGroupUpdate,
  applyJobToQueue,
  applyRunner,
  mergeGroup,
} from './reducer'

export function applyMessage(qc: QueryClient, m: LiveMessage): void {
  switch (m.type) {
    case 'job_state': {
      const job = m.data
      qc.setQueryData<Page<Job>>(keys.queue(job.group_id), (p) => applyJobToQueue(p, job))
      qc.setQueryData<Job>(keys.job(job.id), (old) => (old ? { ...old, ...job } : old))
      if (isTerminal(job.status)) {
        void qc.invalidateQueries({ queryKey: keys.historyAll(job.group_id) })
        void qc.invalidateQueries({ queryKey: keys.historyStatsAll(job.group_id) })
      }
      return
    }
    case 'queue_update': {
      const { group_id: gid, counts } = m.data
      qc.setQueryData<Page<Group>>(keys.groups, (l) => applyCountsToGroups(l, gid, counts))
      qc.setQueryData<Group>(keys.group(gid), (g) => applyCountsToGroup(g, counts))
      // A whole-queue reorder by someone else arrives only as queue_update:
      // refetch the list (the view keeps any optimistic order of its own).
      void qc.invalidateQueries({ queryKey: keys.queue(gid) })
      return
    }
    case 'group_update': {
      qc.setQueryData<Page<Group>>(keys.groups, (l) => applyGroupUpdate(l, m.data))
      qc.setQueryData<Group>(keys.group(m.data.id), (g) => mergeGroup(g, m.data))
      return
    }
    case 'runner_status': {
      const r = m.data
      qc.setQueryData<Page<Runner>>(keys.runners, (l) => applyRunner(l, r))
      for (const q of qc.getQueryCache().findAll({ queryKey: keys.groupRunnersAll })) {
        const gid = q.queryKey[keys.groupRunnersAll.length] as string
        const labels =
          qc.getQueryData<Group>(keys.group(gid))?.runner_labels ??
          qc.getQueryData<Page<Group>>(keys.groups)?.items.find((g) => g.id === gid)?.runner_labels
        if (!labels) {
          void qc.invalidateQueries({ queryKey: q.queryKey })
          continue
        }
        qc.setQueryData<Page<Runner>>(q.queryKey, (l) => applyRunner(l, r, labels))
      }
      return
    }
    case 'system_status':
      void qc.invalidateQueries({ queryKey: keys.status })
      return
    default:
      return
  }
}
