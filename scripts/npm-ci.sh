#!/usr/bin/env bash
# Installs DIR's npm packages exactly as its package-lock.json says, when
# node_modules is missing or was installed from another lock. Used for the
# UI and for the test corpora (GitHub's REST description and webhook
# schemas/examples). Never downloads a browser.
set -euo pipefail
dir=${1:?usage: npm-ci.sh DIR}
stamp="$dir/node_modules/.lock-stamp"
# Some npm packages ship Go code (flatted does); a go.mod makes node_modules
# a module of its own, so the project's ./... never includes it.
fence() { [ -d "$dir/node_modules" ] && printf 'module ignored/node_modules\n' >"$dir/node_modules/go.mod" || true; }
if [ -f "$stamp" ] && cmp -s "$dir/package-lock.json" "$stamp"; then
  fence
  exit 0
fi
echo "npm-ci.sh: npm ci in $dir"
(cd "$dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
cp "$dir/package-lock.json" "$stamp"
fence
