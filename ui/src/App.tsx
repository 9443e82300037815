import { BrowserRouter, Navigate, Route, Routes } from 'react-router'
import { useMe, useSetupStatus } from './api'
import { ErrorNote } from './components/ErrorNote'
import { Layout } from './components/Layout'
import { LiveProvider } from './live/LiveProvider'
import { DashboardPage } from './pages/DashboardPage'
import { GroupPage } from './pages/GroupPage'
import { LoginPage } from './pages/LoginPage'
import { NotFoundPage } from './pages/NotFoundPage'
import { RunnersPage } from './pages/RunnersPage'
import { SetupPage } from './pages/SetupPage'

/** Setup mode, then login, then the dashboard. */
function Gate() {
  const setup = useSetupStatus()
  const me = useMe()
  if (setup.isLoading || me.isLoading) return <p className="p-4">Loading…</p>
  if (setup.data && !setup.data.configured) return <SetupPage />
  if (me.error)
    return (
      <div className="p-4">
        <ErrorNote error={me.error} />
      </div>
    )
  if (!me.data) return <LoginPage />
  return (
    <LiveProvider enabled>
      <Routes>
        {/* A failed GitHub login lands on /login; once signed in it is gone. */}
        <Route path="login" element={<Navigate to="/" replace />} />
        <Route element={<Layout />}>
          <Route index element={<DashboardPage />} />
          <Route path="runners" element={<RunnersPage />} />
          <Route path="groups/:id" element={<Navigate to="queue" replace />} />
          <Route path="groups/:id/:tab" element={<GroupPage />} />
          <Route path="*" element={<NotFoundPage />} />
        </Route>
      </Routes>
    </LiveProvider>
  )
}

export function App() {
  return (
    <BrowserRouter>
      <Gate />
    </BrowserRouter>
  )
}
