import { NavLink, Outlet } from 'react-router'
import { useLogout, useMe } from '../api'
import { LiveIndicator } from './LiveIndicator'
import { StatusMenu } from './StatusMenu'

const link = ({ isActive }: { isActive: boolean }) =>
  `rounded px-2 py-1 text-sm ${isActive ? 'bg-white/15 font-semibold' : 'hover:bg-white/10'}`

export function Layout() {
  const me = useMe().data
  const logout = useLogout()
  return (
    <div className="min-h-screen">
      <header className="bg-slate-900 text-white">
        <nav aria-label="Main" className="mx-auto flex max-w-7xl flex-wrap items-center gap-x-3 gap-y-1 px-3 py-2">
          <NavLink to="/" className="mr-2 font-bold tracking-tight">
            dispatchoor
          </NavLink>
          <NavLink to="/" end className={link}>
            Groups
          </NavLink>
          <NavLink to="/runners" className={link}>
            Runners
          </NavLink>
          <span className="flex-1" />
          <LiveIndicator />
          <StatusMenu />
          {me && (
            <span className="text-xs text-slate-300" data-testid="whoami">
              {me.username} ({me.role})
            </span>
          )}
          <button type="button" onClick={() => logout.mutate()} className="rounded px-2 py-1 text-sm hover:bg-white/10">
            Log out
          </button>
        </nav>
      </header>
      <main className="mx-auto max-w-7xl px-3 py-4">
        <Outlet />
      </main>
    </div>
  )
}
