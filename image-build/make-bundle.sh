#!/usr/bin/env bash
# make-bundle.sh OUT_DIR: the Kindling bundle that install-kindling.sh puts in /usr/lib/kindling.
#
#   OUT_DIR/package.json, package-lock.json   the project's, unchanged
#   OUT_DIR/dist/                             compiled TypeScript (entry dist/cli.js)
#   OUT_DIR/webui/dist/                       the setup page, when webui/ has a build
#   OUT_DIR/node_modules/                     production dependencies only
#   OUT_DIR/BUNDLE-INFO                       version, commit, and the arch/ABI of native addons
#
# Native addons (unix-dgram) are built for this machine's node; install-kindling.sh
# rebuilds them inside the target root when they do not load there (an arm64 Pi image).
set -euo pipefail

usage() { echo "usage: $0 OUT_DIR" >&2; exit 2; }
[ $# -eq 1 ] || usage
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

if [ -f "$src/webui/package.json" ]; then
  if [ ! -d "$repo/webui/node_modules" ]; then npm --prefix "$repo/webui" ci --no-audit --no-fund; fi
  [ -e "$src/webui/node_modules" ] || ln -s "$repo/webui/node_modules" "$src/webui/node_modules"
  npm --prefix "$src/webui" run build
  mkdir -p "$out/webui"
  cp -a "$src/webui/dist" "$out/webui/dist"
fi
mkdir -p "$out/docs"
cp "$src/docs/appliance.md" "$out/docs/" 2>/dev/null || true

cd "$out"
# Production dependencies only; no lifecycle scripts of our own package (its `prepare`
# needs TypeScript), then the one native addon built explicitly.
if ! npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error; then
  echo "make-bundle: package-lock.json is out of step with package.json; resolving with npm install" >&2
  npm install --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error
fi
npm rebuild unix-dgram --no-audit --no-fund
node -e "require('./node_modules/unix-dgram')" # fails here if the addon did not build

cat >BUNDLE-INFO <<INFO
name=kindling
version=$(node -p "require('./package.json').version")
commit=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)
built=$(date -u +%Y-%m-%dT%H:%M:%SZ)
node=$(node -p process.version)
arch=$(node -p process.arch)
modules=$(node -p process.versions.modules)
INFO
echo "make-bundle: $(du -sh "$out" | cut -f1) in $out"
