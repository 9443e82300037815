import { useState } from 'react'
import { githubLoginHref, useGitHubLoginEnabled, useLogin } from '../api'
import { btnPrimary, btnSecondary, input } from '../components/buttons'
import { ErrorNote } from '../components/ErrorNote'

export function LoginPage() {
  const login = useLogin()
  const github = useGitHubLoginEnabled()
  const [username, setUsername] = useState('')
  const [password, setPassword] = useState('')
  return (
    <main className="flex min-h-screen items-center justify-center p-4">
      <div className="w-full max-w-sm rounded-lg border border-slate-200 bg-white p-6 shadow-sm">
        <h1 className="mb-4 text-xl font-semibold">Sign in to dispatchoor</h1>
        <form
          className="space-y-3"
          onSubmit={(e) => {
            e.preventDefault()
            login.mutate({ username, password })
          }}
        >
          <label className="block text-sm font-medium">
            Username
            <input className={input} name="username" autoComplete="username" value={username} onChange={(e) => setUsername(e.target.value)} required />
          </label>
          <label className="block text-sm font-medium">
            Password
            <input className={input} name="password" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} required />
          </label>
          <ErrorNote error={login.error} />
          <button type="submit" className={`${btnPrimary} w-full justify-center`} disabled={login.isPending}>Sign in</button>
        </form>
        {github.data && (
          <a href={githubLoginHref(window.location.pathname)} className={`${btnSecondary} mt-3 w-full justify-center`}>
            Sign in with GitHub
          </a>
        )}
      </div>
    </main>
  )
}
