import { expect, type Page } from '@playwright/test'
import path from 'node:path'

export const baseURL = () => {
  const u = process.env.E2E_URL
  if (!u) throw new Error('E2E_URL is not set: global setup did not start dispatchoor')
  return u
}

function creds(v: string | undefined, role: string) {
  if (!v)
    throw new Error(`the demo printed no ${role} credentials (set DISPATCHOOR_${role.toUpperCase()}=user:password)`)
  const i = v.indexOf(':')
  return { username: v.slice(0, i), password: v.slice(i + 1) }
}

export const adminUser = () => creds(process.env.E2E_ADMIN, 'admin')
export const readonlyUser = () => creds(process.env.E2E_READONLY, 'readonly')

export async function login(page: Page, user: { username: string; password: string }, to = '/') {
  await page.goto(baseURL() + to)
  await page.getByLabel('Username').fill(user.username)
  await page.getByLabel('Password').fill(user.password)
  await page.getByRole('button', { name: 'Sign in', exact: true }).click()
  await expect(page.getByTestId('whoami')).toContainText(user.username)
}

/** Storage states written by global setup: a logged-in session per role. */
export const sessionOf = (role: 'admin' | 'readonly') =>
  path.join(import.meta.dirname, '..', 'test-results', '.auth', `${role}.json`)

/** Opens a page with the session of the file's storage state. */
export async function open(page: Page, to: string, username?: string) {
  await page.goto(baseURL() + to)
  await expect(page.getByTestId('whoami')).toContainText(username ?? '(')
}

/** Saves a full-page screenshot to ui/test-results/screens/NAME.png. */
export async function screenshot(page: Page, name: string) {
  await page.screenshot({
    path: path.join(import.meta.dirname, '..', 'test-results', 'screens', `${name}.png`),
    fullPage: true,
  })
}

/** The first group on the dashboard; the demo seeds at least one. */
export async function firstGroupId(page: Page): Promise<string> {
  await page.goto(baseURL() + '/')
  const card = page.getByTestId('group-card').first()
  await expect(card).toBeVisible()
  return (await card.getAttribute('data-group'))!
}

/** The group with the most queued and running jobs on the dashboard. */
export async function busiestGroupId(page: Page): Promise<string> {
  await page.goto(baseURL() + '/')
  await expect(page.getByTestId('group-card').first()).toBeVisible()
  const best = await page.getByTestId('group-card').evaluateAll((cards) => {
    const n = (c: Element, k: string) => Number(c.querySelector(`[data-testid=count-${k}]`)?.textContent) || 0
    const scored = cards.map((c) => ({ id: c.getAttribute('data-group')!, score: n(c, 'queued') + n(c, 'running') }))
    scored.sort((a, b) => b.score - a.score)
    return scored[0].id
  })
  return best
}

/** Pending job ids in the order shown. */
export async function pendingOrder(page: Page): Promise<number[]> {
  const cards = page.getByRole('list', { name: 'Pending jobs' }).getByTestId('job-card')
  const ids = await cards.evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-job-id'))))
  return ids
}

export async function live(page: Page) {
  await expect(page.getByTestId('live-indicator')).toHaveAttribute('data-state', 'live')
}
