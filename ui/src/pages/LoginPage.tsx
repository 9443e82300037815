import { useState } from 'react'
import { useSearchParams } from 'react-router'
import { githubLoginHref, useAuthProviders, useLogin } from '../api'
import { btnPrimary, btnSecondary, input } from '../components/buttons'
import { ErrorNote } from '../components/ErrorNote'
import { loginErrorMessage } from '../lib/loginErrors'

export function LoginPage() {
  const login = useLogin()
  const providers = useAuthProviders()
  const [params] = useSearchParams()
  const githubError = loginErrorMessage(params.get('error'))
  const [username, setUsername] = useState('')
  const [password, setPassword] = useState('')
  // While the providers are loading, the password form shows: it is the
  // default and the common case, and hiding it would make the page jump.
  const basic = providers.data?.basic ?? true
  const github = providers.data?.github ?? false
  return (
    <main className="flex min-h-screen items-center justify-center p-4">
      <div className="w-full max-w-sm rounded-lg border border-slate-200 bg-white p-6 shadow-sm">
        <h1 className="mb-4 text-xl font-semibold">Sign in to dispatchoor</h1>
        {githubError && (
          <p
            role="alert"
            aria-label="GitHub sign-in error"
            className="mb-3 rounded border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800"
          >
            {githubError}
          </p>
        )}
        {basic && (
          <form
            className="space-y-3"
            onSubmit={(e) => {
              e.preventDefault()
              login.mutate({ username, password })
            }}
          >
            <label className="block text-sm font-medium">
              Username
              <input
                className={input}
                name="username"
                autoComplete="username"
                value={username}
                onChange={(e) => setUsername(e.target.value)}
                required
              />
            </label>
            <label className="block text-sm font-medium">
              Password
              <input
                className={input}
                name="password"
                type="password"
                autoComplete="current-password"
                value={password}
                onChange={(e) => setPassword(e.target.value)}
                required
              />
            </label>
            <ErrorNote error={login.error} />
            <button type="submit" className={`${btnPrimary} w-full justify-center`} disabled={login.isPending}>
              Sign in
            </button>
          </form>
        )}
        {github && (
          <a
            href={githubLoginHref(window.location.pathname)}
            className={`${btnSecondary} ${basic ? 'mt-3' : ''} w-full justify-center`}
          >
            Sign in with GitHub
          </a>
        )}
        {providers.data && !basic && !github && (
          <p className="text-sm text-slate-600">No login method is enabled on this server.</p>
        )}
      </div>
    </main>
  )
}
