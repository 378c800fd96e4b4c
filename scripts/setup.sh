#!/usr/bin/env bash
# Installs everything Spaces needs on a Debian 12 / Ubuntu machine: the Debian packages the
# mediasoup worker builds against and Chromium (browser tests), the npm dependencies, and the
# mediasoup worker itself. Safe to re-run: each step skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive

step() { printf '\n== %s (%s)\n' "$1" "$(date -u +%H:%M:%S)"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

step "Debian packages (mediasoup worker build dependencies, then scripts/debian-packages.txt)"
packages="$(cat scripts/mediasoup-worker/debian-packages.txt scripts/debian-packages.txt | grep -Ev '^\s*(#|$)' | tr '\n' ' ')"
missing=""
for p in $packages; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "installing:$missing"
  as_root apt-get update -qq
  # shellcheck disable=SC2086
  as_root apt-get install -y -qq --no-install-recommends $missing
else
  echo "all present"
fi

step "npm ci (better-sqlite3 builds from source here; takes a minute or two)"
# This registry serves only this platform's native builds; see the script for why this is needed.
node scripts/lockfile-platform-stubs.mjs
npm ci --no-audit --no-fund

step "mediasoup worker (built once per mediasoup version, then cached outside the checkout)"
bash scripts/mediasoup-worker/build.sh
