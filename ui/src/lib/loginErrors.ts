// The codes the server's GitHub login puts in `/login?error=<code>` when it
// sends a browser back after a failed login (server/openapi.yaml, GET
// /auth/github/callback), as sentences a person can act on.
const messages: Record<string, string> = {
  state_mismatch:
    'The GitHub sign-in could not be matched to this browser (it was started elsewhere or took too long). Please try again.',
  not_mapped:
    'Your GitHub account has no dispatchoor role. Ask an administrator to grant your user or organization access.',
  name_taken:
    'Your GitHub login is the name of a password user here, so it cannot sign in through GitHub. Sign in with your password instead.',
  oauth_denied: 'GitHub did not authorize the sign-in (it was cancelled or declined).',
  github_error: 'GitHub could not be asked who you are. Please try again in a moment.',
  invalid: 'GitHub sent back an incomplete sign-in. Please try again.',
  not_enabled: 'Sign-in with GitHub is not enabled on this server.',
  unavailable: 'The server is still starting. Please try again in a moment.',
  internal: 'Something went wrong on the server while signing you in with GitHub. Please try again.',
}

/**
 * The sentence for a login error code, or null when there is none. An
 * unknown code (a newer server) still says that GitHub sign-in failed.
 */
export function loginErrorMessage(code: string | null | undefined): string | null {
  if (!code) return null
  return Object.hasOwn(messages, code) ? messages[code] : `Sign-in with GitHub failed (${code}).`
}
