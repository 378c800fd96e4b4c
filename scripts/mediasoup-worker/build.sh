#!/usr/bin/env bash
# Provides node_modules/mediasoup/worker/out/Release/mediasoup-worker without GitHub or PyPI:
# mediasoup's own postinstall (prebuilt download, then pip + WrapDB) is denied in package.json and
# replaced by this script, which builds the worker from the C++ sources in the npm tarball against
# Debian's system libraries (see /work/shared/MEDIASOUP.md and scripts/mediasoup-worker/README.md).
#
# Order: $MEDIASOUP_WORKER_BIN → cached binary → build (needs debian-packages.txt) → install (copy).
#
# Usage: build.sh [--if-possible] [--rebuild]
#   --if-possible  missing prerequisites or a failed build only warn and exit 0 (used by postinstall,
#                  so that `npm ci` succeeds and the server runs without media).
#   --rebuild      ignore the cached binary and build again.
# Environment: MEDIASOUP_WORKER_BIN, XDG_CACHE_HOME, MEDIASOUP_WORKER_BUILD_JOBS (ninja -j).
set -euo pipefail

if_possible=0
rebuild=0
for arg in "$@"; do
  case "$arg" in
    --if-possible) if_possible=1 ;;
    --rebuild) rebuild=1 ;;
    *) echo "mediasoup-worker: unknown argument '$arg'" >&2; exit 2 ;;
  esac
done

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
mediasoup_dir="$root/node_modules/mediasoup"
target="$mediasoup_dir/worker/out/Release/mediasoup-worker"

say() { echo "mediasoup-worker: $*"; }

# Gives up: a warning and exit 0 under --if-possible, an error and exit 1 otherwise.
give_up() {
  if [ "$if_possible" = 1 ]; then
    say "WARNING: $*"
    say "continuing without a worker (--if-possible): the server runs without media until it is built."
    exit 0
  fi
  say "ERROR: $*" >&2
  exit 1
}

# A binary is usable when it is executable and all its shared libraries resolve on this machine.
usable() {
  [ -x "$1" ] && ! ldd "$1" 2>/dev/null | grep -q "not found"
}

install_binary() {
  local from="$1"
  mkdir -p "$(dirname "$target")"
  if [ -e "$target" ] && cmp -s "$from" "$target"; then
    say "installed binary is up to date: $target"
    return
  fi
  cp "$from" "$target.tmp.$$"
  chmod 755 "$target.tmp.$$"
  mv -f "$target.tmp.$$" "$target"
  say "installed $target"
}

if [ ! -f "$mediasoup_dir/package.json" ]; then
  give_up "node_modules/mediasoup is not installed (run npm ci first)."
