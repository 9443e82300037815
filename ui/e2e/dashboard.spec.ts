import { expect, test } from '@playwright/test'
import { adminUser, baseURL, busiestGroupId, live, login, open, screenshot, sessionOf } from './helpers'

test('login page, then the dashboard of group cards with live status', async ({ page }) => {
  await page.goto(baseURL() + '/')
  await expect(page.getByRole('heading', { name: 'Sign in to dispatchoor' })).toBeVisible()
  await screenshot(page, 'login')

  await page.getByLabel('Username').fill(adminUser().username)
  await page.getByLabel('Password').fill('definitely-wrong')
  await page.getByRole('button', { name: 'Sign in', exact: true }).click()
  await expect(page.getByRole('alert')).toBeVisible()

  await login(page, adminUser())
  await live(page)
  const cards = page.getByTestId('group-card')
  await expect(cards.first()).toBeVisible()
  await expect(cards.first().getByTestId('count-queued')).toHaveText(/\d+/)
  await expect(cards.first().getByTestId('count-idle')).toHaveText(/\d+/)
  await screenshot(page, 'dashboard')

  await page.getByRole('button', { name: 'Status' }).click()
  const status = page.getByRole('region', { name: 'System status' })
  await expect(status).toContainText('Database')
  await expect(status).toContainText('Rate limits')
  await screenshot(page, 'status-menu')
})

test('a failed GitHub login comes back to the login page as a sentence', async ({ page }) => {
  // A browser opening the callback without a login of its own is sent to
  // {public_url}/login?error=<code> by the server; the page explains it.
  await page.goto(baseURL() + '/api/v1/auth/github/callback?code=x&state=y')
  await expect(page).toHaveURL(/\/login\?error=[a-z_]+$/)
  const code = new URL(page.url()).searchParams.get('error') ?? ''
  const alert = page.getByRole('alert', { name: 'GitHub sign-in error' })
  await expect(alert).toBeVisible()
  await expect(alert).not.toContainText(code)
  await expect(page.getByRole('heading', { name: 'Sign in to dispatchoor' })).toBeVisible()
  await screenshot(page, 'login-github-error')
})

test.describe('logged in', () => {
  test.use({ storageState: sessionOf('admin') })

  test('runners page lists runners with their state', async ({ page }) => {
    await open(page, '/runners')
    await expect(page.getByRole('heading', { name: 'Runners' })).toBeVisible()
    await expect(page.getByTestId('runner-row').first()).toBeVisible()
    await page.getByRole('button', { name: 'Refresh from GitHub' }).click()
    await expect(page.getByRole('button', { name: 'Refresh from GitHub' })).toBeEnabled()
    await expect(page.getByRole('alert')).toHaveCount(0)
    await screenshot(page, 'runners')
  })

  test('works at phone width', async ({ page }) => {
    await page.setViewportSize({ width: 390, height: 844 })
    await open(page, '/')
    await expect(page.getByTestId('group-card').first()).toBeVisible()
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
    expect(overflow).toBeLessThanOrEqual(0)
    await screenshot(page, 'dashboard-phone')
    const group = await busiestGroupId(page)
    await page.goto(`${baseURL()}/groups/${group}/queue`)
    await expect(page.getByRole('heading', { name: /Pending/ })).toBeVisible()
    await expect(page.getByTestId('job-card').first()).toBeVisible()
    const overflowQueue = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
    expect(overflowQueue).toBeLessThanOrEqual(0)
    await screenshot(page, 'queue-phone')
  })
})
