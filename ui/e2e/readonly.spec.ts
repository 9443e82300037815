import { expect, test } from '@playwright/test'
import { baseURL, firstGroupId, readonlyUser, open, screenshot, sessionOf } from './helpers'

test.use({ storageState: sessionOf('readonly') })

test('a readonly user sees the queue but no controls that would fail', async ({ page }) => {
  await open(page, '/', readonlyUser().username)
  const group = await firstGroupId(page)
  await page.goto(`${baseURL()}/groups/${group}/queue`)
  await expect(page.getByRole('heading', { name: /Pending/ })).toBeVisible()
  await expect(page.getByTestId('job-card').first()).toBeVisible()
  for (const name of ['Add from template', 'Manual job', 'Pause group', 'Resume group', 'Select all pending']) {
    await expect(page.getByRole('button', { name })).toHaveCount(0)
  }
  await expect(page.getByTestId('drag-handle')).toHaveCount(0)
  await expect(page.getByRole('checkbox')).toHaveCount(0)
  await expect(page.getByRole('button', { name: /^(Cancel|Remove|Pause|Resume|Edit) / })).toHaveCount(0)
  await screenshot(page, 'queue-readonly')

  await page.getByRole('link', { name: 'templates' }).click()
  await expect(page.getByTestId('template-card').first()).toBeVisible()
  await expect(page.getByRole('button', { name: /to queue/ })).toHaveCount(0)
  await expect(page.getByRole('button', { name: 'Reload templates' })).toHaveCount(0)
  await page.getByRole('link', { name: 'Runners' }).click()
  await expect(page.getByTestId('runner-row').first()).toBeVisible()
  await expect(page.getByRole('button', { name: 'Refresh from GitHub' })).toHaveCount(0)
})
