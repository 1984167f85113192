#!/usr/bin/env bash
# make-bundle.sh [--arch x64|arm64] OUT_DIR: the Kindling bundle that install-kindling.sh
# puts in /usr/lib/kindling.
#
#   OUT_DIR/package.json, package-lock.json   the project's, unchanged
#   OUT_DIR/dist/                             compiled TypeScript (entry dist/cli.js)
#   OUT_DIR/webui/dist/                       the setup page (vite build of webui/)
#   OUT_DIR/node_modules/                     production dependencies only
#   OUT_DIR/BUNDLE-INFO                       version, commit, and the arch/ABI of native addons
#
# The one native addon (unix-dgram) is built here for --arch (default: this machine's):
# natively, or for arm64 on an x64 machine with Debian's cross compiler
# (g++-aarch64-linux-gnu) against this machine's Node headers. Node 20's addon ABI
# (NODE_MODULE_VERSION 115) is the same in every 20.x, so the addon loads with the node
# of a Raspberry Pi OS or Debian trixie root. The image never needs a compiler
# (docs/decisions.md, "The arm64 addon is built outside the image").
set -euo pipefail

usage() { echo "usage: $0 [--arch x64|arm64] OUT_DIR" >&2; exit 2; }
arch=$(node -p process.arch)
if [ "${1:-}" = --arch ]; then
  [ $# -ge 2 ] || usage
  arch=$2
  shift 2
fi
[ $# -eq 1 ] || usage
case $arch in x64 | arm64) ;; *) echo "make-bundle: --arch $arch: expected x64 or arm64" >&2; exit 2 ;; esac
host_arch=$(node -p process.arch)
if [ "$arch" != "$host_arch" ]; then
  if [ "$arch" != arm64 ] || [ "$host_arch" != x64 ]; then echo "make-bundle: cannot build $arch addons on $host_arch" >&2; exit 2; fi
  command -v aarch64-linux-gnu-g++ >/dev/null || { echo "make-bundle: --arch arm64 on x64 needs the cross compiler: apt-get install g++-aarch64-linux-gnu" >&2; exit 1; }
fi
out=$1
repo=$(cd "$(dirname "$0")/.." && pwd)

if [ -e "$out" ] && [ -n "$(ls -A "$out" 2>/dev/null)" ]; then
  echo "make-bundle: $out exists and is not empty; give a new directory" >&2
  exit 1
fi
mkdir -p "$out"
out=$(cd "$out" && pwd)

cd "$repo"
if [ ! -d node_modules ]; then npm ci --no-audit --no-fund; fi
# The sources: the last commit (default, so a bundle is reproducible and half-edited
# files beside it do not leak in), or the work tree with KINDLING_BUNDLE_FROM=worktree.
src=$repo
if [ "${KINDLING_BUNDLE_FROM:-commit}" = commit ] && git -C "$repo" rev-parse --verify -q HEAD >/dev/null; then
  src=$(mktemp -d)
  trap 'rm -rf "$src"' EXIT
  git -C "$repo" archive HEAD | tar -x -C "$src"
  ln -s "$repo/node_modules" "$src/node_modules"
fi
# Compile straight into the bundle: the work tree's dist/ is left alone.
(cd "$src" && npx tsc -p tsconfig.build.json --outDir "$out/dist" --sourceMap false)
cp "$src/package.json" "$src/package-lock.json" "$out/"

# The setup page, built with the project's own vite (its packages are the root's dev
# dependencies). A bundle without it would answer 503 at https://kindling.local/.
(cd "$src" && npx vite build --config webui/vite.config.ts --outDir "$out/webui/dist" --emptyOutDir --logLevel warn)
[ -f "$out/webui/dist/index.html" ] || { echo "make-bundle: the setup page did not build (no webui/dist/index.html)" >&2; exit 1; }
mkdir -p "$out/docs"
cp "$src/docs/appliance.md" "$out/docs/" 2>/dev/null || true

cd "$out"
# Production dependencies only; no lifecycle scripts of our own package (its `prepare`
# needs TypeScript), then the one native addon built explicitly.
if ! npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error; then
  echo "make-bundle: package-lock.json is out of step with package.json; resolving with npm install" >&2
  npm install --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error
fi
if [ "$arch" = "$host_arch" ]; then
  npm rebuild unix-dgram --no-audit --no-fund
  node -e "require('./node_modules/unix-dgram')" # fails here if the addon did not build
else
  # npm's own node-gyp, pointed at the cross compiler; the headers are the ones npm
  # already builds against (npm config nodedir), so nothing is downloaded.
  node_gyp=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")/node_modules/node-gyp/bin/node-gyp.js
  nodedir=$(npm config get nodedir)
  [ -n "$nodedir" ] && [ "$nodedir" != undefined ] || nodedir=$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")
  (cd node_modules/unix-dgram && rm -rf build &&
    CC=aarch64-linux-gnu-gcc CXX=aarch64-linux-gnu-g++ node "$node_gyp" rebuild --arch=arm64 --nodedir="$nodedir" --loglevel=warn)
  file node_modules/unix-dgram/build/Release/unix_dgram.node | grep -q 'ARM aarch64' || { echo "make-bundle: the cross-built addon is not arm64" >&2; exit 1; }
  rm -rf node_modules/unix-dgram/build/Release/obj.target node_modules/unix-dgram/build/Release/.deps
fi

cat >BUNDLE-INFO <<INFO
name=kindling
version=$(node -p "require('./package.json').version")
commit=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)
built=$(date -u +%Y-%m-%dT%H:%M:%SZ)
node=$(node -p process.version)
arch=$arch
modules=$(node -p process.versions.modules)
INFO
echo "make-bundle: $(du -sh "$out" | cut -f1) in $out"
