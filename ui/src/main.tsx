import { MutationCache, QueryCache, QueryClient, QueryClientProvider } from '@tanstack/react-query'
import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { ApiError, setApiBase } from './api'
import { keys } from './api/keys'
import { App } from './App'
import { loadConfig } from './config'
import './index.css'

// Live updates come over the WebSocket, so no interval polling; data is
// refetched on focus only when a reconnect may have missed events.
// A 401 anywhere means the session ended (expired, logged out elsewhere, or
// the user was removed from the config): show the login form.
const onError = (e: unknown) => {
  if (e instanceof ApiError && e.status === 401) queryClient.setQueryData(keys.me, null)
}

const queryClient: QueryClient = new QueryClient({
  queryCache: new QueryCache({ onError }),
  mutationCache: new MutationCache({ onError }),
  defaultOptions: {
    // 4xx answers will not change on retry; 5xx and network errors get one more try.
    queries: {
      staleTime: 30_000,
      refetchOnWindowFocus: false,
      retry: (n, e) => n < 1 && !(e instanceof ApiError && e.status < 500),
    },
  },
})

// loadConfig never rejects: a missing or malformed config.json means same origin.
void loadConfig().then((cfg) => {
  setApiBase(cfg.apiUrl)
  createRoot(document.getElementById('root')!).render(
    <StrictMode>
      <QueryClientProvider client={queryClient}>
        <App />
      </QueryClientProvider>
    </StrictMode>,
  )
})
