// Reads what `dispatchoor demo` prints: the URL and the users to log in as.

export interface DemoUser {
  username: string
  password: string
}

export interface DemoInfo {
  url: string
  admin?: DemoUser
  readonly?: DemoUser
}

const urlRe = /\bhttps?:\/\/(?:127\.0\.0\.1|localhost|\[::1\]|0\.0\.0\.0):\d+\b/

// Accepted credential lines (case-insensitive), e.g.
//   admin: admin / s3cret          readonly: viewer / pw
//   admin login: admin:s3cret      username=admin password=s3cret role=admin
function userFrom(line: string): { role: 'admin' | 'readonly'; user: DemoUser } | null {
  const l = line.trim()
  let m = /\busername[=:\s]+(\S+?)[,;]?\s+password[=:\s]+(\S+?)[,;]?(?:\s+role[=:\s]+(\w+))?\s*$/i.exec(l)
  if (m) {
    const role = (m[3] ?? (/readonly|read-only|viewer/i.test(l) ? 'readonly' : 'admin')).toLowerCase()
    return { role: role === 'admin' ? 'admin' : 'readonly', user: { username: m[1], password: m[2] } }
  }
  m = /^(admin|readonly|read-only|viewer)(?:\s+(?:login|user))?\s*[:=]?\s+([^\s/:]+)\s*[/:]\s*(\S+)$/i.exec(l)
  if (m) {
    const role = m[1].toLowerCase() === 'admin' ? 'admin' : 'readonly'
    return { role, user: { username: m[2], password: m[3] } }
  }
  return null
}

export function parseDemoOutput(text: string): DemoInfo | null {
  let url = ''
  const info: Omit<DemoInfo, 'url'> = {}
  for (const line of text.split('\n')) {
    const u = urlRe.exec(line)
    if (u && !url && !/api\/github|ghsim|simulator/i.test(line)) url = u[0].replace('0.0.0.0', '127.0.0.1')
    const cred = userFrom(line)
    if (cred && !info[cred.role]) info[cred.role] = cred.user
  }
  return url ? { url, ...info } : null
}
