#!/usr/bin/env bash
# Makes sure Debian's Chromium is installed for the browser tests; the tests
# never download a browser of their own.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
echo "chromium.sh: installing Debian's chromium"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium
