#!/usr/bin/env bash
# npm test: every check and every test tier, as CI runs them.
#   static: types, lint, formatting, circular imports  ->  build  ->  unit  ->  integration  ->  end-to-end
# Needs PostgreSQL on 127.0.0.1:5432 and Redis on 127.0.0.1:6379 (the S3-protocol server is started
# by the tests themselves).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
step() { printf '\n=== %s ===\n' "$1"; }
step "type check";       npm run --silent typecheck
step "lint";             npm run --silent lint
step "formatting";       npm run --silent format:check
step "circular imports"; npm run --silent circular
step "build";            npm run --silent build
step "tests (unit, integration, e2e)"
npx jest --ci --maxWorkers=2 "$@"
