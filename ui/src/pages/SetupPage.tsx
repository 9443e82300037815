import { useRef, useState } from 'react'
import { apiUrl, get } from '../api/client'
import { btnPrimary, input } from '../components/buttons'
import { ErrorNote } from '../components/ErrorNote'

interface ManifestStart {
  action: string
  manifest: unknown
}

/**
 * Setup mode: no GitHub App yet. GitHub's App-manifest flow needs a
 * top-level form POST of the manifest to GitHub; the server issues the
 * manifest together with a state bound to this browser
 * (GET /api/v1/setup/manifest), and this page posts it.
 */
export function SetupPage() {
  const [org, setOrg] = useState('')
  const [name, setName] = useState('')
  const [error, setError] = useState<unknown>(null)
  const [start, setStart] = useState<ManifestStart | null>(null)
  const form = useRef<HTMLFormElement>(null)
  const create = async () => {
    setError(null)
    try {
      const q = new URLSearchParams()
      if (org.trim()) q.set('org', org.trim())
      if (name.trim()) q.set('name', name.trim())
      const s = await get<ManifestStart>(`/api/v1/setup/manifest?${q}`)
      setStart(s)
      // Submit once React has rendered the action and manifest into the form.
      setTimeout(() => form.current?.submit(), 0)
    } catch (e) {
      setError(e)
    }
  }
  return (
    <main className="flex min-h-screen items-center justify-center p-4">
      <div className="w-full max-w-lg rounded-lg border border-slate-200 bg-white p-6 shadow-sm">
        <h1 className="mb-2 text-xl font-semibold">Set up dispatchoor</h1>
        <p className="mb-4 text-sm text-slate-700">
          dispatchoor runs as a GitHub App and none is configured yet. Create one from its manifest: GitHub asks you to
          confirm, then sends the new App&apos;s credentials back here, where they are stored encrypted.
        </p>
        <form
          className="space-y-3"
          onSubmit={(e) => {
            e.preventDefault()
            void create()
          }}
        >
          <label className="block text-sm font-medium">
            Organization (empty: your personal account)
            <input
              className={input}
              value={org}
              onChange={(e) => setOrg(e.target.value)}
              pattern="[A-Za-z0-9-]{1,39}"
              placeholder="my-org"
            />
          </label>
          <label className="block text-sm font-medium">
            App name (optional)
            <input className={input} value={name} onChange={(e) => setName(e.target.value)} maxLength={34} />
          </label>
          <ErrorNote error={error} />
          <button type="submit" className={btnPrimary}>
            Create GitHub App
          </button>
        </form>
        <p className="mt-3 text-xs text-slate-500">
          Without JavaScript, or to review the permissions first:{' '}
          <a className="text-indigo-700 underline" href={apiUrl('/setup')}>
            the setup page
          </a>
          .
        </p>
        {start && (
          <form ref={form} method="post" action={start.action} hidden>
            <input type="hidden" name="manifest" value={JSON.stringify(start.manifest)} readOnly />
          </form>
        )}
      </div>
    </main>
  )
}
