import { useMutation, useQuery, useQueryClient, type QueryClient } from '@tanstack/react-query'
import { ApiError, apiUrl, get, post } from './client'
import { keys } from './keys'
import type { AuthProviders, Me, SetupStatus } from './types'

/**
 * Drops every cached answer except the caller's: they belong to the previous
 * user. Not QueryClient.clear(), which would also orphan the mounted
 * useMe observer so that the new login never reaches the page.
 */
function forgetAllBut(qc: QueryClient, keep: string) {
  qc.removeQueries({ predicate: (q) => q.queryKey[0] !== keep })
}

/** The caller, or null when not logged in. */
export function useMe() {
  return useQuery({
    queryKey: keys.me,
    queryFn: async ({ signal }) => {
      try {
        return await get<Me>('/api/v1/auth/me', signal)
      } catch (e) {
        if (e instanceof ApiError && e.status === 401) return null
        throw e
      }
    },
    retry: false,
    staleTime: 60_000,
  })
}

export function useIsAdmin(): boolean {
  return useMe().data?.role === 'admin'
}

export function useLogin() {
  const qc = useQueryClient()
  return useMutation({
    mutationFn: (body: { username: string; password: string }) => post<Me>('/api/v1/auth/login', body),
    onSuccess: (me) => {
      forgetAllBut(qc, keys.me[0])
      qc.setQueryData(keys.me, me)
    },
  })
}

export function useLogout() {
  const qc = useQueryClient()
  return useMutation({
    mutationFn: () => post<void>('/api/v1/auth/logout'),
    onSettled: () => {
      qc.setQueryData(keys.me, null)
      forgetAllBut(qc, keys.me[0])
    },
  })
}

/** Login methods the server offers; the fallback when it cannot say. */
export const FALLBACK_PROVIDERS: AuthProviders = { basic: true, github: false }

/**
 * Which login methods are enabled (GET /auth/providers). A server too old
 * for the route, or a rate-limited answer, falls back to the password form
 * alone rather than leaving the login page empty.
 */
export function useAuthProviders() {
  return useQuery({
    queryKey: keys.authProviders,
    queryFn: async ({ signal }): Promise<AuthProviders> => {
      try {
        return await get<AuthProviders>('/api/v1/auth/providers', signal)
      } catch (e) {
        if (e instanceof ApiError) return FALLBACK_PROVIDERS
        throw e
      }
    },
    retry: false,
    staleTime: Infinity,
  })
}

/**
 * Where GitHub login starts. It returns the browser to `redirect`, except to
 * /login (where a failed login lands): after a login that page is gone.
 */
export function githubLoginHref(redirect = '/'): string {
  if (redirect === '/login' || redirect.startsWith('/login/')) redirect = '/'
  return apiUrl('/api/v1/auth/github?redirect=' + encodeURIComponent(redirect))
}

/**
 * Setup mode: the server has no GitHub App yet. A server without the setup
 * route (404) is configured.
 */
export function useSetupStatus() {
  return useQuery({
    queryKey: keys.setup,
    queryFn: async ({ signal }) => {
      try {
        const s = await get<Partial<SetupStatus>>('/api/v1/setup/status', signal)
        return { configured: s.configured !== false }
      } catch (e) {
        if (e instanceof ApiError && (e.status === 404 || e.status === 401)) return { configured: true }
        throw e
      }
    },
    retry: false,
    staleTime: Infinity,
  })
}
