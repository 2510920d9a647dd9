#!/usr/bin/env bash
# npm start: install what is missing, build, then run the whole platform (see scripts/start.ts).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
echo "[modelsmith] building…"
npm run --silent build
exec node dist/scripts/start.js
