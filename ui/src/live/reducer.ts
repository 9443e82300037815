// Pure updates of cached API data from WebSocket messages. Each takes the
// cached value (possibly undefined: not loaded) and returns the next one;
// undefined in means undefined out, so a message never invents a list the
// page has not fetched.
import type { Group, Job, Page, QueueCounts, Runner } from '../api/types'
import { isTerminal } from '../api/types'
import { hasLabels } from '../lib/jobs'
import { sortQueue } from '../lib/reorder'

/** A job's new state in its group's live queue: upsert, or drop when it ended. */
export function applyJobToQueue(page: Page<Job> | undefined, job: Job): Page<Job> | undefined {
  if (!page) return page
  const rest = page.items.filter((j) => j.id !== job.id)
  if (isTerminal(job.status)) {
    return rest.length === page.items.length ? page : { ...page, items: rest }
  }
  return { ...page, items: sortQueue([...rest, job]) }
}

function withCounts(g: Group, counts: QueueCounts): Group {
  return { ...g, queue: { ...counts } }
}

export function applyCountsToGroups(
  list: Page<Group> | undefined,
  groupId: string,
  counts: QueueCounts,
): Page<Group> | undefined {
  if (!list) return list
  if (!list.items.some((g) => g.id === groupId)) return list
  return { ...list, items: list.items.map((g) => (g.id === groupId ? withCounts(g, counts) : g)) }
}

export function applyCountsToGroup(g: Group | undefined, counts: QueueCounts): Group | undefined {
  return g ? withCounts(g, counts) : g
}

/** group_update carries the stored group without counts: keep ours. */
export function mergeGroup(g: Group | undefined, update: Partial<Group> & { id: string }): Group | undefined {
  if (!g || g.id !== update.id) return g
  const { queue: _ignored, ...fields } = update
  void _ignored
  return { ...g, ...fields }
}

export function applyGroupUpdate(
  list: Page<Group> | undefined,
  update: Partial<Group> & { id: string },
): Page<Group> | undefined {
  if (!list) return list
  return { ...list, items: list.items.map((g) => (g.id === update.id ? (mergeGroup(g, update) as Group) : g)) }
}

/**
 * runner_status into a runner list. With groupLabels the list is a group's
 * runners: a runner that no longer carries the labels leaves it, one that
 * now does joins it. Fields the message lacks (updated_at) are kept.
 */
export function applyRunner(
  list: Page<Runner> | undefined,
  r: Runner,
  groupLabels?: readonly string[],
): Page<Runner> | undefined {
  if (!list) return list
  const i = list.items.findIndex((x) => x.id === r.id)
  const belongs = groupLabels ? hasLabels(r.labels, groupLabels) : true
  if (i < 0) {
    if (!belongs) return list
    const items = [...list.items, r].sort((a, b) => a.name.localeCompare(b.name))
    return { ...list, items }
  }
  if (!belongs) return { ...list, items: list.items.filter((x) => x.id !== r.id) }
  const items = list.items.slice()
  items[i] = { ...items[i], ...r }
  return { ...list, items }
}
