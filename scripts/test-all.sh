#!/usr/bin/env bash
# npm test: every check and every test tier, as CI runs them.
#   static: types, lint, formatting, circular imports, and the build, two at a time  ->  unit, integration, end-to-end
# Needs PostgreSQL on 127.0.0.1:5432 and Redis on 127.0.0.1:6379 (the S3-protocol server is started
# by the tests themselves).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
step() { printf '\n=== %s ===\n' "$1"; }

# The static checks and the build are independent single-threaded programs: two lanes of about equal
# CPU time use both cores of a 2-core CI machine. Each check's output is printed when all are done, in
# this order; every check runs even when another fails, and any failure stops here, before the tests.
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
check() {
  local name=$1 start=$SECONDS
  shift
  if "$@" >"$logs/$name.log" 2>&1; then
    echo "ok     $name ($((SECONDS - start)) s)"
  else
    echo "FAILED $name ($((SECONDS - start)) s)"
    touch "$logs/$name.failed"
  fi
}
step "type check, lint, formatting, circular imports, build"
(
  check lint npm run --silent lint
  check circular npm run --silent circular
) &
lint_lane=$!
check build npm run --silent build
check typecheck npm run --silent typecheck
check formatting npm run --silent format:check
wait "$lint_lane"
failed=0
for name in typecheck lint formatting circular build; do
  if [ -f "$logs/$name.failed" ] || [ -s "$logs/$name.log" ]; then
    step "$name"
    cat "$logs/$name.log"
  fi
  [ -f "$logs/$name.failed" ] && failed=1
done
[ "$failed" = 0 ] || exit 1

step "tests (unit, integration, e2e)"
npx jest --ci --maxWorkers=2 "$@"
