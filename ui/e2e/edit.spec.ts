import { expect, test, type Page } from '@playwright/test'
import { baseURL, firstGroupId, live, open, pendingOrder, screenshot, sessionOf } from './helpers'

test.use({ storageState: sessionOf('admin') })

async function withPausedGroup(page: Page, fn: () => Promise<void>) {
  const pause = page.getByRole('button', { name: 'Pause group' })
  if (await pause.isVisible()) await pause.click()
  await expect(page.getByRole('button', { name: 'Resume group' })).toBeVisible()
  try {
    await fn()
  } finally {
    await page.getByRole('button', { name: 'Resume group' }).click()
    await expect(page.getByRole('button', { name: 'Pause group' })).toBeVisible()
  }
}

test('edit a pending job, then pause two jobs at once with a bulk action', async ({ page }) => {
  await open(page, '/')
  const group = await firstGroupId(page)
  await page.goto(`${baseURL()}/groups/${group}/queue`)
  await live(page)
  await withPausedGroup(page, async () => {
    for (let i = (await pendingOrder(page)).length; i < 2; i++) {
      await page.getByRole('button', { name: 'Add from template' }).click()
      await page.getByRole('dialog').getByRole('button', { name: 'Add to queue' }).click()
      await expect(page.getByRole('dialog')).toBeHidden()
    }
    await expect.poll(async () => (await pendingOrder(page)).length).toBeGreaterThanOrEqual(2)
    const [a, b] = await pendingOrder(page)

    const card = page.locator(`[data-job-id="${a}"]`)
    await card.getByRole('button', { name: /^Edit / }).click()
    const dialog = page.getByRole('dialog')
    await dialog.getByLabel('Ref').fill('release-1')
    await dialog.getByRole('button', { name: 'Add input' }).click()
    await dialog.getByPlaceholder('name').last().fill('edited')
    await dialog.getByPlaceholder('value').last().fill('yes')
    await screenshot(page, 'job-detail-dialog')
    await dialog.getByRole('button', { name: 'Save' }).click()
    await expect(dialog).toBeHidden()
    await expect(card).toContainText('ref release-1')
    await expect(card.getByRole('list', { name: 'Inputs' })).toContainText('edited=yes')

    await card.getByRole('checkbox', { name: /^Select / }).check()
    await page
      .locator(`[data-job-id="${b}"]`)
      .getByRole('checkbox', { name: /^Select / })
      .check()
    const bar = page.getByRole('toolbar', { name: 'Bulk actions' })
    await expect(bar).toContainText('2 selected')
    await screenshot(page, 'bulk-bar')
    await bar.getByRole('button', { name: 'Pause', exact: true }).click()
    for (const id of [a, b]) {
      await expect(page.locator(`[data-job-id="${id}"]`).getByText('paused', { exact: true })).toBeVisible()
    }
    await page.reload()
    for (const id of [a, b]) {
      await expect(page.locator(`[data-job-id="${id}"]`).getByText('paused', { exact: true })).toBeVisible()
      await page
        .locator(`[data-job-id="${id}"]`)
        .getByRole('button', { name: /^Resume / })
        .click()
      await expect(page.locator(`[data-job-id="${id}"]`).getByText('paused', { exact: true })).toHaveCount(0)
    }
  })
})
