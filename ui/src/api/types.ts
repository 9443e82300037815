// Shapes of the dispatchoor API, snake_case as sent. Each is a name for a
// type generated from server/openapi.yaml into schema.ts (`npm run gen:types`;
// `npm run lint` fails when schema.ts is stale), narrowed only where the UI
// knows more than the OpenAPI file says.
import type { components, paths } from './schema'

type Schemas = components['schemas']
type JsonOf<R> = R extends { content: { 'application/json': infer T } } ? T : never

export type JobStatus = Schemas['JobStatus']

export const TERMINAL_STATUSES: readonly JobStatus[] = ['completed', 'failed', 'cancelled']
export const ACTIVE_STATUSES: readonly JobStatus[] = ['dispatching', 'triggered', 'running']

export function isTerminal(s: JobStatus): boolean {
  return TERMINAL_STATUSES.includes(s)
}

export function isActive(s: JobStatus): boolean {
  return ACTIVE_STATUSES.includes(s)
}

export type Job = Schemas['Job']
export type JobSource = Job['source']

/** GET /auth/providers: the login methods the server offers. */
export type AuthProviders = Schemas['AuthProviders']

/**
 * One page of a list endpoint. The OpenAPI file spells each list out
 * (JobPage, the runner and group lists); the UI needs the one generic shape,
 * and `_pagesAgree` below keeps the two from drifting apart.
 */
export interface Page<T> {
  items: T[]
  next_cursor: string
}

/** Live jobs per status. The OpenAPI file can only say "string → integer"; the keys are job statuses. */
export type QueueCounts = Partial<Record<JobStatus, number>>

export type Group = Omit<Schemas['Group'], 'queue'> & { queue?: QueueCounts }

export type Template = Schemas['Template']
export type TemplateSourceKind = NonNullable<NonNullable<Template['source']>['kind']>

export type Runner = Schemas['Runner']
export type Me = Schemas['Me']
export type Status = Schemas['Status']
export type SetupStatus = Schemas['SetupStatus']

/** One bucket of GET /groups/{id}/history/stats (the OpenAPI file describes it inline). */
export type HistoryBucket = JsonOf<paths['/api/v1/groups/{id}/history/stats']['get']['responses'][200]>['items'][number]

/** Where a new job goes: the OpenAPI file's free-form position string, as the server parses it. */
export type EnqueuePosition = 'top' | 'bottom' | `before:${number}`

type EnqueueRequest = Omit<Schemas['EnqueueRequest'], 'position'> & { position?: EnqueuePosition }

/** POST /groups/{id}/queue from a template: owner, repo and workflow come from it. */
export type EnqueueFromTemplate = Pick<
  EnqueueRequest,
  'inputs' | 'ref' | 'position' | 'auto_requeue' | 'requeue_limit'
> &
  Required<Pick<EnqueueRequest, 'template_id'>>

/** POST /groups/{id}/queue for a manual job in a repository where the App is installed. */
export type EnqueueManual = Pick<EnqueueRequest, 'name' | 'inputs' | 'position'> &
  Required<Pick<EnqueueRequest, 'owner' | 'repo' | 'workflow_id' | 'ref'>>

export type UpdateJobRequest = Schemas['UpdateJobRequest']

export type BulkAction = Schemas['BulkRequest']['action']
export type BulkResponse = Schemas['BulkResponse']
export type BulkResult = BulkResponse['results'][number]

// Compile-time guards: `tsc` fails when the UI's generic or narrowed types
// and the generated ones stop describing the same JSON.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false
type Assert<T extends true> = T
export type _ShapesAgree = [
  Assert<Same<Page<Job>, Schemas['JobPage']>>,
  Assert<Same<Page<Runner>, JsonOf<components['responses']['RunnerList']>>>,
  Assert<Same<Page<Schemas['Group']>, JsonOf<paths['/api/v1/groups']['get']['responses'][200]>>>,
  Assert<Same<Page<HistoryBucket>, JsonOf<paths['/api/v1/groups/{id}/history/stats']['get']['responses'][200]>>>,
  Assert<Same<Page<Template>, JsonOf<paths['/api/v1/groups/{id}/templates']['get']['responses'][200]>>>,
  // Every narrowed request is still a valid request body.
  Assert<EnqueueFromTemplate extends Schemas['EnqueueRequest'] ? true : false>,
  Assert<EnqueueManual extends Schemas['EnqueueRequest'] ? true : false>,
  Assert<Group extends Schemas['Group'] ? true : false>,
]
