// Starts `dispatchoor demo` (the simulator plus the server on SQLite) for the
// browser tests and stops it afterwards.
//
//   DISPATCHOOR_URL   use a server that is already running instead
//   DISPATCHOOR_BIN   a built binary (with -tags embedui) to run
//   otherwise         go build -tags embedui ../cmd/dispatchoor first
//   DISPATCHOOR_ADMIN / DISPATCHOOR_READONLY  "user:password" overrides
import { execFileSync, spawn } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import path from 'node:path'
import { parseDemoOutput, type DemoUser } from './demo-output'

const uiDir = path.resolve(import.meta.dirname, '..')

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const a = s.address()
      s.close(() => (a && typeof a === 'object' ? resolve(a.port) : reject(new Error('no port'))))
    })
  })
}

function userEnv(v: string | undefined): DemoUser | undefined {
  if (!v) return undefined
  const i = v.indexOf(':')
  return i > 0 ? { username: v.slice(0, i), password: v.slice(i + 1) } : undefined
}

export const authDir = path.join(uiDir, 'test-results', '.auth')

/**
 * Logs in once per role over the API and saves the session cookie as a
 * Playwright storage state: logins are rate-limited per address, so the
 * specs reuse these instead of each logging in through the form.
 */
async function saveSession(url: string, role: 'admin' | 'readonly', u: DemoUser) {
  const res = await fetch(url + '/api/v1/auth/login', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Requested-With': 'dispatchoor' },
    body: JSON.stringify(u),
  })
  if (!res.ok) throw new Error(`log in as ${role} (${u.username}): HTTP ${res.status} ${await res.text()}`)
  const host = new URL(url).hostname
  const cookies = res.headers.getSetCookie().map((c) => {
    const [pair] = c.split(';')
    const i = pair.indexOf('=')
    return {
      name: pair.slice(0, i),
      value: pair.slice(i + 1),
      domain: host,
      path: '/',
      expires: -1,
      httpOnly: true,
      secure: false,
      sameSite: 'Lax' as const,
    }
  })
  writeFileSync(path.join(authDir, `${role}.json`), JSON.stringify({ cookies, origins: [] }))
}

async function exportInfo(url: string, admin?: DemoUser, readonly?: DemoUser) {
  process.env.E2E_URL = url
  mkdirSync(authDir, { recursive: true })
  if (admin) {
    process.env.E2E_ADMIN = `${admin.username}:${admin.password}`
    await saveSession(url, 'admin', admin)
  }
  if (readonly) {
    process.env.E2E_READONLY = `${readonly.username}:${readonly.password}`
    await saveSession(url, 'readonly', readonly)
  }
}

async function waitHealthy(url: string, ms: number) {
  const end = Date.now() + ms
  while (Date.now() < end) {
    try {
      const r = await fetch(url + '/health')
      if (r.ok) return
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 250))
  }
  throw new Error(`dispatchoor at ${url} did not become healthy`)
}

export default async function globalSetup() {
  mkdirSync(path.join(uiDir, 'test-results', 'screens'), { recursive: true })
  const adminOverride = userEnv(process.env.DISPATCHOOR_ADMIN)
  const readonlyOverride = userEnv(process.env.DISPATCHOOR_READONLY)
  if (process.env.DISPATCHOOR_URL) {
    const url = process.env.DISPATCHOOR_URL.replace(/\/+$/, '')
    await waitHealthy(url, 10_000)
    await exportInfo(url, adminOverride, readonlyOverride)
    return
  }
  let bin = process.env.DISPATCHOOR_BIN
  if (!bin) {
    bin = path.join(uiDir, 'node_modules', '.cache', 'dispatchoor-e2e', 'dispatchoor')
    execFileSync('go', ['build', '-tags', 'embedui', '-o', bin, './cmd/dispatchoor'], {
      cwd: path.resolve(uiDir, '..'),
      stdio: 'inherit',
    })
  }
  const port = await freePort()
  const proc = spawn(bin, ['demo', '--listen', `127.0.0.1:${port}`, '--seed', '1'], {
    cwd: path.resolve(uiDir, '..'),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  })
  let out = ''
  const info = await new Promise<ReturnType<typeof parseDemoOutput>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`demo printed no URL within 60s:\n${out}`)), 60_000)
    const onData = (b: Buffer) => {
      out += b.toString()
      const i = parseDemoOutput(out)
      // Credentials follow the URL closely; give them a moment.
      if (i)
        setTimeout(() => {
          clearTimeout(timer)
          resolve(parseDemoOutput(out))
        }, 300)
    }
    proc.stdout.on('data', onData)
    proc.stderr.on('data', onData)
    proc.once('exit', (code) => reject(new Error(`demo exited with ${code}:\n${out}`)))
  })
  if (!info) throw new Error(`cannot read the demo's URL from:\n${out}`)
  // After the URL is found, keep draining output so the child never blocks.
  proc.stdout.removeAllListeners('data').resume()
  proc.stderr.removeAllListeners('data').resume()
  await waitHealthy(info.url, 30_000)
  await exportInfo(info.url, adminOverride ?? info.admin, readonlyOverride ?? info.readonly)
  return () => {
    try {
      process.kill(-proc.pid!, 'SIGTERM')
    } catch {
      /* already gone */
    }
  }
}
