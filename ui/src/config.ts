// One build serves any deployment: the API origin comes from config.json
// beside index.html, read at start ("" = the page's own origin).

export interface RuntimeConfig {
  apiUrl: string
}

export function parseConfig(raw: unknown): RuntimeConfig {
  const o = raw && typeof raw === 'object' ? (raw as Record<string, unknown>) : {}
  const apiUrl = typeof o.apiUrl === 'string' ? o.apiUrl.trim() : ''
  if (apiUrl && !/^https?:\/\//.test(apiUrl)) return { apiUrl: '' }
  return { apiUrl }
}

export async function loadConfig(fetchImpl: typeof fetch = fetch): Promise<RuntimeConfig> {
  try {
    const res = await fetchImpl('/config.json', { cache: 'no-cache' })
    if (!res.ok) return { apiUrl: '' }
    return parseConfig(await res.json())
  } catch {
    return { apiUrl: '' }
  }
}
