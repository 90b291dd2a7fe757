#!/usr/bin/env bash
# Fetches the pinned Apache ECharts build from the npm registry into
# charts/assets/echarts.min.js, where go:embed puts it inside the binary so that
# report.html works offline. Third-party code is fetched at build time, never
# committed (charts/assets/.gitignore). Idempotent: a file already in place with
# the pinned checksum is kept without touching the network.
set -euo pipefail

VERSION=5.6.0
# npm's dist.integrity for echarts-5.6.0.tgz (`npm view echarts@5.6.0 dist.integrity`).
TARBALL_SHA512=oTbVTsXfKuEhxftHqL5xprgLoc0k7uScAwtryCgWF6hPYFLRwOUHiFmHGCBKP5NPFNkDVopOieyUqYGH8Fa3kA==
# sha256 of dist/echarts.min.js inside that tarball, to accept a file already fetched.
SCRIPT_SHA256=bf4a223524e40b77c304bec67e1222cf551f14880cf42c69dc046558e11c07b1

root=$(cd "$(dirname "$0")/.." && pwd)
dest="$root/charts/assets/echarts.min.js"

if [ -f "$dest" ] && [ "$(sha256sum "$dest" | cut -d' ' -f1)" = "$SCRIPT_SHA256" ]; then
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "fetch-echarts: npm not found: install Node.js/npm (apt-get install npm) to fetch echarts@$VERSION for the HTML report" >&2
  exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "fetch-echarts: fetching echarts@$VERSION from the npm registry" >&2
tgz=$(cd "$tmp" && npm pack --silent "echarts@$VERSION" 2>/dev/null | tail -n1)
got=$(openssl dgst -sha512 -binary "$tmp/$tgz" | base64 -w0)
if [ "$got" != "$TARBALL_SHA512" ]; then
  echo "fetch-echarts: echarts-$VERSION.tgz has sha512 $got, expected $TARBALL_SHA512: refusing it" >&2
  exit 1
fi
tar -xzf "$tmp/$tgz" -C "$tmp" package/dist/echarts.min.js
got=$(sha256sum "$tmp/package/dist/echarts.min.js" | cut -d' ' -f1)
if [ "$got" != "$SCRIPT_SHA256" ]; then
  echo "fetch-echarts: dist/echarts.min.js has sha256 $got, expected $SCRIPT_SHA256" >&2
  exit 1
fi
mkdir -p "$(dirname "$dest")"
cp "$tmp/package/dist/echarts.min.js" "$dest.tmp"
mv "$dest.tmp" "$dest"
echo "fetch-echarts: wrote $dest (echarts $VERSION, $(wc -c <"$dest") bytes)" >&2
