// Every API call of the dashboard goes through these hooks.
export * from './auth'
export * from './groups'
export * from './history'
export * from './queue'
export * from './runners'
export * from './status'
export { ApiError, setApiBase } from './client'
export type * from './types'
