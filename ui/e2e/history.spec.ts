import { expect, test } from '@playwright/test'
import { baseURL, busiestGroupId, open, screenshot, sessionOf } from './helpers'

test.use({ storageState: sessionOf('admin') })

test('history keeps its range and filters in the URL', async ({ page }) => {
  await open(page, '/')
  const group = await busiestGroupId(page)
  await page.goto(`${baseURL()}/groups/${group}/history`)
  await expect(page.getByRole('figure', { name: /Finished jobs over time/ })).toBeVisible()
  await page.getByRole('button', { name: '7d' }).click()
  await expect(page).toHaveURL(/range=7d/)
  await page.getByRole('checkbox', { name: 'failed' }).check()
  await page.getByLabel('Label (key=value)').fill('el=geth')
  await page.getByRole('button', { name: 'Add filter' }).click()
  await expect(page).toHaveURL(/status=failed/)
  await expect(page).toHaveURL(/label=el%3Dgeth/)
  await page.reload()
  await expect(page.getByRole('button', { name: '7d' })).toHaveAttribute('aria-pressed', 'true')
  await expect(page.getByRole('checkbox', { name: 'failed' })).toBeChecked()
  await expect(page.getByRole('button', { name: 'Remove filter el=geth' })).toBeVisible()
  for (const row of await page.getByTestId('history-row').all()) {
    await expect(row).toHaveAttribute('data-status', 'failed')
  }
  await screenshot(page, 'history-filtered')
})
