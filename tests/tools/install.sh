#!/usr/bin/env bash
# Installs the servers the test suites start themselves, into $1 (default
# .tools). Idempotent: installed tools are kept. Each suite that needs a tool
# skips with a clear message when it is missing, so `go test` alone still works.
set -euo pipefail
TOOLS=${1:-$(pwd)/.tools}
mkdir -p "$TOOLS/bin"
