// Shared class names so buttons look alike without a component library.
export const btn = 'inline-flex items-center gap-1 rounded border px-2.5 py-1 text-sm font-medium disabled:opacity-50'
export const btnPrimary = `${btn} border-indigo-600 bg-indigo-600 text-white hover:bg-indigo-700`
export const btnSecondary = `${btn} border-slate-300 bg-white text-slate-800 hover:bg-slate-50`
export const btnDanger = `${btn} border-red-600 bg-white text-red-700 hover:bg-red-50`
export const input = 'w-full rounded border border-slate-300 px-2 py-1 text-sm'
