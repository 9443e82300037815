// Shapes of the dispatchoor API (server/openapi.yaml), snake_case as sent.

export type JobStatus = 'pending' | 'dispatching' | 'triggered' | 'running' | 'completed' | 'failed' | 'cancelled'

export const TERMINAL_STATUSES: readonly JobStatus[] = ['completed', 'failed', 'cancelled']
export const ACTIVE_STATUSES: readonly JobStatus[] = ['dispatching', 'triggered', 'running']

export function isTerminal(s: JobStatus): boolean {
  return TERMINAL_STATUSES.includes(s)
}

export function isActive(s: JobStatus): boolean {
  return ACTIVE_STATUSES.includes(s)
}

export type JobSource = 'ui' | 'api' | 'comment'

export interface Job {
  id: number
  group_id: string
  template_id: string
  name: string
  owner: string
  repo: string
  workflow_id: string
  ref: string
  inputs: Record<string, string>
  status: JobStatus
  paused: boolean
  position: number
  auto_requeue: boolean
  requeue_limit: number
  requeue_count: number
  run_id: number
  run_url: string
  runner_name: string
  conclusion: string
  error: string
  source: JobSource
  source_url: string
  created_by: string
  created_at: string
  triggered_at: string | null
  started_at: string | null
  completed_at: string | null
  /** a cancel was sent to GitHub and awaits its confirmation (when the server reports it) */
  cancel_requested?: boolean
  /** runs-on labels of the run that no runner of the group has */
  label_mismatch?: string
}

/** GET /auth/providers: the login methods the server offers. */
export interface AuthProviders {
  basic: boolean
  github: boolean
}

export interface Page<T> {
  items: T[]
  next_cursor: string
}

export type QueueCounts = Partial<Record<JobStatus, number>>

export interface Group {
  id: string
  name: string
  runner_labels: string[]
  runner_scope: string
  max_concurrent: number
  paused: boolean
  enabled: boolean
  queue?: QueueCounts
}

export type TemplateSourceKind = 'inline' | 'file' | 'url'

export interface Template {
  id: string
  group_id: string
  name: string
  owner: string
  repo: string
  workflow_id: string
  ref: string
  inputs: Record<string, string> | null
  labels: Record<string, string> | null
  source?: { kind: TemplateSourceKind; location?: string }
  label_mismatch?: string
}

export interface Runner {
  id: number
  name: string
  scope: string
  labels: string[]
  status: 'online' | 'offline'
  busy: boolean
  ephemeral: boolean
  current_job_id?: number
  installation_id?: number
  updated_at?: string
  seen_at?: string
}

export interface Me {
  username: string
  role: 'admin' | 'readonly'
  auth: 'session' | 'token'
  expires_at?: string
}

export interface HistoryBucket {
  start: string
  completed: number
  failed: number
  cancelled: number
}

export interface Status {
  version: string
  go_version?: string
  database: { driver: string; ok: boolean; error?: string }
  dispatcher?: { enabled: boolean; leader: boolean; last_cycle?: string } | null
  installations: {
    id: number
    account: string
    active: boolean
    rate_limit_remaining?: number | null
  }[]
  queues: { group_id: string; status: JobStatus; count: number; paused?: number }[]
  websocket_clients?: number
}

export type EnqueuePosition = 'top' | 'bottom' | `before:${number}`

export interface EnqueueFromTemplate {
  template_id: string
  inputs?: Record<string, string>
  ref?: string
  position?: EnqueuePosition
  auto_requeue?: boolean
  requeue_limit?: number
}

export interface EnqueueManual {
  owner: string
  repo: string
  workflow_id: string
  ref: string
  name?: string
  inputs?: Record<string, string>
  position?: EnqueuePosition
}

export interface UpdateJobRequest {
  ref?: string
  inputs?: Record<string, string>
  auto_requeue?: boolean
  requeue_limit?: number
}

export type BulkAction = 'pause' | 'unpause' | 'cancel' | 'delete' | 'disable_requeue'

export interface BulkResult {
  job_id: number
  ok: boolean
  job?: Job
  error?: string
  code?: string
}

export interface BulkResponse {
  action: string
  results: BulkResult[]
}

export interface SetupStatus {
  configured: boolean
}
