import { describe, expect, it } from 'vitest'
import { backoffDelay } from './backoff'

const o = { baseMs: 500, maxMs: 30_000 }

describe('backoffDelay', () => {
  it('doubles per attempt between half and all of the cap', () => {
    for (const [attempt, cap] of [
      [0, 500],
      [1, 1000],
      [2, 2000],
      [5, 16_000],
    ] as const) {
      expect(backoffDelay(attempt, { ...o, random: () => 0 })).toBe(cap / 2)
      expect(backoffDelay(attempt, { ...o, random: () => 0.999999 })).toBe(cap)
    }
  })
  it('never exceeds the maximum however many attempts', () => {
    expect(backoffDelay(60, { ...o, random: () => 0.999999 })).toBe(30_000)
    expect(backoffDelay(1e9, { ...o, random: () => 0 })).toBe(15_000)
  })
  it('never collapses to zero, so reconnects cannot spin', () => {
    for (let i = 0; i < 50; i++) expect(backoffDelay(0, o)).toBeGreaterThanOrEqual(250)
  })
  it('treats negative or fractional attempts as the first', () => {
    expect(backoffDelay(-3, { ...o, random: () => 0 })).toBe(250)
    expect(backoffDelay(1.7, { ...o, random: () => 0 })).toBe(500)
  })
})
