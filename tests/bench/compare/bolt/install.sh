#!/usr/bin/env bash
# Installs Bolt-js for `make bench-compare` into $1 (default .tools)/bolt
# from the committed package.json and package-lock.json (versions pinned
# there; bump them deliberately). Idempotent. Without npm it says so and
# the benchmark skips Bolt-js.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
TOOLS=${1:-$(pwd)/.tools}
mkdir -p "$TOOLS/bolt"
DEST=$(cd "$TOOLS/bolt" && pwd)
if cmp -s "$HERE/package-lock.json" "$DEST/package-lock.json" && [[ -d "$DEST/node_modules/@slack/bolt" ]]; then
	exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
	echo "bolt/install.sh: npm not found: bench-compare skips Bolt-js" >&2
	exit 0
fi
echo "bolt/install.sh: installing Bolt-js into $DEST" >&2
cp "$HERE/package.json" "$HERE/package-lock.json" "$DEST/"
npm ci --prefix "$DEST" --no-audit --no-fund --loglevel=error
