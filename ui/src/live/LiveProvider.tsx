import { useQueryClient } from '@tanstack/react-query'
import { createContext, useContext, useEffect, useMemo, useState, type ReactNode } from 'react'
import { wsUrl } from '../api/client'
import { applyMessage } from './apply'
import { LiveSocket, type LiveState } from './socket'

interface LiveContextValue {
  state: LiveState
  socket: LiveSocket | null
}

const LiveContext = createContext<LiveContextValue>({ state: 'stopped', socket: null })

/** Keeps one WebSocket open while enabled (logged in) and feeds the query cache. */
export function LiveProvider({ enabled, children }: { enabled: boolean; children: ReactNode }) {
  const qc = useQueryClient()
  const [state, setState] = useState<LiveState>('stopped')
  const socket = useMemo(
    () =>
      new LiveSocket({
        url: wsUrl(),
        onMessage: (m) => applyMessage(qc, m),
        onState: setState,
        onReconnect: () => void qc.invalidateQueries(),
      }),
    [qc],
  )
  useEffect(() => {
    if (!enabled) return
    socket.start()
    return () => socket.stop()
  }, [enabled, socket])
  const value = useMemo(() => ({ state, socket: enabled ? socket : null }), [state, socket, enabled])
  return <LiveContext.Provider value={value}>{children}</LiveContext.Provider>
}

export function useLiveState(): LiveState {
  return useContext(LiveContext).state
}

/** Receives the groups' job_state, queue_update and group_update while mounted. */
export function useLiveGroups(groupIds: readonly string[]): void {
  const { socket } = useContext(LiveContext)
  const key = [...groupIds].sort().join('\n')
  useEffect(() => {
    if (!socket || !key) return
    const offs = key.split('\n').map((id) => socket.subscribe(id))
    return () => offs.forEach((off) => off())
  }, [socket, key])
}
