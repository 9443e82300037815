import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts'
import type { HistoryBucket } from '../api/types'

const fmt = (iso: string, short: boolean) => {
  const d = new Date(iso)
  return short
    ? d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })
    : d.toLocaleDateString([], { month: 'short', day: 'numeric', hour: '2-digit' })
}

/** Finished jobs per bucket, stacked by outcome. compact: a sparkline-sized chart for cards. */
export function OutcomesChart({
  buckets,
  compact,
  shortTimes = true,
}: {
  buckets: HistoryBucket[]
  compact?: boolean
  shortTimes?: boolean
}) {
  const total = buckets.reduce((n, b) => n + b.completed + b.failed + b.cancelled, 0)
  return (
    <figure aria-label={`Finished jobs over time: ${total} in range`} className={compact ? 'h-16' : 'h-64'}>
      <ResponsiveContainer width="100%" height="100%">
        <BarChart
          data={buckets}
          margin={compact ? { top: 2, right: 0, bottom: 0, left: 0 } : { top: 8, right: 8, bottom: 0, left: -16 }}
        >
          {!compact && <CartesianGrid strokeDasharray="3 3" vertical={false} />}
          <XAxis dataKey="start" hide={compact} tickFormatter={(v: string) => fmt(v, shortTimes)} fontSize={11} />
          <YAxis hide={compact} allowDecimals={false} fontSize={11} />
          {!compact && <Tooltip labelFormatter={(v) => (typeof v === 'string' ? new Date(v).toLocaleString() : v)} />}
          {!compact && <Legend />}
          <Bar dataKey="completed" stackId="a" fill="#10b981" isAnimationActive={false} />
          <Bar dataKey="failed" stackId="a" fill="#ef4444" isAnimationActive={false} />
          <Bar dataKey="cancelled" stackId="a" fill="#a1a1aa" isAnimationActive={false} />
        </BarChart>
      </ResponsiveContainer>
    </figure>
  )
}
