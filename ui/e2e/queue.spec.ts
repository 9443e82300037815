import { expect, test } from '@playwright/test'
import { baseURL, busiestGroupId, firstGroupId, live, pendingOrder, open, screenshot, sessionOf } from './helpers'

test.use({ storageState: sessionOf('admin') })

test('runners and jobs move live without a reload', async ({ page }) => {
  await open(page, '/')
  const group = await busiestGroupId(page)
  await page.goto(`${baseURL()}/groups/${group}/queue`)
  await live(page)
  const snapshot = () =>
    page.evaluate(() =>
      JSON.stringify({
        jobs: [...document.querySelectorAll('[data-testid=job-card]')].map(
          (e) => `${e.getAttribute('data-job-id')}:${e.getAttribute('data-status')}`,
        ),
        runners: [...document.querySelectorAll('[data-testid=runner-row]')].map(
          (e) => `${e.getAttribute('data-runner')}:${e.getAttribute('data-state')}`,
        ),
      }),
    )
  const first = await snapshot()
  await screenshot(page, 'queue')
  // No reload, no polling: only WebSocket messages can change what is shown.
  await expect.poll(snapshot, { timeout: 45_000, intervals: [500] }).not.toBe(first)
  await expect(page.getByTestId('runner-row').first()).toBeVisible()
})

test('drag a job to the top; the order persists after a reload', async ({ page }) => {
  await open(page, '/')
  const group = await firstGroupId(page)
  await page.goto(`${baseURL()}/groups/${group}/queue`)
  await live(page)
  // Pause the group so dispatch does not take jobs out from under the drag.
  const pause = page.getByRole('button', { name: 'Pause group' })
  if (await pause.isVisible()) await pause.click()
  await expect(page.getByRole('button', { name: 'Resume group' })).toBeVisible()
  // Make sure there are at least three pending jobs.
  for (let i = (await pendingOrder(page)).length; i < 3; i++) {
    await page.getByRole('button', { name: 'Add from template' }).click()
    await page.getByRole('dialog').getByRole('button', { name: 'Add to queue' }).click()
    await expect(page.getByRole('dialog')).toBeHidden()
  }
  await expect.poll(async () => (await pendingOrder(page)).length).toBeGreaterThanOrEqual(3)
  try {
    const before = await pendingOrder(page)
    // The third job: close enough to the top that both stay in view.
    const moved = before[2]
    const first = page.getByRole('list', { name: 'Pending jobs' }).getByTestId('job-card').first()
    // Bring the pending list to the top of the viewport so the handle and
    // the drop target are both on screen (mouse coordinates are the viewport's).
    await page.getByRole('heading', { name: /^Pending/ }).evaluate((h) => h.scrollIntoView({ block: 'start' }))
    const handle = page.locator(`[data-job-id="${moved}"]`).getByTestId('drag-handle')
    const hb = (await handle.boundingBox())!
    const tb = (await first.boundingBox())!
    await page.mouse.move(hb.x + hb.width / 2, hb.y + hb.height / 2)
    await page.mouse.down()
    await page.mouse.move(hb.x + hb.width / 2, hb.y - 10, { steps: 5 })
    await page.mouse.move(tb.x + 20, tb.y + 5, { steps: 20 })
    await page.mouse.up()

    await expect.poll(async () => (await pendingOrder(page))[0]).toBe(moved)
    await screenshot(page, 'queue-after-drag')
    await page.reload()
    await expect.poll(async () => (await pendingOrder(page))[0]).toBe(moved)
    // Everything else keeps its relative order (jobs may have been added meanwhile).
    const after = await pendingOrder(page)
    const rest = before.filter((id) => id !== moved)
    expect(after.filter((id) => rest.includes(id))).toEqual(rest.filter((id) => after.includes(id)))

    // Keyboard reorder: move the top job down one with Space, ArrowDown, Space.
    await page.locator(`[data-job-id="${moved}"]`).getByTestId('drag-handle').focus()
    // dnd-kit measures the list after the drag starts; give it a frame or two.
    await page.keyboard.press('Space')
    await page.waitForTimeout(300)
    await page.keyboard.press('ArrowDown')
    await page.waitForTimeout(300)
    await page.keyboard.press('Space')
    await expect.poll(async () => (await pendingOrder(page)).indexOf(moved)).toBe(1)
    await page.reload()
    await expect.poll(async () => (await pendingOrder(page)).indexOf(moved)).toBe(1)
  } finally {
    await page.getByRole('button', { name: 'Resume group' }).click()
    await expect(page.getByRole('button', { name: 'Pause group' })).toBeVisible()
  }
})

test('add a job from a template with an input override', async ({ page }) => {
  await open(page, '/')
  const group = await firstGroupId(page)
  await page.goto(`${baseURL()}/groups/${group}/templates`)
  const card = page.getByTestId('template-card').first()
  await expect(card).toBeVisible()
  await screenshot(page, 'templates')
  await card.getByRole('button', { name: /Add .* to queue/ }).click()
  const dialog = page.getByRole('dialog')
  await expect(dialog).toBeVisible()
  const marker = `e2e-${Date.now()}`
  await dialog.getByRole('button', { name: 'Add input' }).click()
  const names = dialog.getByPlaceholder('name')
  await names.last().fill('e2e_marker')
  await dialog.getByPlaceholder('value').last().fill(marker)
  await dialog.getByLabel('Top of queue').check()
  await screenshot(page, 'add-job-dialog')
  await dialog.getByRole('button', { name: 'Add to queue' }).click()
  await expect(dialog).toBeHidden()
  await page.getByRole('link', { name: 'queue' }).click()
  await expect(page.getByTestId('job-card').filter({ hasText: marker })).toBeVisible()
})

test('cancel a running job and see it cancelled', async ({ page }) => {
  await open(page, '/')
  const group = await busiestGroupId(page)
  await page.goto(`${baseURL()}/groups/${group}/queue`)
  await live(page)
  // A job that has only just started: the demo's runs last 20-90 simulated
  // seconds, and one about to end by itself would win the race with the cancel.
  const runningIds = () =>
    page
      .locator('[data-testid=job-card][data-status=running]')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-job-id')!))
  const seen = new Set(await runningIds())
  let id = ''
  await expect
    .poll(
      async () => {
        id = (await runningIds()).find((x) => !seen.has(x)) ?? ''
        return id
      },
      { timeout: 45_000, intervals: [100] },
    )
    .not.toBe('')
  const running = page.locator(`[data-testid=job-card][data-job-id="${id}"]`)
  await running.getByRole('button', { name: /^Cancel / }).click()
  const dialog = page.getByRole('dialog')
  await expect(dialog).toContainText('cancelled on GitHub')
  await screenshot(page, 'cancel-dialog')
  await dialog.getByRole('button', { name: 'Cancel job' }).click()
  // GitHub confirms the cancel; the job leaves the live queue...
  await expect(page.locator(`[data-testid=job-card][data-job-id="${id}"]`)).toHaveCount(0, { timeout: 30_000 })
  // ...and the history shows it cancelled.
  await page.goto(`${baseURL()}/groups/${group}/history`)
  await expect(page.locator(`[data-testid=history-row][data-job-id="${id}"]`)).toHaveAttribute(
    'data-status',
    'cancelled',
  )
  await page.goto(`${baseURL()}/groups/${group}/history?status=cancelled`)
  await expect(page.locator(`[data-testid=history-row][data-job-id="${id}"]`)).toBeVisible()
  await screenshot(page, 'history')
})