fi
version="$(sed -n 's/^[[:space:]]*"version":[[:space:]]*"\([^"]*\)".*/\1/p' "$mediasoup_dir/package.json" | head -n 1)"
[ -n "$version" ] || give_up "cannot read the version of node_modules/mediasoup."

# 1. An explicit binary wins (mediasoup itself also reads MEDIASOUP_WORKER_BIN at load time).
if [ -n "${MEDIASOUP_WORKER_BIN:-}" ]; then
  if usable "$MEDIASOUP_WORKER_BIN"; then
    say "using MEDIASOUP_WORKER_BIN=$MEDIASOUP_WORKER_BIN"
    if [ "$(readlink -f "$MEDIASOUP_WORKER_BIN")" != "$(readlink -f "$target" 2>/dev/null || true)" ]; then
      install_binary "$MEDIASOUP_WORKER_BIN"
    fi
    exit 0
  fi
  say "MEDIASOUP_WORKER_BIN=$MEDIASOUP_WORKER_BIN is not an executable worker; ignoring it here (unset it: mediasoup reads it at run time too)."
fi

cache_dir="${XDG_CACHE_HOME:-$HOME/.cache}/spaces/mediasoup-worker/$version"
cached="$cache_dir/mediasoup-worker"
mkdir -p "$cache_dir"

# Serialise concurrent runs (parallel installs / CI jobs) on the same cache entry.
exec 9>"$cache_dir/.lock"
if command -v flock >/dev/null 2>&1; then
  flock 9
fi

# 2. A binary built earlier for this mediasoup version.
if [ "$rebuild" = 0 ] && usable "$cached"; then
  say "using cached worker for mediasoup $version: $cached"
  install_binary "$cached"
  exit 0
fi

# 3. Build prerequisites.
packages=()
while IFS= read -r line; do
  line="${line%%#*}"
  line="$(echo "$line" | tr -d '[:space:]')"
  [ -n "$line" ] && packages+=("$line")
done <"$here/debian-packages.txt"

if ! command -v dpkg-query >/dev/null 2>&1; then
  give_up "no dpkg-query: this build supports Debian/Ubuntu only. Build the worker another way and set MEDIASOUP_WORKER_BIN, or place it at $target."
fi
missing=()
for pkg in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done
if [ "${#missing[@]}" -gt 0 ]; then
  give_up "cannot build the mediasoup worker; missing Debian packages: ${missing[*]}
  install them with:  apt-get install -y ${packages[*]}
  then run:           bash scripts/mediasoup-worker/build.sh"
fi

# 4. Build in a temporary copy of the worker sources (node_modules stays untouched).
work="$(mktemp -d "${TMPDIR:-/tmp}/mediasoup-worker-build.XXXXXX")"
trap 'rm -rf "$work"' EXIT
log="$work/build.log"
src="$work/worker"
started=$(date +%s)
elapsed() { echo "$(($(date +%s) - started))s"; }

say "building the worker of mediasoup $version from source (about 5 minutes on 2 cores) in $work"
cp -a "$mediasoup_dir/worker" "$src"
rm -rf "$src/out"

# Debian bookworm's meson is 1.0.1; the worker declares >= 1.1.0 but builds with 1.0.1.
sed -i "s/meson_version[[:space:]]*:[[:space:]]*'[^']*'/meson_version: '>= 1.0.0'/" "$src/meson.build"

# Replace every downloaded subproject with a wrapper around the system library: without its
# .wrap file, meson uses subprojects/<name>/ as it is.
rm -f "$src"/subprojects/*.wrap
rm -rf "$src/subprojects/packagefiles"
for wrapper in "$here"/subprojects/*/; do
  name="$(basename "$wrapper")"
  rm -rf "${src:?}/subprojects/$name"
  cp -a "$wrapper" "$src/subprojects/$name"
done

say "[$(elapsed)] meson setup (release, NDEBUG)"
if ! meson setup --buildtype release -Db_ndebug=true --wrap-mode=nodownload \
  "$work/build" "$src" >"$log" 2>&1; then
  tail -n 40 "$log" >&2
  give_up "meson setup failed (log above)."
fi

jobs=()
if [ -n "${MEDIASOUP_WORKER_BUILD_JOBS:-}" ]; then jobs=(-j "$MEDIASOUP_WORKER_BUILD_JOBS"); fi
say "[$(elapsed)] compiling with ninja (progress every 10%)"
# ninja prints "[n/N] ..." per step; show a line each 10% instead of hundreds of lines (a shell
# loop rather than awk, whose input buffering would delay the lines).
progress() {
  local next=0 line step total pct
  while IFS= read -r line; do
    printf '%s\n' "$line" >>"$log"
    [[ "$line" =~ ^\[([0-9]+)/([0-9]+)\] ]] || continue
    step="${BASH_REMATCH[1]}" total="${BASH_REMATCH[2]}"
    pct=$((100 * step / total))
    if [ "$pct" -ge "$next" ]; then
      say "[$(elapsed)] ${pct}% (${step}/${total})"
      while [ "$next" -le "$pct" ]; do next=$((next + 10)); done
    fi
  done
}
if ! ninja -C "$work/build" "${jobs[@]}" mediasoup-worker 2>&1 | progress; then
  tail -n 40 "$log" >&2
  give_up "compilation failed (log above)."
fi
# With pipefail a ninja failure fails the pipeline above; this guards against a missing output.
built="$work/build/mediasoup-worker"
if ! usable "$built"; then
  tail -n 40 "$log" >&2
  give_up "the build produced no usable binary."
fi
say "[$(elapsed)] built $(du -h "$built" | cut -f1) binary"

cp "$built" "$cached.tmp.$$"
chmod 755 "$cached.tmp.$$"
mv -f "$cached.tmp.$$" "$cached"
say "cached $cached"
install_binary "$cached"
