#!/usr/bin/env bash
# Installs the npm test corpora (GitHub's REST description and webhook
# schemas/examples) into DIR/node_modules when missing or out of date.
set -euo pipefail
dir=${1:?usage: corpora.sh DIR}
stamp="$dir/node_modules/.lock-stamp"
if [ -f "$stamp" ] && cmp -s "$dir/package-lock.json" "$stamp"; then
  exit 0
fi
echo "corpora.sh: npm ci in $dir"
(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
cp "$dir/package-lock.json" "$stamp"
