import { describe, expect, it } from 'vitest'
import { runner } from '../test/fixtures'
import { countRunners, hasLabels, willRequeue } from './jobs'

describe('willRequeue', () => {
  it.each([
    [{ auto_requeue: false, requeue_limit: 0, requeue_count: 0 }, false, 'auto-requeue off'],
    [{ auto_requeue: true, requeue_limit: 0, requeue_count: 99 }, true, 'no limit'],
    [{ auto_requeue: true, requeue_limit: 3, requeue_count: 2 }, true, 'one requeue left'],
    [{ auto_requeue: true, requeue_limit: 3, requeue_count: 3 }, false, 'limit used up'],
  ])('%j → %s (%s)', (j, want) => {
    expect(willRequeue(j)).toBe(want)
  })
})

describe('hasLabels', () => {
  it('matches case-insensitively and needs every label', () => {
    expect(hasLabels(['Self-Hosted', 'GPU', 'x'], ['self-hosted', 'gpu'])).toBe(true)
    expect(hasLabels(['self-hosted'], ['self-hosted', 'gpu'])).toBe(false)
    expect(hasLabels([], [])).toBe(true)
  })
})

describe('countRunners', () => {
  it('counts offline runners apart, whether busy or not', () => {
    const c = countRunners([
      runner({ id: 1, busy: true }),
      runner({ id: 2 }),
      runner({ id: 3, status: 'offline', busy: true }),
      runner({ id: 4 }),
    ])
    expect(c).toEqual({ online: 3, idle: 2, busy: 1, offline: 1 })
  })
})
