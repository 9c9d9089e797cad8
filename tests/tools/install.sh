#!/usr/bin/env bash
# Installs the servers the test suites start themselves, into $1 (default
# .tools). Idempotent: installed tools are kept. Each suite that needs a tool
# skips with a clear message when it is missing, so `go test` alone still works.
#
#   versitygw  S3 gateway (signatures and checksums checked), Go:  $TOOLS/bin/versitygw
#   dynalite   DynamoDB on LevelDB, npm:                          $TOOLS/node/node_modules/.bin/dynalite
#   examples/node-clock's packages (nats, ajv), npm ci from its package-lock.json
#              into examples/node-clock/node_modules (tests/polyglot runs it)
#
# Versions are pinned here; bump them deliberately (and rerun the storage tests).
set -euo pipefail
TOOLS=${1:-$(pwd)/.tools}
mkdir -p "$TOOLS/bin"
TOOLS=$(cd "$TOOLS" && pwd)

VERSITYGW_VERSION=v1.8.0
DYNALITE_VERSION=4.0.0

log() { echo "install.sh: $*" >&2; }

# versitygw: a stamp file records which version the binary was built from.
install_versitygw() {
	local stamp="$TOOLS/bin/.versitygw-$VERSITYGW_VERSION"
	if [[ -x "$TOOLS/bin/versitygw" && -f "$stamp" ]]; then
		return 0
	fi
	if ! command -v go >/dev/null 2>&1; then
		log "go not found: cannot install versitygw (S3 tests will skip)"
		return 0
	fi
	log "installing versitygw $VERSITYGW_VERSION into $TOOLS/bin"
	GOBIN="$TOOLS/bin" CGO_ENABLED=0 go install "github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION"
	rm -f "$TOOLS/bin"/.versitygw-*
	touch "$stamp"
}

# dynalite: npm installs it (and its LevelDB backend) under $TOOLS/node.
install_dynalite() {
	local pkg="$TOOLS/node/node_modules/dynalite/package.json"
	if [[ -f "$pkg" ]] && grep -q "\"version\": \"$DYNALITE_VERSION\"" "$pkg" \
		&& [[ -e "$TOOLS/node/node_modules/.bin/dynalite" ]]; then
		return 0
	fi
	if ! command -v npm >/dev/null 2>&1; then
		log "npm not found: cannot install dynalite (DynamoDB tests will skip)"
		return 0
	fi
	log "installing dynalite $DYNALITE_VERSION into $TOOLS/node"
	mkdir -p "$TOOLS/node"
	# A package.json of our own keeps npm from walking up to a parent project.
	[[ -f "$TOOLS/node/package.json" ]] || echo '{"name":"maria-test-tools","private":true}' >"$TOOLS/node/package.json"
	npm install --prefix "$TOOLS/node" --no-audit --no-fund --loglevel=error --save-exact "dynalite@$DYNALITE_VERSION"
}

# The Node.js processor's packages: npm ci from the committed lock file,
# skipped when node_modules already matches it (npm's own cache makes a
# reinstall work offline once it ran).
install_node_clock() {
	local dir
	dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../examples/node-clock" && pwd)
	if [[ -f "$dir/node_modules/.package-lock.json" ]] && cmp -s <(grep -v '"lockfileVersion"' "$dir/package-lock.json" | grep '"version"') \
		<(grep -v '"lockfileVersion"' "$dir/node_modules/.package-lock.json" | grep '"version"'); then
		return 0
	fi
	if ! command -v npm >/dev/null 2>&1; then
		log "npm not found: cannot install examples/node-clock (the Node.js processor test will skip)"
		return 0
	fi
	log "installing examples/node-clock packages"
	(cd "$dir" && npm ci --no-audit --no-fund --prefer-offline --loglevel=error)
}

install_versitygw
install_dynalite
install_node_clock
