import type { Job, Runner } from '../api/types'

let nextId = 1000

export function job(p: Partial<Job> = {}): Job {
  const id = p.id ?? nextId++
  return {
    id,
    group_id: 'g1',
    template_id: 't1',
    name: `job-${id}`,
    owner: 'o',
    repo: 'r',
    workflow_id: 'w.yml',
    ref: 'main',
    inputs: {},
    status: 'pending',
    paused: false,
    position: id,
    auto_requeue: false,
    requeue_limit: 0,
    requeue_count: 0,
    run_id: 0,
    run_url: '',
    runner_name: '',
    conclusion: '',
    error: '',
    source: 'ui',
    source_url: '',
    created_by: 'admin',
    created_at: '2026-01-01T00:00:00Z',
    triggered_at: null,
    started_at: null,
    completed_at: null,
    cancel_requested: false,
    label_mismatch: '',
    ...p,
  }
}

export function runner(p: Partial<Runner> = {}): Runner {
  return {
    id: 1,
    name: 'r1',
    scope: 'org:o',
    labels: ['self-hosted', 'linux'],
    status: 'online',
    busy: false,
    ephemeral: false,
    ...p,
  }
}

export const ids = (js: { id: number }[]) => js.map((j) => j.id)
