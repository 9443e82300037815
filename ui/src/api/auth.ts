import { useMutation, useQuery, useQueryClient, type QueryClient } from '@tanstack/react-query'
import { ApiError, apiUrl, get, post } from './client'
import { keys } from './keys'
import type { Me, SetupStatus } from './types'

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

/**
 * A browser hides a manual redirect as an opaque response with status 0;
 * other clients show the 3xx.
 */
export function redirects(res: Pick<Response, 'type' | 'status'>): boolean {
  return res.type === 'opaqueredirect' || (res.status >= 300 && res.status < 400)
}

/**
 * Whether GitHub login is enabled. The API has no flag for it, so ask the
 * start route without following it: a redirect means enabled, a 404
 * ("not_enabled") means not.
 */
export function useGitHubLoginEnabled() {
  return useQuery({
    queryKey: keys.githubLogin,
    queryFn: async () => {
      const res = await fetch(apiUrl('/api/v1/auth/github'), { redirect: 'manual', credentials: 'include' })
      return redirects(res)
    },
    retry: false,
    staleTime: Infinity,
  })
}

export function githubLoginHref(redirect = '/'): string {
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
