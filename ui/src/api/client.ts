// The one place that talks HTTP to the dispatchoor API.

let apiBase = ''

/** Sets the API origin from config.json ("" = same origin as the page). */
export function setApiBase(url: string): void {
  apiBase = url.replace(/\/+$/, '')
}

export function apiUrl(path: string): string {
  return apiBase + path
}

/** The WebSocket URL for /api/v1/ws, derived from the API origin. */
export function wsUrl(loc: Pick<Location, 'protocol' | 'host'> = window.location): string {
  if (apiBase) return apiBase.replace(/^http/, 'ws') + '/api/v1/ws'
  return `${loc.protocol === 'https:' ? 'wss' : 'ws'}://${loc.host}/api/v1/ws`
}

// The server refuses unsafe cookie-authenticated requests without this
// header (server/auth.go csrfHeader): a cross-site form cannot set it.
export const CSRF_HEADER = 'X-Requested-With'
export const CSRF_VALUE = 'dispatchoor'

export class ApiError extends Error {
  readonly status: number
  readonly code: string
  readonly field?: string
  constructor(status: number, message: string, code = '', field?: string) {
    super(message)
    this.name = 'ApiError'
    this.status = status
    this.code = code
    this.field = field
  }
}

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE'

export async function request<T>(method: Method, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' }
  if (method !== 'GET') headers[CSRF_HEADER] = CSRF_VALUE
  if (body !== undefined) headers['Content-Type'] = 'application/json'
  const res = await fetch(apiUrl(path), {
    method,
    headers,
    credentials: 'include',
    body: body === undefined ? undefined : JSON.stringify(body),
    signal,
  })
  if (res.status === 204) return undefined as T
  const text = await res.text()
  let data: unknown = undefined
  if (text) {
    try {
      data = JSON.parse(text)
    } catch {
      data = undefined
    }
  }
  if (!res.ok) {
    const e = (data ?? {}) as { error?: string; code?: string; field?: string }
    throw new ApiError(res.status, e.error ?? `${method} ${path}: HTTP ${res.status}`, e.code, e.field)
  }
  return data as T
}

export const get = <T>(path: string, signal?: AbortSignal) => request<T>('GET', path, undefined, signal)
export const post = <T>(path: string, body?: unknown) => request<T>('POST', path, body ?? {})
export const put = <T>(path: string, body: unknown) => request<T>('PUT', path, body)
export const del = <T>(path: string) => request<T>('DELETE', path)

export function enc(s: string | number): string {
  return encodeURIComponent(String(s))
}
